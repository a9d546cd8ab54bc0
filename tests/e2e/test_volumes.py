"""Volumes through the `cs` client: the ROOT disk made with a VM, data disks made, attached,
resized, detached and deleted."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import _deploy, _host, _place

GIB = 1024**3


def _disk_offering(admin: CloudStack, name: str) -> dict:
    offerings = admin.listDiskOfferings()["diskoffering"]
    return next(o for o in offerings if o["name"] == name)


def _volumes(client: CloudStack, **filters) -> list[dict]:
    return client.listVolumes(**filters).get("volume", [])


def test_a_deployed_vm_has_a_root_volume_that_goes_when_it_is_expunged(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small, **{"details[0].rootdisksize": "8"})
    (root,) = _volumes(admin, virtualmachineid=vm["id"])
    assert (root["type"], root["size"], root["state"], root["deviceid"]) == (
        "ROOT",
        8 * GIB,
        "Ready",
        0,
    )
    assert (root["vmname"], root["vmstate"], root["zoneid"]) == (
        vm["name"],
        "Running",
        place.zone,
    )
    assert root["diskofferingid"] == place.small["id"]
    assert root["templateid"] == place.template
    (template,) = admin.listTemplates(templatefilter="all", id=place.template)["template"]
    assert (root["templatename"], root["templatedisplaytext"]) == (
        template["name"],
        template["displaytext"],
    )
    assert "isoid" not in root
    # A renamed template shows under its new name on the disk made from it, and on its VM.
    admin.updateTemplate(id=place.template, name="renamed", displaytext="renamed text")
    (again,) = _volumes(admin, virtualmachineid=vm["id"])
    assert (again["templatename"], again["templatedisplaytext"]) == ("renamed", "renamed text")
    shown = admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert (shown["templatename"], shown["templatedisplaytext"]) == ("renamed", "renamed text")
    # `rootdisksize` asks the same; a `details[0].rootdisksize` beside it wins, as in 4.3.
    sized = _deploy(admin, place, place.small, rootdisksize=9)
    assert _volumes(admin, virtualmachineid=sized["id"])[0]["size"] == 9 * GIB
    both = _deploy(admin, place, place.small, rootdisksize=9, **{"details[0].rootdisksize": "10"})
    assert _volumes(admin, virtualmachineid=both["id"])[0]["size"] == 10 * GIB
    for extra in (sized, both):
        admin.destroyVirtualMachine(id=extra["id"], expunge="true", fetch_result=True)
    other = _deploy(admin, place, place.small)
    admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)
    assert _volumes(admin, id=root["id"]) == []
    listed = admin.listVirtualMachines()
    assert (listed["count"], listed["virtualmachine"][0]["id"]) == (1, other["id"])


def _vm_and_disk(admin: CloudStack) -> tuple[Any, dict, dict]:
    """A place with one host, a VM on it and a new 10 GiB data disk (not attached)."""
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small)
    custom = _disk_offering(admin, "Custom")
    disk = admin.createVolume(
        name="data-1", zoneid=place.zone, diskofferingid=custom["id"], size=10, fetch_result=True
    )["volume"]
    return place, vm, disk


def test_a_data_disk_is_created_attached_resized_detached_and_deleted(sandbox) -> None:
    admin = sandbox.client()
    _, vm, made = _vm_and_disk(admin)
    assert (made["type"], made["size"], made["state"]) == ("DATADISK", 10 * GIB, "Allocated")
    assert "virtualmachineid" not in made
    attached = admin.attachVolume(id=made["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert attached["volume"]["virtualmachineid"] == vm["id"]
    assert (attached["volume"]["deviceid"], attached["volume"]["state"]) == (1, "Ready")
    with pytest.raises(CloudStackApiException) as in_use:
        admin.deleteVolume(id=made["id"])
    assert "not attached" in in_use.value.error["errortext"]
    with pytest.raises(CloudStackApiException) as shrink:
        admin.resizeVolume(id=made["id"], size=5, fetch_result=True)
    assert "shrinkok" in shrink.value.error["errortext"]
    grown = admin.resizeVolume(id=made["id"], size=20, fetch_result=True)["volume"]
    assert grown["size"] == 20 * GIB
    admin.detachVolume(id=made["id"], fetch_result=True)
    assert "virtualmachineid" not in _volumes(admin, id=made["id"])[0]
    admin.deleteVolume(id=made["id"])
    assert _volumes(admin, type="DATADISK") == []


def test_an_expunged_vm_leaves_its_data_disks_detached_and_usable(sandbox) -> None:
    admin = sandbox.client()
    place, vm, disk = _vm_and_disk(admin)
    admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)
    (kept,) = _volumes(admin, id=disk["id"])
    assert "virtualmachineid" not in kept and kept["state"] == "Ready"
    other = _deploy(admin, place, place.small)
    again = admin.attachVolume(id=disk["id"], virtualmachineid=other["id"], fetch_result=True)
    assert (again["volume"]["virtualmachineid"], again["volume"]["deviceid"]) == (other["id"], 1)
    admin.detachVolume(id=disk["id"], fetch_result=True)
    admin.deleteVolume(id=disk["id"])
    assert _volumes(admin, type="DATADISK") == []


def test_a_volume_is_attached_to_one_vm_at_a_time_and_only_in_its_zone(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    first, second = _deploy(admin, place, place.small), _deploy(admin, place, place.small)
    small = _disk_offering(admin, "Small")
    disk = admin.createVolume(
        name="d", zoneid=place.zone, diskofferingid=small["id"], fetch_result=True
    )["volume"]
    assert disk["size"] == 5 * GIB and disk["diskofferingname"] == "Small"
    admin.attachVolume(id=disk["id"], virtualmachineid=first["id"], fetch_result=True)
    with pytest.raises(CloudStackApiException) as refused:
        admin.attachVolume(id=disk["id"], virtualmachineid=second["id"], fetch_result=True)
    assert "already attached" in refused.value.error["errortext"]
    root = _volumes(admin, virtualmachineid=first["id"], type="ROOT")[0]
    with pytest.raises(CloudStackApiException):
        admin.detachVolume(id=root["id"], fetch_result=True)


def test_a_custom_offering_needs_a_size_and_users_see_only_their_volumes(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    custom = _disk_offering(admin, "Custom")
    with pytest.raises(CloudStackApiException) as refused:
        admin.createVolume(name="x", zoneid=place.zone, diskofferingid=custom["id"])
    assert refused.value.error["errorcode"] == 431
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    mine = alice.client.createVolume(
        name="mine", zoneid=place.zone, diskofferingid=custom["id"], size=1, fetch_result=True
    )["volume"]
    assert mine["account"] == alice.username
    assert [v["id"] for v in _volumes(alice.client, keyword="min")] == [mine["id"]]
    assert _volumes(bob.client) == []
    with pytest.raises(CloudStackApiException) as denied:
        bob.client.deleteVolume(id=mine["id"])
    assert denied.value.error["errorcode"] == 531


def test_a_volume_created_for_a_vm_is_attached_to_it_in_the_same_job(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    user = make_tenant(sandbox, admin).client
    vm = _deploy(user, place, place.small)
    small = _disk_offering(admin, "Small")
    disk = {"zoneid": place.zone, "diskofferingid": small["id"]}

    made = user.createVolume(name="d", virtualmachineid=vm["id"], fetch_result=True, **disk)[
        "volume"
    ]
    assert (made["virtualmachineid"], made["deviceid"], made["state"]) == (vm["id"], 1, "Ready")
    assert [v["id"] for v in _volumes(user, virtualmachineid=vm["id"], type="DATADISK")] == [
        made["id"]
    ]

    # A VM of another account: refused before any disk is made.
    theirs = _deploy(admin, place, place.small)
    for client, vm_id, code in ((user, theirs["id"], 531), (admin, vm["id"], 431)):
        with pytest.raises(CloudStackApiException) as refused:
            client.createVolume(name="stray", virtualmachineid=vm_id, **disk)
        assert refused.value.error["errorcode"] == code, refused.value.error
    assert _volumes(admin, name="stray", listall="true") == []


def test_a_volume_carries_the_iops_and_rates_of_its_offering_or_its_request(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    pick = admin.createDiskOffering(
        name="pick", displaytext="Pick", disksize=5, customizediops=True
    )["diskoffering"]
    gold = admin.createDiskOffering(
        name="gold", displaytext="Gold", disksize=5, miniops=500, maxiops=1000
    )["diskoffering"]
    slow = admin.createDiskOffering(
        name="slow", displaytext="Slow", disksize=5, bytesreadrate=2048, iopswriterate=50
    )["diskoffering"]
    user = make_tenant(sandbox, admin).client
    where = {"zoneid": place.zone, "fetch_result": True}

    asked = user.createVolume(
        name="a", diskofferingid=pick["id"], miniops=200, maxiops=400, **where
    )
    assert (asked["volume"]["miniops"], asked["volume"]["maxiops"]) == (200, 400)
    offered = user.createVolume(name="g", diskofferingid=gold["id"], **where)["volume"]
    assert (offered["miniops"], offered["maxiops"]) == (500, 1000)
    throttled = user.createVolume(name="s", diskofferingid=slow["id"], **where)["volume"]
    assert (throttled["diskBytesReadRate"], throttled["diskIopsWriteRate"]) == (2048, 50)
    assert "diskIopsReadRate" not in throttled and "miniops" not in throttled
    listed = {v["name"]: v for v in _volumes(user)}
    assert (listed["a"]["miniops"], listed["g"]["maxiops"]) == (200, 1000)
    assert listed["s"]["diskBytesReadRate"] == 2048

    for offering, iops in ((gold, (1, 2)), (slow, (1, 2)), (pick, (400, 200)), (pick, (0, 5))):
        with pytest.raises(CloudStackApiException) as refused:
            user.createVolume(
                name="bad", diskofferingid=offering["id"], miniops=iops[0], maxiops=iops[1], **where
            )
        assert refused.value.error["errorcode"] == 431
    assert "bad" not in {v["name"] for v in _volumes(user)}

    # A VM's ROOT disk takes its compute offering's rates, a data disk made with it its own.
    rated = admin.createServiceOffering(
        name="rated", displaytext="Rated", cpunumber=1, cpuspeed=500, memory=512,
        iopsreadrate=300,
    )["serviceoffering"]  # fmt: skip
    vm = _deploy(user, place, rated, diskofferingid=slow["id"])
    disks = {v["type"]: v for v in _volumes(user, virtualmachineid=vm["id"])}
    assert disks["ROOT"]["diskIopsReadRate"] == 300
    assert disks["DATADISK"]["diskBytesReadRate"] == 2048
    attached = user.attachVolume(id=offered["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert attached["volume"]["miniops"] == 500
    # Resized to another offering, a disk takes its rates and keeps its IOPS (as 4.3).
    bigger = admin.createDiskOffering(
        name="bigger", displaytext="Bigger", disksize=10, iopsreadrate=70
    )["diskoffering"]
    grown = user.resizeVolume(id=offered["id"], diskofferingid=bigger["id"], fetch_result=True)
    assert (grown["volume"]["miniops"], grown["volume"]["diskIopsReadRate"]) == (500, 70)


def test_a_deploy_asks_iops_for_its_root_disk_of_an_offering_that_lets_it(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    picked = admin.createServiceOffering(
        name="pick", displaytext="Pick", cpunumber=1, cpuspeed=500, memory=512,
        customizediops=True,
    )["serviceoffering"]  # fmt: skip
    iops = {"details[0].minIops": "300", "details[0].maxIops": "600"}
    vm = _deploy(admin, place, picked, **iops)
    (root,) = _volumes(admin, virtualmachineid=vm["id"])
    assert (root["miniops"], root["maxiops"]) == (300, 600)
    unasked = _deploy(admin, place, picked)
    assert "miniops" not in _volumes(admin, virtualmachineid=unasked["id"])[0]
    before = admin.listVirtualMachines()["count"]
    for offering, details in (
        (place.small, iops),  # its IOPS are not customizable
        (picked, {"details[0].minIops": "600", "details[0].maxIops": "300"}),
        (picked, {"details[0].minIops": "many", "details[0].maxIops": "600"}),
    ):
        with pytest.raises(CloudStackApiException) as refused:
            _deploy(admin, place, offering, **details)
        assert refused.value.error["errorcode"] == 431
    assert admin.listVirtualMachines()["count"] == before
