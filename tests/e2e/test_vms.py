"""Virtual machines through the `cs` client on the embedded default, with simulator hosts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import custom_offering, make_tenant

SIM = "simulator://{name}?sockets=1&cores={cores}&mhz=1000&memory_gb={memory}{extra}"
CUSTOM_DETAILS = {
    "details[0].cpuNumber": "2",
    "details[0].cpuSpeed": "1000",
    "details[0].memory": "1024",
}


@dataclass
class Place:
    zone: str
    pod: str
    cluster: str
    small: dict  # "Small Instance": 1 x 500 MHz, 512 MiB
    custom: dict
    template: str


def _place(admin: CloudStack) -> Place:
    zone = admin.createZone(
        name="z1", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    pod = admin.createPod(
        name="p1",
        zoneid=zone["id"],
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
        endip="10.1.0.200",
    )["pod"]
    cluster = admin.addCluster(
        clustername="c1",
        podid=pod["id"],
        zoneid=zone["id"],
        hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]
    offerings = admin.listServiceOfferings()["serviceoffering"]
    small = next(o for o in offerings if o["name"] == "Small Instance")
    custom = custom_offering(admin)
    return Place(zone["id"], pod["id"], cluster["id"], small, custom, _template(admin, zone["id"]))


def _template(admin: CloudStack, zone_id: str) -> str:
    os_type = admin.listOsTypes()["ostype"][0]["id"]
    template = admin.registerTemplate(
        name="tiny",
        displaytext="tiny",
        url="http://images.example.org/tiny.qcow2",
        hypervisor="Simulator",
        format="QCOW2",
        ostypeid=os_type,
        zoneid=zone_id,
        ispublic="true",
    )["template"][0]
    for _ in range(200):
        listed = admin.listTemplates(templatefilter="all", id=template["id"])["template"]
        if listed[0].get("isready"):
            return template["id"]
        import time

        time.sleep(0.05)
    raise AssertionError("the template never became ready")


def _host(admin: CloudStack, place: Place, name: str, cores=4, memory=8, extra="") -> dict:
    return admin.addHost(
        zoneid=place.zone,
        podid=place.pod,
        clusterid=place.cluster,
        hypervisor="Simulator",
        url=SIM.format(name=name, cores=cores, memory=memory, extra=extra),
        username="root",
        password="sim-password",
    )["host"][0]


def _deploy(client: CloudStack, place: Place, offering: dict, **extra) -> dict:
    return client.deployVirtualMachine(
        zoneid=place.zone,
        serviceofferingid=offering["id"],
        templateid=place.template,
        fetch_result=True,
        **extra,
    )["virtualmachine"]


def _vm(client: CloudStack, vm_id: str) -> dict:
    return client.listVirtualMachines(id=vm_id)["virtualmachine"][0]


def _shape(vm: dict) -> tuple[int, int, int]:
    return vm["cpunumber"], vm["cpuspeed"], vm["memory"]


def test_a_custom_vm_lives_through_deploy_stop_scale_start_reboot_destroy(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "h1")
    vm = _deploy(admin, place, place.custom, name="web-1", **CUSTOM_DETAILS)
    assert vm["state"] == "Running" and vm["hostid"] == host["id"]
    assert _shape(_vm(admin, vm["id"])) == (2, 1000, 1024)
    assert vm["details"] == {"cpuNumber": "2", "cpuSpeed": "1000", "memory": "1024"}
    assert admin.listHosts(id=host["id"])["host"][0]["memoryallocated"] == 1024 * 1024**2
    admin.stopVirtualMachine(id=vm["id"], forced="true", fetch_result=True)
    assert _vm(admin, vm["id"])["state"] == "Stopped"
    assert admin.listHosts(id=host["id"])["host"][0]["cpuallocated"] == "0%"
    admin.scaleVirtualMachine(
        id=vm["id"],
        serviceofferingid=place.custom["id"],
        fetch_result=True,
        **{"details[0].cpuNumber": "1", "details[0].cpuSpeed": "800", "details[0].memory": "768"},
    )
    assert _shape(_vm(admin, vm["id"])) == (1, 800, 768)
    started = admin.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running" and _shape(started) == (1, 800, 768)
    rebooted = admin.rebootVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert rebooted["state"] == "Running"
    destroyed = admin.destroyVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert destroyed["state"] == "Destroyed"
    recovered = admin.recoverVirtualMachine(id=vm["id"])["virtualmachine"]
    assert recovered["state"] == "Stopped"
    admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)
    assert admin.listVirtualMachines(id=vm["id"]) == {}
    jobs = [j for j in admin.listAsyncJobs()["asyncjobs"] if j.get("jobinstanceid") == vm["id"]]
    assert {j["jobinstancetype"] for j in jobs} == {"VirtualMachine"}
    assert any(j["cmd"].endswith("user.vm.DeployVMCmd") for j in jobs)


def test_list_capacity_counts_what_running_vms_hold_of_their_zone(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=4, memory=8)
    vm = _deploy(admin, place, place.custom, name="counted", **CUSTOM_DETAILS)

    def held() -> dict[int, tuple[int, int, str]]:
        items = admin.listCapacity(zoneid=place.zone)["capacity"]
        return {
            c["type"]: (c["capacityused"], c["capacitytotal"], c["percentused"])
            for c in items
            if c["type"] in (0, 1)
        }

    assert held() == {0: (1024 * 1024**2, 8 * 1024**3, "12.50"), 1: (2000, 4000, "50.00")}
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    assert held() == {0: (0, 8 * 1024**3, "0.00"), 1: (0, 4000, "0.00")}


def test_a_clusters_cpu_overprovisioning_factor_makes_room_on_its_hosts(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "h1", cores=1, memory=8)
    one_ghz = {"details[0].cpuNumber": "1", "details[0].cpuSpeed": "1000"}
    shape = {**one_ghz, "details[0].memory": "512"}
    _deploy(admin, place, place.custom, name="first", **shape)
    with pytest.raises(CloudStackApiException) as full:
        _deploy(admin, place, place.custom, name="second", **shape)
    assert full.value.error["errorcode"] == 533

    admin.updateConfiguration(
        name="cpu.overprovisioning.factor", value="2", clusterid=place.cluster
    )
    (cluster,) = admin.listClusters(id=place.cluster)["cluster"]
    assert (cluster["cpuovercommitratio"], cluster["memoryovercommitratio"]) == ("2.0", "1.0")
    second = _deploy(admin, place, place.custom, name="second", **shape)
    assert second["state"] == "Running" and second["hostid"] == host["id"]
    (listed,) = admin.listHosts(id=host["id"])["host"]
    assert (listed["cpuwithoverprovisioning"], listed["cpuallocated"]) == ("2000.0", "100.00%")
    (cpu,) = [c for c in admin.listCapacity(zoneid=place.zone)["capacity"] if c["type"] == 1]
    assert (cpu["capacityused"], cpu["capacitytotal"]) == (2000, 2000)
    refused = pytest.raises(CloudStackApiException)
    with refused as low:
        admin.updateConfiguration(
            name="cpu.overprovisioning.factor", value="0.5", clusterid=place.cluster
        )
    assert low.value.error["errorcode"] == 431


def test_running_vms_scale_only_in_zones_that_enable_dynamic_scaling(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.custom, **CUSTOM_DETAILS)
    smaller = {
        "details[0].cpuNumber": "1",
        "details[0].cpuSpeed": "800",
        "details[0].memory": "768",
    }
    with pytest.raises(CloudStackApiException) as refused:
        admin.scaleVirtualMachine(id=vm["id"], serviceofferingid=place.custom["id"], **smaller)
    assert refused.value.error["errorcode"] == 531
    assert "Dynamically scaling virtual machines is disabled" in refused.value.error["errortext"]
    assert _shape(_vm(admin, vm["id"])) == (2, 1000, 1024)
    admin.updateConfiguration(name="enable.dynamic.scale.vm", value="true", zoneid=place.zone)
    admin.scaleVirtualMachine(
        id=vm["id"], serviceofferingid=place.custom["id"], fetch_result=True, **smaller
    )
    scaled = _vm(admin, vm["id"])
    assert scaled["state"] == "Running" and _shape(scaled) == (1, 800, 768)


def test_a_fixed_vm_changes_offering_only_when_stopped(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small, displayname="Small one")
    assert (_shape(vm), vm["displayname"], vm["serviceofferingname"]) == (
        (1, 500, 512),
        "Small one",
        "Small Instance",
    )
    assert "details" not in vm
    with pytest.raises(CloudStackApiException) as refused:
        admin.changeServiceForVirtualMachine(
            id=vm["id"], serviceofferingid=place.custom["id"], **CUSTOM_DETAILS
        )
    assert "make sure the virtual machine is stopped" in refused.value.error["errortext"]
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    changed = admin.changeServiceForVirtualMachine(
        id=vm["id"], serviceofferingid=place.custom["id"], **CUSTOM_DETAILS
    )["virtualmachine"]
    assert changed["serviceofferingid"] == place.custom["id"] and _shape(changed) == (2, 1000, 1024)
    updated = admin.updateVirtualMachine(id=vm["id"], displayname="Renamed")["virtualmachine"]
    assert updated["displayname"] == "Renamed"


@pytest.mark.parametrize(
    ("details", "text"),
    [
        ({}, "Need to specify custom parameter values cpu, cpu speed and memory when using"),
        (
            {"details[0].cpuSpeed": "1000", "details[0].memory": "1024"},
            "Invalid cpu cores value, specify a value between 1 and 2147483647",
        ),
        (
            {"details[0].cpuNumber": "2", "details[1].cpuSpeed": "1000"},
            "Invalid memory value, specify a value between 32 and 2147483647 MB",
        ),
    ],
)
def test_partial_or_invalid_custom_values_are_refused(sandbox, details, text) -> None:
    admin = sandbox.client()
    place = _place(admin)
    with pytest.raises(CloudStackApiException) as refused:
        _deploy(admin, place, place.custom, **details)
    assert refused.value.error["errorcode"] == 431
    assert refused.value.error["errortext"].startswith(text)


def test_a_fixed_offering_refuses_custom_values(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    with pytest.raises(CloudStackApiException) as refused:
        _deploy(admin, place, place.small, **{"details[0].cpuNumber": "4"})
    assert refused.value.error["errortext"].startswith("The cpu cores of this offering id:")
    assert refused.value.error["errortext"].endswith("This is predefined in the template.")


def test_users_see_and_touch_only_their_own_vms(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    mine = _deploy(alice.client, place, place.small)
    assert "hostid" not in mine and "hostname" not in mine
    assert [v["id"] for v in alice.client.listVirtualMachines()["virtualmachine"]] == [mine["id"]]
    assert bob.client.listVirtualMachines() == {}
    assert bob.client.listVirtualMachines(listall="true") == {}
    for command in ("stopVirtualMachine", "destroyVirtualMachine", "rebootVirtualMachine"):
        with pytest.raises(CloudStackApiException) as refused:
            getattr(bob.client, command)(id=mine["id"])
        assert refused.value.error["errorcode"] == 531
    every = admin.listVirtualMachines(listall="true", domainid=sandbox.domain_id)["virtualmachine"]
    assert [v["account"] for v in every] == [alice.username]


def test_no_room_fails_the_deploy_with_533_and_holds_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "tiny", cores=1, memory=1)
    with pytest.raises(CloudStackApiException) as refused:
        _deploy(admin, place, place.custom, **CUSTOM_DETAILS)
    assert refused.value.error["errorcode"] == 533
    assert refused.value.error["errortext"].startswith("Unable to create a deployment for VM")
    (vm,) = admin.listVirtualMachines()["virtualmachine"]
    assert vm["state"] == "Error"
    listed = admin.listHosts(id=host["id"])["host"][0]
    assert (listed["cpuallocated"], listed["memoryallocated"]) == ("0%", 0)


def test_a_failing_start_leaves_the_vm_in_error_with_nothing_held(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "broken", extra="&fail=start_vm")
    with pytest.raises(CloudStackApiException) as refused:
        _deploy(admin, place, place.small)
    assert "start_vm fails on broken" in refused.value.error["errortext"]
    (vm,) = admin.listVirtualMachines()["virtualmachine"]
    assert vm["state"] == "Error" and "hostid" not in vm
    assert admin.listHosts(id=host["id"])["host"][0]["memoryallocated"] == 0
