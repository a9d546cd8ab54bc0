"""Identities provisioned from outside through the `cs` client: keys set on a user by hand, and
accounts, users and domains created with the ids another system gave them."""

from __future__ import annotations

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


def test_keys_set_by_hand_sign_at_once_and_the_old_ones_stop(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    key, secret = f"key-{uuid.uuid4().hex}", f"secret-{uuid.uuid4().hex}"
    answer = admin.updateUser(id=tenant.user_id, userapikey=key, usersecretkey=secret)["user"]
    assert answer["apikey"] == key and "secretkey" not in answer
    own = sandbox.client(key, secret).listUsers()["user"]
    assert [u["id"] for u in own] == [tenant.user_id]
    _refused(tenant.client.listUsers, 401)
    assert admin.getUser(userapikey=key)["user"]["id"] == tenant.user_id
    assert secret not in sandbox.output()


def test_an_api_key_held_by_another_user_is_refused_and_changes_nothing(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    alices_key = admin.listUsers(id=alice.user_id)["user"][0]["apikey"]
    bobs_key = admin.listUsers(id=bob.user_id)["user"][0]["apikey"]
    _refused(admin.updateUser, 431, id=bob.user_id, userapikey=alices_key, usersecretkey="s")
    shared = f"key-{uuid.uuid4().hex}"
    admin.updateUser(id=alice.user_id, userapikey=shared, usersecretkey="one")
    _refused(admin.updateUser, 431, id=bob.user_id, userapikey=shared, usersecretkey="two")
    assert admin.listUsers(id=bob.user_id)["user"][0]["apikey"] == bobs_key
    assert bob.client.listUsers()["user"][0]["id"] == bob.user_id


def test_keys_come_as_a_pair_and_a_user_sets_no_keys_for_another_account(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.client()
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    _refused(admin.updateUser, 431, id=alice.user_id, userapikey=f"k-{uuid.uuid4().hex}")
    _refused(admin.updateUser, 431, id=alice.user_id, usersecretkey="only-a-secret")
    key = f"k-{uuid.uuid4().hex}"
    _refused(bob.client.updateUser, 531, id=alice.user_id, userapikey=key, usersecretkey="s")
    assert alice.client.listUsers()["user"][0]["id"] == alice.user_id
    _refused(admin.getUser, 431, userapikey=key)


def test_fresh_keys_free_the_key_set_by_hand_for_another_user(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    key = f"key-{uuid.uuid4().hex}"
    admin.updateUser(id=alice.user_id, userapikey=key, usersecretkey="first")
    admin.registerUserKeys(id=alice.user_id)
    admin.updateUser(id=bob.user_id, userapikey=key, usersecretkey="second")
    assert sandbox.client(key, "second").listUsers()["user"][0]["id"] == bob.user_id


def _new_account(admin: Any, sandbox: Sandbox, **ids: str) -> dict:
    name = f"prov-{uuid.uuid4().hex[:8]}"
    return admin.createAccount(
        accounttype=0,
        username=name,
        password=uuid.uuid4().hex,
        email=f"{name}@example.org",
        firstname="Given",
        lastname="Ids",
        domainid=sandbox.domain_id,
        **ids,
    )


def test_an_account_and_its_user_take_the_ids_a_provisioning_system_gave(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.client()
    account_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
    made = _new_account(admin, sandbox, accountid=account_id, userid=user_id)["account"]
    assert (made["id"], made["user"][0]["id"]) == (account_id, user_id)
    assert admin.listAccounts(id=account_id)["account"][0]["name"] == made["name"]
    assert admin.listUsers(id=user_id)["user"][0]["accountid"] == account_id
    second_id = str(uuid.uuid4())
    second = admin.createUser(
        account=made["name"],
        domainid=sandbox.domain_id,
        username=f"second-{uuid.uuid4().hex[:6]}",
        password=uuid.uuid4().hex,
        email="second@example.org",
        firstname="Second",
        lastname="User",
        userid=second_id,
    )["user"]
    assert (second["id"], second["accountid"]) == (second_id, account_id)
    keys = admin.registerUserKeys(id=second_id)["userkeys"]
    own = sandbox.client(keys["apikey"], keys["secretkey"]).listAccounts()["account"]
    assert [a["id"] for a in own] == [account_id]


def test_an_id_the_cloud_has_had_or_that_is_no_uuid_is_refused(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    for taken in (tenant.account_id, tenant.user_id, sandbox.domain_id):
        _refused(_new_account, 431, admin=admin, sandbox=sandbox, accountid=taken)
        _refused(_new_account, 431, admin=admin, sandbox=sandbox, userid=taken)
    removed = _new_account(admin, sandbox)["account"]
    admin.deleteAccount(id=removed["id"])
    _refused(_new_account, 431, admin=admin, sandbox=sandbox, accountid=removed["id"])
    same = str(uuid.uuid4())
    _refused(_new_account, 431, admin=admin, sandbox=sandbox, accountid=same, userid=same)
    for bad in ("not-a-uuid", same.upper()):
        _refused(_new_account, 431, admin=admin, sandbox=sandbox, accountid=bad)
    _refused(
        admin.createUser,
        431,
        account=tenant.username,
        domainid=sandbox.domain_id,
        username="again",
        password=uuid.uuid4().hex,
        email="again@example.org",
        firstname="A",
        lastname="B",
        userid=tenant.user_id,
    )
    assert admin.listAccounts(id=same).get("account") is None
    names = [
        u["username"]
        for u in admin.listUsers(account=tenant.username, domainid=sandbox.domain_id)["user"]
    ]
    assert names == [tenant.username]


def test_a_domain_takes_the_id_it_was_given_once(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    wanted = str(uuid.uuid4())
    made = admin.createDomain(name="given", parentdomainid=sandbox.domain_id, domainid=wanted)
    assert made["domain"]["id"] == wanted
    assert admin.listDomains(id=wanted)["domain"][0]["name"] == "given"
    _refused(
        admin.createDomain, 431, name="again", parentdomainid=sandbox.domain_id, domainid=wanted
    )
    _refused(admin.createDomain, 431, name="bad", parentdomainid=sandbox.domain_id, domainid="x")
    assert "domain" not in admin.listDomainChildren(id=sandbox.domain_id, name="again")


def _details(pairs: dict[str, str]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for index, (key, value) in enumerate(pairs.items()):
        flat[f"accountdetails[{index}].key"] = key
        flat[f"accountdetails[{index}].value"] = value
    return flat


def test_account_details_are_kept_per_account_and_listed(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    made = _new_account(admin, sandbox, **_details({"billing": "b-42", "tier": "gold"}))
    account = made["account"]
    assert account["accountdetails"] == {"billing": "b-42", "tier": "gold"}
    admin.updateAccount(id=account["id"], newname=account["name"], **_details({"tier": "silver"}))
    listed = admin.listAccounts(id=account["id"])["account"][0]
    assert listed["accountdetails"] == {"billing": "b-42", "tier": "silver"}
    plain = make_tenant(sandbox, admin)
    assert "accountdetails" not in admin.listAccounts(id=plain.account_id)["account"][0]
    keys = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    own = sandbox.client(keys["apikey"], keys["secretkey"]).listAccounts()["account"]
    assert own[0]["accountdetails"]["tier"] == "silver"
    assert "accountdetails" not in plain.client.listAccounts()["account"][0]


def test_a_detail_without_its_key_is_refused_and_changes_nothing(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    account = _new_account(admin, sandbox, **_details({"tier": "gold"}))["account"]
    half = {"accountdetails[0].value": "no-key"}
    _refused(admin.updateAccount, 431, id=account["id"], newname="renamed", **half)
    listed = admin.listAccounts(id=account["id"])["account"][0]
    assert (listed["name"], listed["accountdetails"]) == (account["name"], {"tier": "gold"})
    name = f"none-{uuid.uuid4().hex[:6]}"
    _refused(_new_account, 431, admin=admin, sandbox=sandbox, account=name, **half)
    assert admin.listAccounts(name=name, domainid=sandbox.domain_id) == {}
