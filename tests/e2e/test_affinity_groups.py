"""Affinity groups through the `cs` client: owner rules, and placement that keeps the members of
a `host anti-affinity` group on different simulator hosts, even when they are deployed at once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import custom_offering, make_tenant
from tests.e2e.test_vms import SIM, Place, _deploy, _template, _vm

ANTI = "host anti-affinity"


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def _place(admin: CloudStack, hosts: int) -> Place:
    """A zone of its own with `hosts` simulator hosts of 2 cores x 1000 MHz, 4 GiB each."""
    tag = _suffix()
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
    offerings = admin.listServiceOfferings()["serviceoffering"]
    small = next(o for o in offerings if o["name"] == "Small Instance")
    custom = custom_offering(admin)
    place = Place(zone["id"], pod["id"], cluster["id"], small, custom, "")
    for number in range(hosts):
        admin.addHost(
            zoneid=place.zone,
            podid=place.pod,
            clusterid=place.cluster,
            hypervisor="Simulator",
            url=SIM.format(name=f"h{number}-{tag}", cores=2, memory=4, extra=""),
            username="root",
            password="sim-password",
        )
    place.template = _template(admin, zone["id"])
    return place


def _group(client: CloudStack, name: str | None = None, **extra) -> dict:
    return client.createAffinityGroup(
        name=name or f"ag-{_suffix()}", type=ANTI, fetch_result=True, **extra
    )["affinitygroup"]


def _refusal(call, *args, **kwargs) -> dict:
    with pytest.raises(CloudStackApiException) as refused:
        call(*args, **kwargs)
    return refused.value.error


def _hosts_of(admin: CloudStack, vm_ids: list[str]) -> list[str]:
    return [
        admin.listVirtualMachines(id=v, listall="true")["virtualmachine"][0]["hostid"]
        for v in vm_ids
    ]


def _allocated(admin: CloudStack, zone: str) -> list[tuple]:
    hosts = admin.listHosts(zoneid=zone)["host"]
    return sorted((h["id"], h["cpuallocated"], h["memoryallocated"]) for h in hosts)


def test_the_types_offered_are_4_3s_two(server) -> None:
    client = make_tenant(server, server.client()).client
    answer = client.listAffinityGroupTypes()
    assert answer["count"] == 2
    assert answer["affinityGroupType"] == [{"type": ANTI}, {"type": "ExplicitDedication"}]
    refused = _refusal(client.createAffinityGroup, name="mine", type="ExplicitDedication")
    assert refused["errorcode"] == 531  # an administrator's, made by dedicating resources


def test_a_users_groups_are_their_own_and_names_are_unique_per_account(server) -> None:
    admin = server.client()
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)
    mine = _group(alice.client, "web", description="front ends")
    assert {k: mine[k] for k in ("name", "type", "description", "account")} == {
        "name": "web",
        "type": ANTI,
        "description": "front ends",
        "account": alice.username,
    }
    assert mine["virtualmachineIds"] == [] and mine["domainid"] == alice.domain_id
    again = _refusal(alice.client.createAffinityGroup, name="web", type=ANTI)
    assert again["errorcode"] == 431 and "already exists" in again["errortext"]
    assert _group(bob.client, "web")["account"] == bob.username  # another account may
    bad = _refusal(alice.client.createAffinityGroup, name="db", type="host affinity")
    assert bad["errorcode"] == 431 and "invalid affinity group type" in bad["errortext"]
    listed = alice.client.listAffinityGroups(listall="true")["affinitygroup"]
    assert [g["id"] for g in listed] == [mine["id"]]
    assert alice.client.listAffinityGroups(type="other") == {}
    denied = _refusal(bob.client.deleteAffinityGroup, id=mine["id"])
    assert denied["errorcode"] == 531
    alice.client.deleteAffinityGroup(name="web", fetch_result=True)
    assert alice.client.listAffinityGroups() == {}
    assert bob.client.listAffinityGroups()["count"] == 1


def test_an_admin_creates_a_group_for_an_account_it_names(server) -> None:
    admin = server.client()
    alice = make_tenant(server, admin)
    made = _group(admin, "db", account=alice.username, domainid=alice.domain_id)
    assert made["account"] == alice.username
    assert [g["id"] for g in alice.client.listAffinityGroups()["affinitygroup"]] == [made["id"]]


def test_members_are_placed_on_different_hosts_and_one_more_fails_with_533(server) -> None:
    admin = server.client()
    place = _place(admin, hosts=2)
    alice = make_tenant(server, admin)
    group = _group(alice.client)
    first = _deploy(alice.client, place, place.small, affinitygroupids=group["id"])
    second = _deploy(alice.client, place, place.small, affinitygroupnames=group["name"])
    assert len(set(_hosts_of(admin, [first["id"], second["id"]]))) == 2
    assert first["affinitygroup"] == [
        {
            "id": group["id"],
            "name": group["name"],
            "description": "",
            "type": ANTI,
            "account": alice.username,
        }
    ]
    held = _allocated(admin, place.zone)
    third = _refusal(_deploy, alice.client, place, place.small, affinitygroupids=group["id"])
    assert third["errorcode"] == 533
    assert third["errortext"].startswith("Unable to create a deployment for VM")
    states = {v["id"]: v["state"] for v in alice.client.listVirtualMachines()["virtualmachine"]}
    (failed,) = [v for v, state in states.items() if state == "Error"]
    assert _allocated(admin, place.zone) == held  # the failed deploy holds nothing
    listed = alice.client.listAffinityGroups(id=group["id"])["affinitygroup"][0]
    assert sorted(listed["virtualmachineIds"]) == sorted([first["id"], second["id"]])
    members = alice.client.listVirtualMachines(affinitygroupid=group["id"])["virtualmachine"]
    assert {v["id"] for v in members} == {first["id"], second["id"]}
    assert failed not in {v["id"] for v in members}
    # A VM outside the group may share a host with its members.
    assert _deploy(alice.client, place, place.small)["state"] == "Running"


def test_a_stopped_member_starts_only_where_no_other_member_runs(server) -> None:
    admin = server.client()
    place = _place(admin, hosts=1)
    alice = make_tenant(server, admin)
    group = _group(alice.client)
    running = _deploy(alice.client, place, place.small, affinitygroupids=group["id"])
    waiting = _deploy(
        alice.client, place, place.small, affinitygroupids=group["id"], startvm="false"
    )
    assert waiting["state"] == "Stopped"
    refused = _refusal(alice.client.startVirtualMachine, id=waiting["id"], fetch_result=True)
    assert refused["errorcode"] == 533
    assert _vm(alice.client, waiting["id"])["state"] == "Stopped"  # as 4.3 leaves it
    alice.client.stopVirtualMachine(id=running["id"], fetch_result=True)
    started = alice.client.startVirtualMachine(id=waiting["id"], fetch_result=True)
    assert started["virtualmachine"]["state"] == "Running"


def test_a_stopped_vm_changes_its_groups_and_a_running_one_is_refused(server) -> None:
    admin = server.client()
    place = _place(admin, hosts=1)
    alice = make_tenant(server, admin)
    web, db = _group(alice.client, "web"), _group(alice.client, "db")
    vm = _deploy(alice.client, place, place.small, affinitygroupids=web["id"])
    running = _refusal(
        alice.client.updateVMAffinityGroup,
        id=vm["id"],
        affinitygroupids=db["id"],
        fetch_result=True,
    )
    assert (
        running["errorcode"] == 431
        and "make sure the virtual machine is stopped" in (running["errortext"])
    )
    alice.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    moved = alice.client.updateVMAffinityGroup(
        id=vm["id"], affinitygroupnames="db", fetch_result=True
    )["virtualmachine"]
    assert [g["name"] for g in moved["affinitygroup"]] == ["db"]
    assert (
        alice.client.listAffinityGroups(id=web["id"])["affinitygroup"][0]["virtualmachineIds"] == []
    )
    both = _refusal(
        alice.client.updateVMAffinityGroup,
        id=vm["id"],
        affinitygroupids=web["id"],
        affinitygroupnames="db",
    )
    assert both["errorcode"] == 431 and "mutually exclusive" in both["errortext"]
    cleared = alice.client.updateVMAffinityGroup(
        id=vm["id"], affinitygroupids="", fetch_result=True
    )["virtualmachine"]
    assert cleared["affinitygroup"] == []
    assert alice.client.listAffinityGroups(virtualmachineid=vm["id"]) == {}


def test_a_vm_joins_only_groups_of_its_own_account(server) -> None:
    admin = server.client()
    place = _place(admin, hosts=1)
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)
    bobs = _group(bob.client)
    foreign = _refusal(_deploy, alice.client, place, place.small, affinitygroupids=bobs["id"])
    assert foreign["errorcode"] == 531
    unknown = _refusal(_deploy, alice.client, place, place.small, affinitygroupnames=bobs["name"])
    assert unknown["errorcode"] == 431
    mine = _group(alice.client)
    both = _refusal(
        _deploy,
        alice.client,
        place,
        place.small,
        affinitygroupids=mine["id"],
        affinitygroupnames=mine["name"],
    )
    assert both["errorcode"] == 431 and "mutually exclusive" in both["errortext"]
    assert alice.client.listVirtualMachines() == {}
    # An admin deploying for alice may not put her VM in bob's group either.
    for_alice = dict(account=alice.username, domainid=alice.domain_id)
    root = _refusal(_deploy, admin, place, place.small, affinitygroupids=bobs["id"], **for_alice)
    assert root["errorcode"] == 531


def test_deleting_a_group_takes_its_members_out_of_it(server) -> None:
    admin = server.client()
    place = _place(admin, hosts=1)
    alice = make_tenant(server, admin)
    group = _group(alice.client)
    vm = _deploy(alice.client, place, place.small, affinitygroupids=group["id"])
    alice.client.deleteAffinityGroup(id=group["id"], fetch_result=True)
    assert _vm(alice.client, vm["id"])["affinitygroup"] == []
    assert _group(alice.client, group["name"])["virtualmachineIds"] == []  # the name is free


def test_members_deployed_at_once_never_share_a_host(server) -> None:
    admin = server.client()
    place = _place(admin, hosts=3)
    alice = make_tenant(server, admin)
    group = _group(alice.client)

    def deploy(_: int) -> str:
        return server.client(alice.client.key, alice.client.secret).deployVirtualMachine(
            zoneid=place.zone,
            serviceofferingid=place.small["id"],
            templateid=place.template,
            affinitygroupids=group["id"],
        )["jobid"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        jobs = list(pool.map(deploy, range(6)))
    outcomes = []
    for job in jobs:
        try:
            alice.client.queryAsyncJobResult(jobid=job, fetch_result=True)
            outcomes.append("placed")
        except CloudStackApiException as failed:
            outcomes.append(str(failed.error["errorcode"]))
    assert sorted(outcomes) == ["533"] * 3 + ["placed"] * 3
    running = alice.client.listVirtualMachines(state="Running")["virtualmachine"]
    assert len({v["id"] for v in running}) == 3
    assert len(set(_hosts_of(admin, [v["id"] for v in running]))) == 3


def test_a_vm_leaves_its_groups_when_expunged_or_when_its_first_start_fails(server) -> None:
    admin = server.client()
    place = _place(admin, hosts=1)
    alice = make_tenant(server, admin)
    group = _group(alice.client)
    vm = _deploy(alice.client, place, place.small, affinitygroupids=group["id"])
    admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)

    def members() -> list[str]:
        listed = alice.client.listAffinityGroups(id=group["id"])["affinitygroup"][0]
        return listed["virtualmachineIds"]

    assert members() == []
    (healthy,) = admin.listHosts(zoneid=place.zone)["host"]
    admin.addHost(
        zoneid=place.zone,
        podid=place.pod,
        clusterid=place.cluster,
        hypervisor="Simulator",
        url=SIM.format(name=f"broken-{_suffix()}", cores=2, memory=4, extra="&fail=start_vm"),
        username="root",
        password="sim-password",
    )
    admin.updateHost(id=healthy["id"], allocationstate="Disable")
    failed = _refusal(_deploy, alice.client, place, place.small, affinitygroupids=group["id"])
    assert "start_vm fails" in failed["errortext"]
    (broken,) = alice.client.listVirtualMachines(state="Error")["virtualmachine"]
    assert broken["affinitygroup"] == [] and members() == []
