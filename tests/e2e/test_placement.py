"""Where VMs land, through the `cs` client: a host dedicated to one account takes only the VMs
of its explicit dedication group, implicitly dedicated hosts keep other accounts out, and the
user dispersing planner spreads an account's VMs where first fit would stack them."""

from __future__ import annotations

import uuid

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import SIM, Place, _deploy, _template


def _zone(admin: CloudStack, sizes: dict[str, int]) -> tuple[Place, dict[str, str]]:
    """A zone of its own with one simulator host per name, of that many GiB of memory."""
    tag = uuid.uuid4().hex[:8]
    zone = admin.createZone(
        name=f"z-{tag}", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    pod = admin.createPod(
        name=f"p-{tag}",
        zoneid=zone["id"],
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
        endip="10.1.0.200",
    )["pod"]
    cluster = admin.addCluster(
        clustername=f"c-{tag}",
        podid=pod["id"],
        zoneid=zone["id"],
        hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]
    small = next(
        o for o in admin.listServiceOfferings()["serviceoffering"] if o["name"] == "Small Instance"
    )
    place = Place(zone["id"], pod["id"], cluster["id"], small, {}, "")
    hosts = {}
    for name, memory in sizes.items():
        hosts[name] = admin.addHost(
            zoneid=place.zone,
            podid=place.pod,
            clusterid=place.cluster,
            hypervisor="Simulator",
            url=SIM.format(name=f"{name}-{tag}", cores=8, memory=memory, extra=""),
            username="root",
            password="sim-password",
        )["host"][0]["id"]
    place.template = _template(admin, zone["id"])
    return place, hosts


def _offering(admin: CloudStack, planner: str, **extra) -> dict:
    return admin.createServiceOffering(
        name=f"{planner}-{uuid.uuid4().hex[:6]}",
        displaytext=planner,
        cpunumber=1,
        cpuspeed=500,
        memory=512,
        deploymentplanner=planner,
        **extra,
    )["serviceoffering"]


def _host_of(admin: CloudStack, vm: dict) -> str:
    return admin.listVirtualMachines(id=vm["id"], listall="true")["virtualmachine"][0]["hostid"]


def test_vms_land_by_dedication_and_planner(sandbox) -> None:
    admin = sandbox.client()
    place, host = _zone(admin, {"h0": 16, "h1": 8, "h2": 4, "h3": 2})
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    carol, dave = make_tenant(sandbox, admin), make_tenant(sandbox, admin)

    # h0, the roomiest, is alice's: only VMs of her explicit dedication group land there.
    dedicated = admin.dedicateHost(
        hostid=host["h0"], domainid=alice.domain_id, account=alice.username, fetch_result=True
    )["dedicatedhost"]
    group = dedicated["affinitygroupid"]
    assert alice.client.listAffinityGroups(id=group)["affinitygroup"][0]["type"] == (
        "ExplicitDedication"
    )
    assert _host_of(admin, _deploy(bob.client, place, place.small)) == host["h1"]
    assert (
        _host_of(admin, _deploy(alice.client, place, place.small, affinitygroupids=group))
        == (host["h0"])
    )
    assert _host_of(admin, _deploy(alice.client, place, place.small)) == host["h1"]
    with pytest.raises(CloudStackApiException) as taken:
        admin.dedicateHost(hostid=host["h0"], domainid=bob.domain_id, account=bob.username)
    assert taken.value.error["errorcode"] == 431

    # dave's implicitly dedicated VM takes a host running nobody else's (h2, the roomier of
    # h2 and h3), and from then on nobody else's VMs land there.
    implicit = _offering(admin, "ImplicitDedicationPlanner")
    assert _host_of(admin, _deploy(dave.client, place, implicit)) == host["h2"]
    for _ in range(2):
        assert _host_of(admin, _deploy(bob.client, place, place.small)) == host["h1"]

    # First fit stacks carol's VMs on the roomiest host; dispersing spreads them.
    dispersing = _offering(admin, "UserDispersingPlanner")
    landed = {_host_of(admin, _deploy(carol.client, place, dispersing)) for _ in range(2)}
    assert landed == {host["h1"], host["h3"]}

    # Released, h0 takes anyone's VMs again; the group went with its last resource.
    admin.releaseDedicatedHost(hostid=host["h0"], fetch_result=True)
    assert _host_of(admin, _deploy(bob.client, place, place.small)) == host["h0"]
    assert alice.client.listAffinityGroups(id=group) == {}


def test_an_unknown_planner_is_refused_and_nothing_is_made(sandbox) -> None:
    admin = sandbox.client()
    before = len(admin.listServiceOfferings()["serviceoffering"])
    with pytest.raises(CloudStackApiException) as refused:
        _offering(admin, "NoSuchPlanner")
    assert refused.value.error["errorcode"] == 431
    assert len(admin.listServiceOfferings()["serviceoffering"]) == before


def _setting(admin: CloudStack, name: str, value: str) -> None:
    admin.updateConfiguration(name=name, value=value)


def test_the_allocation_algorithm_and_the_guest_limit_are_honoured(sandbox) -> None:
    admin = sandbox.client()
    place, host = _zone(admin, {"big": 16, "small": 4})
    erin = make_tenant(sandbox, admin)
    (simulator,) = admin.listHypervisorCapabilities(hypervisor="Simulator")[
        "hypervisorCapabilities"
    ]
    try:
        _setting(admin, "vm.allocation.algorithm", "userdispersing")
        landed = [_host_of(admin, _deploy(erin.client, place, place.small)) for _ in range(2)]
        assert sorted(landed) == sorted(host.values())  # first fit would stack them on "big"
        _setting(admin, "vm.allocation.algorithm", "firstfit")
        admin.updateHypervisorCapabilities(id=simulator["id"], maxguestslimit=1)
        with pytest.raises(CloudStackApiException) as full:
            _deploy(erin.client, place, place.small)
        assert full.value.error["errorcode"] == 533
        admin.updateHypervisorCapabilities(id=simulator["id"], maxguestslimit=2)
        assert _host_of(admin, _deploy(erin.client, place, place.small)) == host["big"]
    finally:
        _setting(admin, "vm.allocation.algorithm", "firstfit")
        admin.updateHypervisorCapabilities(
            id=simulator["id"], maxguestslimit=simulator["maxguestslimit"]
        )


def test_a_vm_takes_no_more_data_disks_than_its_hypervisor_allows(sandbox) -> None:
    admin = sandbox.client()
    place, _host = _zone(admin, {"h": 8})
    frank = make_tenant(sandbox, admin)
    vm = _deploy(frank.client, place, place.small)
    offering = next(
        o for o in admin.listDiskOfferings()["diskoffering"] if not o.get("iscustomized")
    )
    (limit,) = {
        c["maxdatavolumeslimit"]
        for c in admin.listHypervisorCapabilities(hypervisor="Simulator")["hypervisorCapabilities"]
    }
    volumes = [
        frank.client.createVolume(
            name=f"d{n}", zoneid=place.zone, diskofferingid=offering["id"], fetch_result=True
        )["volume"]["id"]
        for n in range(limit + 1)
    ]
    for volume in volumes[:limit]:
        frank.client.attachVolume(id=volume, virtualmachineid=vm["id"], fetch_result=True)
    with pytest.raises(CloudStackApiException) as refused:
        frank.client.attachVolume(id=volumes[-1], virtualmachineid=vm["id"], fetch_result=True)
    assert refused.value.error["errorcode"] == 431
    assert "maximum number of data disks" in refused.value.error["errortext"]
    attached = frank.client.listVolumes(virtualmachineid=vm["id"], type="DATADISK")["volume"]
    assert len(attached) == limit


def test_a_root_admin_may_choose_the_planner_of_a_deploy(sandbox) -> None:
    admin = sandbox.client()
    place, host = _zone(admin, {"big": 16, "small": 4})
    gina = make_tenant(sandbox, admin)
    with pytest.raises(CloudStackApiException) as denied:
        _deploy(gina.client, place, place.small, deploymentplanner="UserDispersingPlanner")
    assert denied.value.error["errorcode"] == 531
    with pytest.raises(CloudStackApiException) as unknown:
        _deploy(admin, place, place.small, deploymentplanner="BestFitPlanner")
    assert unknown.value.error["errorcode"] == 431
    assert gina.client.listVirtualMachines() == {}  # refused before anything was made
    owner = {"account": gina.username, "domainid": gina.domain_id}
    landed = {
        _host_of(
            admin,
            _deploy(admin, place, place.small, deploymentplanner="UserDispersingPlanner", **owner),
        )
        for _ in range(2)
    }
    assert landed == set(host.values())


def test_vms_land_first_on_hosts_that_prefer_their_os_category(sandbox) -> None:
    admin = sandbox.client()
    place, host = _zone(admin, {"roomy": 16, "small": 4})
    tenant = make_tenant(sandbox, admin)
    (template,) = admin.listTemplates(templatefilter="all", id=place.template, zoneid=place.zone)[
        "template"
    ]
    (os_type,) = admin.listOsTypes(id=template["ostypeid"])["ostype"]
    categories = {c["name"]: c["id"] for c in admin.listOsCategories()["oscategory"]}
    own = os_type["oscategoryid"]
    other = next(i for name, i in categories.items() if i != own and name != "None")
    assert _host_of(admin, _deploy(tenant.client, place, place.small)) == host["roomy"]

    updated = admin.updateHost(id=host["small"], oscategoryid=own)["host"]
    assert updated["oscategoryid"] == own
    assert categories[updated["oscategoryname"]] == own
    assert _host_of(admin, _deploy(tenant.client, place, place.small)) == host["small"]

    # a host preferring another category comes last, after hosts that prefer none
    admin.updateHost(id=host["small"], oscategoryid=categories["None"])
    admin.updateHost(id=host["roomy"], oscategoryid=other)
    (listed,) = admin.listHosts(id=host["small"])["host"]
    assert "oscategoryid" not in listed
    assert admin.listHosts(id=host["roomy"])["host"][0]["oscategoryid"] == other
    assert _host_of(admin, _deploy(tenant.client, place, place.small)) == host["small"]

    with pytest.raises(CloudStackApiException) as refused:
        admin.updateHost(id=host["roomy"], oscategoryid=str(uuid.uuid4()))
    assert refused.value.error["errorcode"] == 431
    # as in 4.3, only a secondary storage host's URL changes: a host running VMs refuses it
    with pytest.raises(CloudStackApiException) as refused:
        admin.updateHost(id=host["roomy"], url="simulator://elsewhere", oscategoryid=own)
    assert refused.value.error["errorcode"] == 431
    assert "not a secondary storage" in refused.value.error["errortext"]
    (roomy,) = admin.listHosts(id=host["roomy"])["host"]
    assert roomy["oscategoryid"] == other and "elsewhere" not in str(roomy)
