"""Deleting an account takes away what it owned, as 4.3's account cleanup does: its running VMs
destroyed and expunged, its data disk, its extra public address, then its network (its VLAN and
source NAT address given back), its template and its affinity group, with nothing left listed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from tests.e2e.factories import make_tenant
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template
from tests.e2e.test_vms import _deploy, _host, _place


def _until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_deleted_account_leaves_nothing_behind(sandbox) -> None:
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
    vm = _deploy(alice.client, place, place.small, networkids=network["id"])
    disk = alice.client.listDiskOfferings()["diskoffering"][0]
    volume = alice.client.createVolume(
        name="data", zoneid=place.zone, diskofferingid=disk["id"], fetch_result=True
    )["volume"]
    alice.client.attachVolume(id=volume["id"], virtualmachineid=vm["id"], fetch_result=True)
    extra = alice.client.associateIpAddress(networkid=network["id"], fetch_result=True)
    template = alice.client.registerTemplate(
        name="mine",
        displaytext="mine",
        hypervisor="Simulator",
        format="QCOW2",
        ostypeid=alice.client.listOsTypes()["ostype"][0]["id"],
        url=f"http://images.example.org/{uuid.uuid4().hex[:8]}.qcow2",
        zoneid=place.zone,
    )["template"][0]
    group = alice.client.createAffinityGroup(
        name="spread", type="host anti-affinity", fetch_result=True
    )["affinitygroup"]
    held = {
        a["ipaddress"]
        for a in admin.listPublicIpAddresses(zoneid=place.zone, listall=True)["publicipaddress"]
    }
    assert extra["ipaddress"]["ipaddress"] in held

    admin.deleteAccount(id=alice.account_id, fetch_result=True)

    def gone() -> bool:
        return (
            admin.listVirtualMachines(id=vm["id"], listall=True) == {}
            and admin.listVolumes(id=volume["id"], listall=True) == {}
            and admin.listNetworks(id=network["id"], listall=True) == {}
            and admin.listTemplates(templatefilter="all", id=template["id"]) == {}
            and admin.listAffinityGroups(id=group["id"], listall=True) == {}
        )

    _until(gone, "what the account owned to be taken away")
    left = admin.listPublicIpAddresses(zoneid=place.zone, listall=True).get("publicipaddress", [])
    assert not held & {a["ipaddress"] for a in left}
