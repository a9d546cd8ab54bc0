"""Locking an account through the `cs` client: its users are shut out (keys, logins and open
sessions) until the account is enabled again, while what it runs keeps running."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.test_vms import _deploy, _host, _place


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _lock(admin: CloudStack, tenant: Tenant) -> dict:
    name = admin.listAccounts(id=tenant.account_id)["account"][0]["name"]
    return admin.lockAccount(account=name, domainid=tenant.domain_id)["account"]


def _login(server, tenant: Tenant) -> httpx.Response:
    form = {"command": "login", "username": tenant.username, "password": tenant.password}
    return httpx.post(server.url, data={**form, "response": "json"})


def _state(admin: CloudStack, tenant: Tenant) -> str:
    return admin.listAccounts(id=tenant.account_id)["account"][0]["state"]


def test_a_locked_accounts_users_are_shut_out_until_it_is_enabled(server) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    assert _lock(admin, tenant)["state"] == "locked"
    assert _state(admin, tenant) == "locked"
    with pytest.raises(CloudStackApiException) as refused:
        tenant.client.listVirtualMachines()
    assert refused.value.error["errorcode"] == 401
    assert _login(server, tenant).status_code == 401
    assert admin.enableAccount(id=tenant.account_id)["account"]["state"] == "enabled"
    assert tenant.client.listVirtualMachines() == {}
    assert _login(server, tenant).status_code == 200


def test_locking_ends_the_sessions_the_accounts_users_had_open(server) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    with httpx.Client() as browser:
        form = {"command": "login", "username": tenant.username, "password": tenant.password}
        login = browser.post(server.url, data={**form, "response": "json"}).json()["loginresponse"]
        ask = {"command": "listVirtualMachines", "response": "json"}
        ask["sessionkey"] = login["sessionkey"]
        assert browser.get(server.url, params=ask).status_code == 200
        _lock(admin, tenant)
        assert browser.get(server.url, params=ask).status_code == 401
        admin.enableAccount(id=tenant.account_id)
        assert browser.get(server.url, params=ask).status_code == 401


def test_a_locked_accounts_vms_keep_running(server) -> None:
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    tenant = make_tenant(server, admin)
    vm = _deploy(tenant.client, place, place.small)
    _lock(admin, tenant)
    (listed,) = admin.listVirtualMachines(id=vm["id"], listall=True)["virtualmachine"]
    assert listed["state"] == "Running"


def test_locking_twice_leaves_it_locked_and_a_disabled_account_is_not_locked(server) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    _lock(admin, tenant)
    assert _lock(admin, tenant)["state"] == "locked"
    other = make_tenant(server, admin)
    admin.disableAccount(id=other.account_id, lock=False, fetch_result=True)
    name = admin.listAccounts(id=other.account_id)["account"][0]["name"]
    text = _refused(admin.lockAccount, 431, account=name, domainid=other.domain_id)
    assert "disabled" in text
    assert _state(admin, other) == "disabled"


def test_only_administrators_within_reach_lock_and_nobody_locks_their_own_account(server) -> None:
    admin = server.client()
    east = admin.createDomain(name="east")["domain"]
    boss = make_tenant(server, admin, account_type=2, domain_id=east["id"])
    outsider = make_tenant(server, admin)
    insider = make_tenant(server, admin, domain_id=east["id"])
    names = {t.account_id: t.username for t in (boss, outsider, insider)}
    _refused(
        boss.client.lockAccount,
        531,
        account=names[outsider.account_id],
        domainid=outsider.domain_id,
    )
    _refused(insider.client.lockAccount, 432, account=boss.username, domainid=east["id"])
    _refused(boss.client.lockAccount, 531, account=boss.username, domainid=east["id"])
    _refused(admin.lockAccount, 431, account="nobody", domainid=east["id"])
    assert _state(admin, outsider) == _state(admin, boss) == "enabled"
    assert (
        boss.client.lockAccount(account=insider.username, domainid=east["id"])["account"]["state"]
        == "locked"
    )
