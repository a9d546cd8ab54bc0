"""Data disks made from volume snapshots (createVolume snapshotid) through the `cs` client on
every leg: the new disk takes the snapshot's size, its volume's disk offering (or the one named)
and its zone; it attaches like any data disk; what 4.3 refuses is refused with nothing made."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import _deploy, _host, _place

GIB = 1024**3


def _offering(admin: CloudStack, name: str) -> dict:
    return next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == name)


def _refused(call, code: int, **params) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _snapshot_of_a_data_disk(client: CloudStack, admin: CloudStack, place) -> tuple[dict, dict]:
    """A VM of the client's with a 3 GiB custom data disk attached, and a snapshot of that disk
    taken through its host."""
    vm = _deploy(client, place, place.small, name="app")
    disk = client.createVolume(
        name="data", zoneid=place.zone, diskofferingid=_offering(admin, "Custom")["id"], size=3,
        virtualmachineid=vm["id"], fetch_result=True,
    )["volume"]  # fmt: skip
    snapshot = client.createSnapshot(volumeid=disk["id"], fetch_result=True)["snapshot"]
    assert snapshot["state"] == "BackedUp"
    return vm, snapshot


def test_a_data_disk_made_from_a_snapshot_takes_its_size_offering_and_zone(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    tenant = make_tenant(sandbox, admin)
    user = tenant.client
    vm, snapshot = _snapshot_of_a_data_disk(user, admin, place)

    made = user.createVolume(name="restored", snapshotid=snapshot["id"], fetch_result=True)
    volume = made["volume"]
    assert (volume["size"], volume["zoneid"], volume["diskofferingname"]) == (
        3 * GIB, place.zone, "Custom",
    )  # fmt: skip
    assert (volume["snapshotid"], volume["state"], volume["type"]) == (
        snapshot["id"], "Allocated", "DATADISK",
    )  # fmt: skip
    assert volume["account"] == tenant.username

    attached = user.attachVolume(id=volume["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert (attached["volume"]["state"], attached["volume"]["virtualmachineid"]) == (
        "Ready",
        vm["id"],
    )

    # A disk offering named is taken instead, and the disk is attached in the same job.
    small = _offering(admin, "Small")
    second = user.createVolume(
        snapshotid=snapshot["id"], diskofferingid=small["id"], virtualmachineid=vm["id"],
        fetch_result=True,
    )["volume"]  # fmt: skip
    assert (second["diskofferingid"], second["size"], second["virtualmachineid"]) == (
        small["id"], 3 * GIB, vm["id"],
    )  # fmt: skip
    listed = user.listVolumes(id=second["id"])["volume"][0]
    assert listed["snapshotid"] == snapshot["id"]


def test_an_administrator_makes_a_disk_from_a_snapshot_for_an_account(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    tenant = make_tenant(sandbox, admin)
    _vm, snapshot = _snapshot_of_a_data_disk(tenant.client, admin, place)
    volume = admin.createVolume(
        snapshotid=snapshot["id"], account=tenant.username, domainid=tenant.domain_id,
        fetch_result=True,
    )["volume"]  # fmt: skip
    assert (volume["account"], volume["snapshotid"]) == (tenant.username, snapshot["id"])
    assert [v["id"] for v in tenant.client.listVolumes(id=volume["id"])["volume"]] == [volume["id"]]


def test_what_4_3_refuses_makes_no_volume(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    owner, other = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    _vm, snapshot = _snapshot_of_a_data_disk(owner.client, admin, place)
    before = admin.listVolumes(listall="true")["count"]

    nowhere = "0b7e1a58-5c8e-4a55-9d55-53c1f1a6c9a1"
    assert nowhere in _refused(owner.client.createVolume, 431, snapshotid=nowhere)
    _refused(other.client.createVolume, 531, snapshotid=snapshot["id"])
    text = _refused(owner.client.createVolume, 431)
    assert text == "Either disk Offering Id or snapshot Id must be passed whilst creating volume"
    owner.client.deleteSnapshot(id=snapshot["id"], fetch_result=True)
    assert snapshot["id"] in _refused(owner.client.createVolume, 431, snapshotid=snapshot["id"])
    assert admin.listVolumes(listall="true")["count"] == before
    assert other.client.listVolumes().get("count", 0) == 0


def test_a_root_disks_snapshot_makes_a_data_disk_of_its_size(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small, name="web", **{"details[0].rootdisksize": "8"})
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    snapshot = admin.createSnapshot(volumeid=root["id"], fetch_result=True)["snapshot"]
    volume = admin.createVolume(snapshotid=snapshot["id"], fetch_result=True)["volume"]
    assert (volume["type"], volume["size"], volume["snapshotid"]) == (
        "DATADISK", 8 * GIB, snapshot["id"],
    )  # fmt: skip
    assert volume["diskofferingid"] == root["diskofferingid"]  # as 4.3: its volume's offering
    attached = admin.attachVolume(id=volume["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert attached["volume"]["state"] == "Ready"
