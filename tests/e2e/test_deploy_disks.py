"""Deploying with a data disk, and installing from an ISO, through the `cs` client.

`deployVirtualMachine diskofferingid=` (with `size` for a custom offering) makes a data disk in
the deploy's commit and attaches it to the new VM; when `templateid` is a bootable ISO the disk
offering gives the VM's blank ROOT disk instead, and the VM boots from the ISO in its CD drive.
The disks are listed with the VM, counted against the owner's limits (a deploy whose disk would
pass one fails with 535 and leaves nothing), billed, and the ROOT disk goes with the VM while the
data disk is detached and stays, as 4.3 does. The simulator's own view of the disk is checked
through its host: a resize of the data disk reaches the VM's host, which refuses one of a disk
it does not have plugged in.
"""

from __future__ import annotations

import uuid
from typing import Any

from cs import CloudStack

from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_isos_and_sharing import UBUNTU, _ready, _refused
from tests.e2e.test_usage_statistics import bill_a_day_later, server_settings
from tests.e2e.test_vms import Place, _host, _place

GIB = 1024**3


def _disk_offering(client: CloudStack, name: str) -> dict:
    return next(o for o in client.listDiskOfferings()["diskoffering"] if o["name"] == name)


def _deploy(client: CloudStack, place: Place, **extra: Any) -> dict:
    params = {"zoneid": place.zone, "serviceofferingid": place.small["id"]}
    params["templateid"] = place.template
    return client.deployVirtualMachine(fetch_result=True, **(params | extra))["virtualmachine"]


def _volumes(client: CloudStack, **filters: Any) -> dict[str, dict]:
    return {v["type"]: v for v in client.listVolumes(**filters).get("volume", [])}


def _iso(client: CloudStack, admin: CloudStack, place: Place, name: str, **extra: Any) -> dict:
    iso = client.registerIso(
        name=name, displaytext=f"{name} installer", url=f"http://images.example.org/{name}.iso",
        zoneid=place.zone, ostypeid=UBUNTU, **extra,
    )["iso"][0]  # fmt: skip
    return _ready(admin, "listIsos", "iso", iso["id"], place.zone)


def _world(sandbox: Sandbox) -> tuple[CloudStack, Place, Tenant]:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, f"h-{uuid.uuid4().hex[:6]}", cores=16, memory=32)
    return admin, place, make_tenant(sandbox, admin)


def test_a_vm_deployed_with_a_data_disk_lists_it_and_keeps_it_detached_when_expunged(
    sandbox: Sandbox,
) -> None:
    admin, place, tenant = _world(sandbox)
    user = tenant.client
    small, custom = _disk_offering(user, "Small"), _disk_offering(user, "Custom")
    vm = _deploy(user, place, name="with-disk", diskofferingid=small["id"])
    assert vm["state"] == "Running"
    disks = _volumes(user, virtualmachineid=vm["id"])
    data = disks["DATADISK"]
    assert (data["size"], data["deviceid"], data["state"]) == (5 * GIB, 1, "Ready")
    assert (data["diskofferingid"], data["vmname"], data["vmstate"]) == (
        small["id"], "with-disk", "Running",
    )  # fmt: skip
    assert disks["ROOT"]["deviceid"] == 0
    # The host has the disk plugged into the VM: it resizes it (a disk it lacks is refused).
    grown = user.resizeVolume(id=data["id"], diskofferingid=custom["id"], size=8, fetch_result=True)
    assert grown["volume"]["size"] == 8 * GIB

    sized = _deploy(user, place, name="sized", diskofferingid=custom["id"], size=7)
    assert _volumes(user, virtualmachineid=sized["id"])["DATADISK"]["size"] == 7 * GIB
    stopped = _deploy(user, place, name="later", diskofferingid=small["id"], startvm=False)
    assert _volumes(user, virtualmachineid=stopped["id"])["DATADISK"]["deviceid"] == 1
    started = user.startVirtualMachine(id=stopped["id"], fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running"

    admin.destroyVirtualMachine(id=vm["id"], expunge=True, fetch_result=True)
    assert user.listVirtualMachines(id=vm["id"]) == {}
    kept = user.listVolumes(id=data["id"])["volume"][0]
    assert "virtualmachineid" not in kept and kept["size"] == 8 * GIB  # 4.3 detaches it
    assert not any(v["type"] == "ROOT" for v in user.listVolumes().get("volume", [])
                   if v["id"] == disks["ROOT"]["id"])  # fmt: skip
    user.deleteVolume(id=data["id"])
    assert user.listVolumes(id=data["id"]) == {}

    bill_a_day_later(server_settings(sandbox.server))
    records = admin.listUsageRecords(
        startdate="2020-01-01", enddate="2099-12-31", type="6", accountid=tenant.account_id
    )["usagerecord"]
    billed = {r["usageid"] for r in records}
    assert data["id"] in billed  # the deploy's data disk is billed as any volume
    sized_disk = _volumes(user, virtualmachineid=sized["id"])["DATADISK"]
    assert any(r["usageid"] == sized_disk["id"] and r["size"] == 7 * GIB for r in records)


def test_a_vm_installed_from_a_bootable_iso_boots_it_onto_a_blank_root_disk(
    sandbox: Sandbox,
) -> None:
    admin, place, tenant = _world(sandbox)
    user = tenant.client
    installer = _iso(user, admin, place, "installer")
    medium, custom = _disk_offering(user, "Medium"), _disk_offering(user, "Custom")
    vm = _deploy(
        user, place, name="from-iso", templateid=installer["id"], diskofferingid=medium["id"],
        hypervisor="simulator",
    )  # fmt: skip
    assert vm["state"] == "Running" and vm["hypervisor"] == "Simulator"
    assert (vm["templateid"], vm["isoid"], vm["isoname"]) == (
        installer["id"], installer["id"], "installer",
    )  # fmt: skip
    listed = user.listVirtualMachines(isoid=installer["id"])["virtualmachine"]
    assert [v["id"] for v in listed] == [vm["id"]]
    disks = _volumes(user, virtualmachineid=vm["id"])
    assert set(disks) == {"ROOT"}  # the disk offering gave the ROOT disk, no data disk
    assert (disks["ROOT"]["size"], disks["ROOT"]["diskofferingid"]) == (20 * GIB, medium["id"])
    # The ROOT disk names the ISO it was installed from, and no template (as 4.3).
    root = disks["ROOT"]
    assert (root["isoid"], root["isoname"], root["isodisplaytext"]) == (
        installer["id"], "installer", installer["displaytext"],
    )  # fmt: skip
    assert "templateid" not in root and "templatename" not in root
    # Restored, it gets a blank ROOT disk of the same size again, the ISO still in its drive.
    restored = user.restoreVirtualMachine(virtualmachineid=vm["id"], fetch_result=True)
    assert (restored["virtualmachine"]["isoid"], restored["virtualmachine"]["state"]) == (
        installer["id"], "Running",
    )  # fmt: skip
    assert _volumes(user, virtualmachineid=vm["id"])["ROOT"]["size"] == 20 * GIB
    # The host has the ISO in the VM's drive: it takes it out.
    ejected = user.detachIso(virtualmachineid=vm["id"], fetch_result=True)["virtualmachine"]
    assert "isoid" not in ejected
    plain = _deploy(user, place, name="plain")
    text = _refused(
        user.restoreVirtualMachine, 431, virtualmachineid=plain["id"], templateid=installer["id"]
    )
    assert "is an ISO" in text

    sized = _deploy(
        user, place, templateid=installer["id"], diskofferingid=custom["id"], size=12,
        hypervisor="Simulator", startvm=False,
    )  # fmt: skip
    assert sized["isoid"] == installer["id"]
    assert _volumes(user, virtualmachineid=sized["id"])["ROOT"]["size"] == 12 * GIB
    started = user.startVirtualMachine(id=sized["id"], fetch_result=True)["virtualmachine"]
    assert (started["state"], started["isoid"]) == ("Running", installer["id"])


def test_bad_disk_and_iso_input_is_refused_and_changes_nothing(sandbox: Sandbox) -> None:
    admin, place, tenant = _world(sandbox)
    user = tenant.client
    data_iso = _iso(user, admin, place, "data", bootable=False)
    installer = _iso(user, admin, place, "setup")
    small, custom = _disk_offering(user, "Small"), _disk_offering(user, "Custom")
    deploy = user.deployVirtualMachine
    base = {"zoneid": place.zone, "serviceofferingid": place.small["id"]}
    template = base | {"templateid": place.template}
    iso = base | {"templateid": installer["id"], "hypervisor": "Simulator"}

    assert "bootable" in _refused(
        deploy, 431, **base, templateid=data_iso["id"], diskofferingid=small["id"],
        hypervisor="Simulator",
    )  # fmt: skip
    assert "requires a disk offering" in _refused(deploy, 431, **iso)
    no_hypervisor = base | {"templateid": installer["id"], "diskofferingid": small["id"]}
    assert "Hypervisor parameter is needed" in _refused(deploy, 431, **no_hypervisor)
    vmware = iso | {"diskofferingid": small["id"], "hypervisor": "VMware"}
    assert "VMware" in _refused(deploy, 431, **vmware)
    assert "requires a custom size" in _refused(
        deploy, 431, **template, diskofferingid=custom["id"]
    )
    assert "requires a custom size" in _refused(deploy, 431, **iso, diskofferingid=custom["id"])
    text = _refused(deploy, 431, **template, diskofferingid=small["id"], size=9)
    assert "does not allow custom size" in text
    _refused(deploy, 431, **template, size=9)  # a size needs a disk offering
    _refused(deploy, 431, **template, diskofferingid=str(uuid.uuid4()))
    _refused(deploy, 431, **template, diskofferingid=custom["id"], size=0)
    assert user.listVirtualMachines() == {}
    assert user.listVolumes() == {}
    assert admin.listVolumes(account=_name(admin, tenant), domainid=tenant.domain_id) == {}


def _name(admin: CloudStack, tenant: Tenant) -> str:
    return str(admin.listAccounts(id=tenant.account_id)["account"][0]["name"])


def test_a_data_disk_past_a_limit_fails_the_deploy_and_leaves_nothing(sandbox: Sandbox) -> None:
    admin, place, tenant = _world(sandbox)
    user = tenant.client
    owner = {"account": _name(admin, tenant), "domainid": tenant.domain_id}
    custom = _disk_offering(user, "Custom")
    admin.updateResourceLimit(resourcetype=2, max=1, **owner)  # the ROOT volume fits, no more
    text = _refused(_deploy, 535, client=user, place=place, diskofferingid=custom["id"], size=5)
    assert "volume" in text
    assert user.listVirtualMachines() == {} and user.listVolumes() == {}

    admin.updateResourceLimit(resourcetype=2, **owner)  # volumes unlimited again
    root_gb = _deploy(user, place, name="probe")["id"]
    root = _volumes(user, virtualmachineid=root_gb)["ROOT"]["size"] // GIB
    admin.destroyVirtualMachine(id=root_gb, expunge=True, fetch_result=True)
    admin.updateResourceLimit(resourcetype=10, max=root + 4, **owner)  # GiB of primary storage
    text = _refused(_deploy, 535, client=user, place=place, diskofferingid=custom["id"], size=5)
    assert "primary" in text
    assert user.listVirtualMachines() == {} and user.listVolumes() == {}
    fits = _deploy(user, place, diskofferingid=custom["id"], size=4)
    assert _volumes(user, virtualmachineid=fits["id"])["DATADISK"]["size"] == 4 * GIB
