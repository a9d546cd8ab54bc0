"""Domain children and users by API key through the `cs` client: a domain's children (or its
whole subtree) filtered by name and keyword, and a root administrator finding the user that holds
an API key, never its secret key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _names(answer: dict) -> list[str]:
    return sorted(d["name"] for d in answer.get("domain", []))


def test_a_domains_children_and_its_subtree(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    top = sandbox.domain_id
    east = admin.createDomain(name="east", parentdomainid=top)["domain"]
    admin.createDomain(name="west", parentdomainid=top)
    admin.createDomain(name="east-a", parentdomainid=east["id"])
    assert _names(admin.listDomainChildren(id=top)) == ["east", "west"]
    assert _names(admin.listDomainChildren(id=top, isrecursive=True)) == [
        "east",
        "east-a",
        "west",
    ]
    assert _names(admin.listDomainChildren(id=top, name="west")) == ["west"]
    assert _names(admin.listDomainChildren(id=top, isrecursive=True, keyword="st-")) == ["east-a"]
    (child,) = admin.listDomainChildren(id=east["id"])["domain"]
    assert child["parentdomainid"] == east["id"]
    assert (child["level"], child["haschild"]) == (east["level"] + 1, False)
    listed = admin.listDomainChildren(id=top, page=1, pagesize=1)
    assert listed["count"] == 2 and len(listed["domain"]) == 1


def test_a_domain_admin_lists_children_below_their_own_domain_only(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    below = admin.createDomain(name="below", parentdomainid=sandbox.domain_id)["domain"]
    admin.createDomain(name="leaf", parentdomainid=below["id"])
    boss = make_tenant(sandbox, admin, account_type=2, domain_id=below["id"])
    assert _names(boss.client.listDomainChildren()) == ["leaf"]
    _refused(boss.client.listDomainChildren, 531, id=sandbox.domain_id)
    user = make_tenant(sandbox, admin)
    _refused(user.client.listDomainChildren, 432)


def test_get_user_finds_the_holder_of_an_api_key_without_its_secret(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    key = admin.listUsers(id=tenant.user_id)["user"][0]["apikey"]
    found = admin.getUser(userapikey=key)["user"]
    assert (found["id"], found["username"]) == (tenant.user_id, tenant.username)
    assert found["apikey"] == key
    assert found["accountid"] == tenant.account_id and "secretkey" not in found
    _refused(admin.getUser, 431, userapikey="no-such-key")
    _refused(admin.getUser, 431)
    _refused(tenant.client.getUser, 432, userapikey=key)


def test_the_cloud_identifier_is_signed_with_the_users_own_secret_key(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    answer = alice.client.getCloudIdentifier(userid=alice.user_id)["cloudidentifier"]
    identifier = answer["cloudidentifier"]
    assert str(uuid.UUID(identifier)) == identifier and answer["userid"] == alice.user_id
    secret = alice.client.secret
    digest = hmac.new(secret.encode(), identifier.encode(), hashlib.sha1).digest()
    assert answer["signature"] == base64.b64encode(digest).decode()
    by_admin = admin.getCloudIdentifier(userid=bob.user_id)["cloudidentifier"]
    assert by_admin["cloudidentifier"] == identifier  # one cloud, one identifier
    assert by_admin["signature"] != answer["signature"]
    _refused(alice.client.getCloudIdentifier, 531, userid=bob.user_id)
    root = sandbox.server.client()
    assert root.listConfigurations(name="cloud.identifier") == {}
    _refused(root.updateConfiguration, 431, name="cloud.identifier", value="mine")
