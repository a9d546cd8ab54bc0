"""Disabling an account as 4.3 does: its users are shut out at once and its running VMs (its
virtual router too) are stopped before the job ends; an account whose VMs could not all be
stopped is listed as needing cleanup until a later disabling, its own or the account cleanup's,
stops them; locking it leaves its VMs running."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template
from tests.e2e.test_vms import _deploy, _host, _place


def _until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _states(admin, *vms: dict) -> list[str]:
    return [
        admin.listVirtualMachines(id=vm["id"], listall=True)["virtualmachine"][0]["state"]
        for vm in vms
    ]


def _cleanup_required(admin) -> set[str]:
    listed = admin.listAccounts(iscleanuprequired="true", listall="true").get("account", [])
    return {a["id"] for a in listed}


def _account(admin, account_id: str) -> dict:
    return admin.listAccounts(id=account_id)["account"][0]


def _router_states(admin, network: dict) -> list[str]:
    routers = admin.listRouters(networkid=network["id"], listall="true").get("router", [])
    return [router["state"] for router in routers]


def test_disabling_an_account_stops_its_vms_and_shuts_its_users_out(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    alice = make_tenant(sandbox, admin)
    network = alice.client.createNetwork(
        name="web",
        displaytext="web",
        networkofferingid=_offering(alice.client, SOURCE_NAT_OFFERING)["id"],
        zoneid=place.zone,
    )["network"]
    first = _deploy(alice.client, place, place.small, networkids=network["id"])
    second = _deploy(alice.client, place, place.small, networkids=network["id"])
    assert _states(admin, first, second) == ["Running", "Running"]
    assert _router_states(admin, network) == ["Running"]

    job = admin.disableAccount(id=alice.account_id, lock=False, fetch_result=True)

    assert job["account"]["state"] == "disabled"
    assert job["account"]["iscleanuprequired"] is False
    assert _states(admin, first, second) == ["Stopped", "Stopped"]
    assert _router_states(admin, network) == ["Stopped"]
    with pytest.raises(CloudStackApiException) as refused:
        alice.client.listVirtualMachines()
    assert refused.value.error["errorcode"] == 401
    assert alice.account_id not in _cleanup_required(admin)

    # Enabling it lets its users in again and starts nothing.
    assert admin.enableAccount(id=alice.account_id)["account"]["state"] == "enabled"
    assert {vm["state"] for vm in alice.client.listVirtualMachines()["virtualmachine"]} == {
        "Stopped"
    }


def test_an_account_whose_vm_cannot_be_stopped_needs_cleanup(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "h1", cores=8, memory=16)
    bob = make_tenant(sandbox, admin)
    vm = _deploy(bob.client, place, place.small)
    admin.configureSimulator(hostid=host["id"], name="StopCommand", value="enabled:false")
    try:
        job = admin.disableAccount(id=bob.account_id, lock=False, fetch_result=True)
        assert job["account"]["state"] == "disabled"
        assert job["account"]["iscleanuprequired"] is True
        assert bob.account_id in _cleanup_required(admin)
        assert _account(admin, bob.account_id)["iscleanuprequired"] is True
        live = admin.listAccounts(iscleanuprequired="false", listall="true")["account"]
        assert bob.account_id not in {a["id"] for a in live}
        assert _states(admin, vm) == ["Running"]
    finally:
        admin.configureSimulator(hostid=host["id"], name="StopCommand", value="enabled:true")

    # Disabling it again stops what is left and clears the mark.
    admin.disableAccount(id=bob.account_id, lock=False, fetch_result=True)
    assert _states(admin, vm) == ["Stopped"]
    assert bob.account_id not in _cleanup_required(admin)
    assert _account(admin, bob.account_id)["iscleanuprequired"] is False


def test_the_account_cleanup_disables_a_marked_account_again(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "h1", cores=8, memory=16)
    dave = make_tenant(sandbox, admin)
    vm = _deploy(dave.client, place, place.small)
    admin.configureSimulator(hostid=host["id"], name="StopCommand", value="enabled:false")
    admin.updateConfiguration(name="account.cleanup.interval", value="1")
    try:
        admin.disableAccount(id=dave.account_id, lock=False, fetch_result=True)
        assert dave.account_id in _cleanup_required(admin)
        admin.configureSimulator(hostid=host["id"], name="StopCommand", value="enabled:true")
        _until(lambda: _states(admin, vm) == ["Stopped"], "the cleanup to stop the VM")
        _until(lambda: dave.account_id not in _cleanup_required(admin), "the mark to go")
        assert _account(admin, dave.account_id)["state"] == "disabled"
    finally:
        admin.configureSimulator(hostid=host["id"], name="StopCommand", value="enabled:true")
        admin.updateConfiguration(name="account.cleanup.interval", value="86400")


def test_locking_an_account_leaves_its_vms_running(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    carol = make_tenant(sandbox, admin)
    vm = _deploy(carol.client, place, place.small)

    job = admin.disableAccount(id=carol.account_id, lock=True, fetch_result=True)

    assert job["account"]["state"] == "locked"
    assert _states(admin, vm) == ["Running"]
    with pytest.raises(CloudStackApiException) as refused:
        carol.client.listVirtualMachines()
    assert refused.value.error["errorcode"] == 401
    assert carol.account_id not in _cleanup_required(admin)
