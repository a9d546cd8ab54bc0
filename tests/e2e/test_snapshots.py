"""Volume snapshots and VM snapshots through the `cs` client, on the simulator: taken through the
VM's host, listed, reverted to, deleted; failures leave a well-defined state; accounts see only
their own."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import _deploy, _host, _place

GIB = 1024**3


def _snapshots(client: CloudStack, **filters) -> list[dict]:
    return client.listSnapshots(**filters).get("snapshot", [])


def _vm_snapshots(client: CloudStack, **filters) -> list[dict]:
    return client.listVMSnapshot(**filters).get("vmSnapshot", [])


def _root(client: CloudStack, vm_id: str) -> dict:
    return client.listVolumes(virtualmachineid=vm_id, type="ROOT")["volume"][0]


def _failed_job(client: CloudStack, submitted: dict) -> dict:
    with pytest.raises(CloudStackApiException) as failed:
        client.queryAsyncJobResult(jobid=submitted["jobid"], fetch_result=True)
    return failed.value.error


def test_a_volume_snapshot_is_taken_through_the_host_listed_and_deleted(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small, name="web", **{"details[0].rootdisksize": "8"})
    root = _root(admin, vm["id"])
    made = admin.createSnapshot(volumeid=root["id"], name="nightly", fetch_result=True)["snapshot"]
    assert (made["name"], made["state"], made["snapshottype"], made["intervaltype"]) == (
        "nightly",
        "BackedUp",
        "MANUAL",
        "MANUAL",
    )
    assert (made["volumeid"], made["volumename"], made["volumetype"]) == (
        root["id"],
        root["name"],
        "ROOT",
    )
    assert (made["physicalsize"], made["zoneid"], made["account"]) == (
        8 * GIB,
        place.zone,
        sandbox.admin_name,
    )
    unnamed = admin.createSnapshot(volumeid=root["id"], fetch_result=True)["snapshot"]
    assert unnamed["name"].startswith(f"web_{root['name']}_")
    assert [s["id"] for s in _snapshots(admin, volumeid=root["id"], keyword="night")] == [
        made["id"]
    ]
    assert len(_snapshots(admin, snapshottype="MANUAL")) == 2
    assert _snapshots(admin, intervaltype="DAILY") == []
    with pytest.raises(CloudStackApiException) as unknown:
        admin.listSnapshots(snapshottype="WHENEVER")
    assert unknown.value.error["errorcode"] == 431
    admin.deleteSnapshot(id=made["id"], fetch_result=True)
    assert [s["id"] for s in _snapshots(admin)] == [unnamed["id"]]


def test_a_snapshot_of_a_disk_no_host_held_is_recorded_at_once_and_outlives_its_volume(
    sandbox,
) -> None:
    admin = sandbox.client()
    place = _place(admin)
    custom = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    disk = admin.createVolume(
        name="data-1", zoneid=place.zone, diskofferingid=custom["id"], size=3, fetch_result=True
    )["volume"]
    made = admin.createSnapshot(volumeid=disk["id"], fetch_result=True)["snapshot"]
    assert (made["state"], made["physicalsize"]) == ("BackedUp", 3 * GIB)
    admin.deleteVolume(id=disk["id"])
    (kept,) = _snapshots(admin, id=made["id"])
    assert (kept["volumename"], kept["state"]) == ("data-1", "BackedUp")


def test_vm_snapshots_are_created_reverted_to_and_deleted(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small, name="app")
    first = admin.createVMSnapshot(
        virtualmachineid=vm["id"], name="first", snapshotmemory="true", fetch_result=True
    )["vmsnapshot"]
    assert (first["displayname"], first["state"], first["type"], first["current"]) == (
        "first",
        "Ready",
        "DiskAndMemory",
        True,
    )
    assert first["name"].startswith(f"{vm['instancename']}_VS_")
    second = admin.createVMSnapshot(
        virtualmachineid=vm["id"], name="second", description="disks only", fetch_result=True
    )["vmsnapshot"]
    assert (second["type"], second["parent"], second["parentName"]) == (
        "Disk",
        first["id"],
        "first",
    )
    assert [s["current"] for s in _vm_snapshots(admin, id=first["id"])] == [False]
    with pytest.raises(CloudStackApiException) as taken:
        admin.createVMSnapshot(virtualmachineid=vm["id"], name="first")
    assert taken.value.error["errorcode"] == 431

    refused = _failed_job(admin, admin.revertToVMSnapshot(vmsnapshotid=second["id"]))
    assert "holds no memory" in refused["errortext"]
    assert _vm_snapshots(admin, vmsnapshotid=second["id"])[0]["state"] == "Ready"
    reverted = admin.revertToVMSnapshot(vmsnapshotid=first["id"], fetch_result=True)
    assert reverted["virtualmachine"]["state"] == "Running"
    assert _vm_snapshots(admin, vmsnapshotid=first["id"])[0]["current"] is True

    admin.deleteVMSnapshot(vmsnapshotid=second["id"], fetch_result=True)
    assert [s["id"] for s in _vm_snapshots(admin, virtualmachineid=vm["id"])] == [first["id"]]
    admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)
    assert _vm_snapshots(admin) == []


def test_a_stopped_vm_snapshot_has_no_memory_and_a_revert_keeps_it_stopped(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small)
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    with pytest.raises(CloudStackApiException) as memory:
        admin.createVMSnapshot(virtualmachineid=vm["id"], snapshotmemory="true")
    assert "stopped state" in memory.value.error["errortext"]
    made = admin.createVMSnapshot(virtualmachineid=vm["id"], fetch_result=True)["vmsnapshot"]
    assert made["displayname"] == made["name"]
    reverted = admin.revertToVMSnapshot(vmsnapshotid=made["id"], fetch_result=True)
    assert reverted["virtualmachine"]["state"] == "Stopped"


def test_failures_on_the_host_leave_snapshots_in_error_and_deletable(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "broken", extra="&fail=create_snapshot")
    vm = _deploy(admin, place, place.small)
    submitted = admin.createVMSnapshot(virtualmachineid=vm["id"], name="doomed")
    error = _failed_job(admin, submitted)
    assert "create_snapshot fails on broken" in error["errortext"]
    (failed,) = _vm_snapshots(admin, vmsnapshotid=submitted["id"])
    assert (failed["state"], failed["current"]) == ("Error", False)
    # The failure freed the VM for its next task: another attempt is not refused as busy.
    again = _failed_job(admin, admin.createVMSnapshot(virtualmachineid=vm["id"], name="again"))
    assert "active vm snapshot tasks" not in again["errortext"]
    admin.deleteVMSnapshot(vmsnapshotid=failed["id"], fetch_result=True)
    assert [s["displayname"] for s in _vm_snapshots(admin)] == ["again"]

    root = _root(admin, vm["id"])
    taken = admin.createSnapshot(volumeid=root["id"])
    assert "create_snapshot fails on broken" in _failed_job(admin, taken)["errortext"]
    (errored,) = _snapshots(admin, id=taken["id"])
    assert errored["state"] == "Error"
    admin.deleteSnapshot(id=errored["id"], fetch_result=True)
    assert _snapshots(admin) == []


def test_accounts_see_and_touch_only_their_own_snapshots(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small)
    volume = alice.client.createSnapshot(
        volumeid=_root(alice.client, vm["id"])["id"], fetch_result=True
    )["snapshot"]
    whole = alice.client.createVMSnapshot(virtualmachineid=vm["id"], fetch_result=True)[
        "vmsnapshot"
    ]
    assert volume["account"] == alice.username and whole["account"] == alice.username
    assert _snapshots(bob.client) == [] and _vm_snapshots(bob.client) == []
    assert _snapshots(bob.client, listall="true") == []
    for attempt in (
        lambda: bob.client.deleteSnapshot(id=volume["id"]),
        lambda: bob.client.deleteVMSnapshot(vmsnapshotid=whole["id"]),
        lambda: bob.client.revertToVMSnapshot(vmsnapshotid=whole["id"]),
        lambda: bob.client.createVMSnapshot(virtualmachineid=vm["id"]),
    ):
        with pytest.raises(CloudStackApiException) as denied:
            attempt()
        assert denied.value.error["errorcode"] == 531
    assert [s["id"] for s in _snapshots(admin, listall="true", domainid=sandbox.domain_id)] == [
        volume["id"]
    ]
    assert [s["id"] for s in _vm_snapshots(admin, listall="true", domainid=sandbox.domain_id)] == [
        whole["id"]
    ]
    assert _snapshots(admin) == []  # without listall, only the caller's own


def test_quiescing_is_refused_for_volume_snapshots_and_taken_where_the_hypervisor_can(
    sandbox,
) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small, name="db")
    root = _root(admin, vm["id"])
    with pytest.raises(CloudStackApiException) as refused:
        admin.createSnapshot(volumeid=root["id"], quiescevm="true")
    assert (refused.value.error["errorcode"], refused.value.error["errortext"]) == (
        431,
        "can't handle quiescevm equal true for volume snapshot",
    )
    assert _snapshots(admin) == []
    taken = admin.createSnapshot(volumeid=root["id"], quiescevm="false", fetch_result=True)
    assert taken["snapshot"]["state"] == "BackedUp"
    whole = admin.createVMSnapshot(virtualmachineid=vm["id"], quiescevm="true", fetch_result=True)
    assert whole["vmsnapshot"]["state"] == "Ready"  # the simulator has no guest to quiesce


def test_an_administrator_names_the_volumes_account_as_the_snapshots_owner(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    owner, other = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    vm = _deploy(owner.client, place, place.small, name="app")
    root = _root(owner.client, vm["id"])

    made = admin.createSnapshot(
        volumeid=root["id"], account=owner.username, domainid=owner.domain_id, fetch_result=True
    )["snapshot"]
    assert made["account"] == owner.username
    assert [s["id"] for s in _snapshots(owner.client)] == [made["id"]]

    for client, code in ((admin, 431), (owner.client, 531)):
        with pytest.raises(CloudStackApiException) as refused:
            client.createSnapshot(
                volumeid=root["id"], account=other.username, domainid=other.domain_id
            )
        assert refused.value.error["errorcode"] == code
    assert [s["id"] for s in _snapshots(admin, volumeid=root["id"], listall="true")] == [made["id"]]
    assert _snapshots(other.client) == []
