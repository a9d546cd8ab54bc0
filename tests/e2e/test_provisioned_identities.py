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
