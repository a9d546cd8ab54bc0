"""Autoscale end to end on the simulator, on the embedded default (SQLite and PostgreSQL): an
account's VM group on a virtual router's load balancer keeps its minimum of VMs from the
moment it is enabled, grows when its members' disk reads (the disk counters the server
collects every `vm.disk.stats.interval` seconds, which the simulator grows at every reading
unless the test fixes them) pass a scale-up policy's threshold, and shrinks when they fall
under a scale-down one's; the VMs come and go through the API's own jobs, as the profile's
autoscale user. 4.3's checks answer as 4.3 does, and another account reaches nothing."""

from __future__ import annotations

import uuid
from typing import Any

from cs import CloudStack

from tests.e2e.factories import make_tenant
from tests.e2e.hiding import assert_hidden, assert_shown, refused_flag
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_load_balancer_policies import assert_4_3_fields
from tests.e2e.test_network_rules import job_refused, refused
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, control, register_template, routers, wait_for
from tests.e2e.test_vms import _deploy, _host, _place

SEEDED_4_3 = {
    ("snmp", "Linux User CPU - percentage", "1.3.6.1.4.1.2021.11.9.0"),
    ("snmp", "Linux System CPU - percentage", "1.3.6.1.4.1.2021.11.10.0"),
    ("snmp", "Linux CPU Idle - percentage", "1.3.6.1.4.1.2021.11.11.0"),
    ("netscaler", "Response Time - microseconds", "RESPTIME"),
}


def _balancer(sandbox: Sandbox) -> dict[str, Any]:
    """A tenant (alice) with a network whose router runs, an address and a load balancer on
    it; bob, another account of the domain; alice's second user, the autoscale user."""
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=16, memory=32)
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    offering = _offering(alice.client, SOURCE_NAT_OFFERING)
    network = alice.client.createNetwork(
        name="web", displaytext="web", networkofferingid=offering["id"], zoneid=place.zone
    )["network"]
    # a VM of its own brings the network's router up (a rule needs a running router)
    _deploy(alice.client, place, place.small, networkids=network["id"])
    ip = alice.client.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    assert wait_for(
        lambda: [r["state"] for r in routers(admin, networkid=network["id"])] == ["Running"]
    )
    rule = alice.client.createLoadBalancerRule(
        publicipid=ip["id"],
        name="web",
        algorithm="roundrobin",
        publicport=80,
        privateport=8080,
        fetch_result=True,
    )["loadbalancer"]
    scaler = admin.createUser(
        account=alice.username,
        domainid=alice.domain_id,
        username=f"scaler-{uuid.uuid4().hex[:6]}",
        password=uuid.uuid4().hex,
        email="scaler@example.org",
        firstname="Auto",
        lastname="Scaler",
    )["user"]
    return {
        "admin": admin,
        "place": place,
        "alice": alice,
        "bob": bob,
        "rule": rule,
        "scaler": scaler,
    }


def _members(client: CloudStack, rule_id: str) -> list[str]:
    found = client.listLoadBalancerRuleInstances(id=rule_id).get("loadbalancerruleinstance", [])
    return sorted(vm["id"] for vm in found)


def _group(client: CloudStack, group_id: str) -> dict[str, Any]:
    return client.listAutoScaleVmGroups(id=group_id)["autoscalevmgroup"][0]


def _sized(client: CloudStack, rule_id: str, size: int) -> Any:
    """A waiting check: the rule's members once there are `size` of them."""
    return lambda: members if len(members := _members(client, rule_id)) == size else None


def _counter(client: CloudStack, value: str) -> str:
    counters = client.listCounters(source="hypervisor")["counter"]
    return next(c["id"] for c in counters if c["value"] == value)


def _fix_disks(admin: CloudStack, control_file: Any, vm_ids: list[str]) -> None:
    """The members' disk counters stop moving (each at a high value)."""
    names = [
        admin.listVirtualMachines(id=v, listall="true")["virtualmachine"][0]["instancename"]
        for v in vm_ids
    ]
    control(control_file, disk_counters={n: {"0": [10**6, 10**6, 10**9, 10**9]} for n in names})


def test_a_group_keeps_its_minimum_and_scales_on_disk_reads(sandbox: Sandbox) -> None:
    world = _balancer(sandbox)
    admin, alice, bob, rule = world["admin"], world["alice"], world["bob"], world["rule"]
    user, place = alice.client, world["place"]

    # 4.3's counters are seeded; Stratus measures only its own (source hypervisor)
    seeded = {(c["source"], c["name"], c["value"]) for c in user.listCounters()["counter"]}
    assert seeded >= SEEDED_4_3
    reads = _counter(user, "vm.disk.read.bytes")
    cpu = next(c["id"] for c in user.listCounters(source="snmp")["counter"])
    busy = user.createCondition(
        counterid=reads, relationaloperator="gt", threshold=10000, fetch_result=True
    )["condition"]
    assert (busy["relationaloperator"], busy["threshold"], busy["counter"][0]["id"]) == (
        "GT",
        10000,
        reads,
    )
    assert_4_3_fields("createCondition", busy)
    idle = user.createCondition(
        counterid=reads, relationaloperator="LT", threshold=1000, fetch_result=True
    )["condition"]
    on_cpu = user.createCondition(
        counterid=cpu, relationaloperator="GT", threshold=80, fetch_result=True
    )["condition"]
    text = refused(
        user.createAutoScalePolicy, 431, action="scaleup", duration=2, conditionids=on_cpu["id"]
    )
    assert "cannot be measured" in text
    refused(user.createAutoScalePolicy, 431, action="sideways", duration=2, conditionids=busy["id"])
    refused(user.createAutoScalePolicy, 431, action="scaleup", duration=-1, conditionids=busy["id"])
    up = user.createAutoScalePolicy(
        action="scaleup", duration=2, quiettime=0, conditionids=busy["id"], fetch_result=True
    )["autoscalepolicy"]
    down = user.createAutoScalePolicy(
        action="scaledown", duration=2, quiettime=0, conditionids=idle["id"], fetch_result=True
    )["autoscalepolicy"]
    assert [c["id"] for c in up["conditions"]] == [busy["id"]] and up["quiettime"] == 0
    assert_4_3_fields("createAutoScalePolicy", up)

    # The profile: deployed as the account's autoscale user, destroyed with no grace
    refused(
        user.createAutoScaleVmProfile,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        otherdeployparams="networkids=abc",
    )
    refused(  # the autoscale user has no API keys yet
        user.createAutoScaleVmProfile,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        autoscaleuserid=world["scaler"]["id"],
    )
    admin.registerUserKeys(id=world["scaler"]["id"])
    profile = user.createAutoScaleVmProfile(
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        destroyvmgraceperiod=0,
        otherdeployparams="displayvm=true",
        autoscaleuserid=world["scaler"]["id"],
        fetch_result=True,
    )["autoscalevmprofile"]
    assert profile["autoscaleuserid"] == world["scaler"]["id"]
    assert_4_3_fields("createAutoScaleVmProfile", profile)

    # Bounds and policies are checked as 4.3 checks them, and another account reaches nothing
    group_args = dict(
        lbruleid=rule["id"],
        minmembers=1,
        maxmembers=2,
        interval=1,
        scaleuppolicyids=up["id"],
        scaledownpolicyids=down["id"],
        vmprofileid=profile["id"],
    )
    refused(user.createAutoScaleVmGroup, 431, **{**group_args, "minmembers": 3})
    refused(user.createAutoScaleVmGroup, 431, **{**group_args, "interval": 5})  # > duration
    refused(user.createAutoScaleVmGroup, 431, **{**group_args, "scaleuppolicyids": down["id"]})
    refused(bob.client.createAutoScaleVmGroup, 531, **group_args)

    # Enabled at once, the group deploys its minimum and puts it behind the rule
    group = user.createAutoScaleVmGroup(**group_args, fetch_result=True)["autoscalevmgroup"]
    assert group["state"] == "enabled" and group["lbruleid"] == rule["id"]
    assert [p["id"] for p in group["scaleuppolicies"]] == [up["id"]]
    assert_4_3_fields("createAutoScaleVmGroup", group)
    first = wait_for(lambda: _members(user, rule["id"]) or None, 60)
    assert len(first) == 1
    refused(user.createAutoScaleVmGroup, 431, **group_args)  # one group per rule
    # the rule is not deleted under its group (nothing changes: the group keeps balancing)
    text = refused(user.deleteLoadBalancerRule, 536, id=rule["id"])
    assert "being used by 1 Autoscale VM group" in text
    assert user.listLoadBalancerRules(id=rule["id"])["loadbalancerrule"][0]["state"] == "Active"
    assert _members(user, rule["id"]) == first
    vm = user.listVirtualMachines(id=first[0])["virtualmachine"][0]
    assert vm["state"] == "Running" and vm["account"] == alice.username
    jobs = user.listAsyncJobs().get("asyncjobs", [])
    deploys = [j for j in jobs if j.get("jobinstanceid") == first[0]]
    assert deploys and {j["userid"] for j in deploys} == {world["scaler"]["id"]}

    # Disk reads pass the scale-up threshold: the group grows to its maximum
    admin.updateConfiguration(name="vm.disk.stats.interval", value="1")
    both = wait_for(_sized(user, rule["id"], 2), 60)
    assert both, "the group did not scale up"

    # The reads stop: the newest member leaves the rule and is destroyed
    _fix_disks(admin, sandbox.control_file, both)
    left = wait_for(_sized(user, rule["id"], 1), 60)
    assert left == first
    (gone,) = set(both) - set(first)
    assert wait_for(
        lambda: (
            admin.listVirtualMachines(id=gone, listall="true")["virtualmachine"][0]["state"]
            == "Destroyed"
        )
    )

    # Disabled, the group's bounds may change; enabled again, it grows to its new minimum
    job_refused(user.updateAutoScaleVmGroup, 431, id=group["id"], minmembers=2)
    job_refused(user.enableAutoScaleVmGroup, 431, id=group["id"])
    disabled = user.disableAutoScaleVmGroup(id=group["id"], fetch_result=True)["autoscalevmgroup"]
    assert disabled["state"] == "disabled"
    user.updateAutoScaleVmGroup(id=group["id"], minmembers=2, fetch_result=True)
    job_refused(user.updateAutoScalePolicy, 431, id=up["id"], duration=0)  # under the interval
    user.enableAutoScaleVmGroup(id=group["id"], fetch_result=True)
    assert wait_for(lambda: len(_members(user, rule["id"])) == 2, 60)
    assert _group(user, group["id"])["minmembers"] == 2

    # What is in use stays; another account sees and changes nothing
    job_refused(user.deleteCondition, 536, id=busy["id"])
    job_refused(user.deleteAutoScalePolicy, 431, id=up["id"])
    job_refused(user.deleteAutoScaleVmProfile, 431, id=profile["id"])
    job_refused(admin.deleteCounter, 536, id=reads)
    for command in ("listAutoScaleVmGroups", "listAutoScalePolicies", "listConditions"):
        assert getattr(bob.client, command)().get(_item(command), []) == []
    assert bob.client.listAutoScaleVmProfiles(id=profile["id"]).get("autoscalevmprofile") is None
    refused(bob.client.deleteAutoScaleVmGroup, 531, id=group["id"])
    refused(bob.client.disableAutoScaleVmGroup, 531, id=group["id"])
    refused(bob.client.deleteCondition, 531, id=idle["id"])
    refused(bob.client.createCounter, 432, name="x", source="hypervisor", value="vm.disk.read.ops")

    # Deleting the group destroys its VMs; then its policies and profile may go
    members = _members(user, rule["id"])
    user.deleteAutoScaleVmGroup(id=group["id"], fetch_result=True)
    assert user.listAutoScaleVmGroups().get("autoscalevmgroup", []) == []
    assert _members(user, rule["id"]) == []
    states = {
        admin.listVirtualMachines(id=v, listall="true")["virtualmachine"][0]["state"]
        for v in members
    }
    assert states == {"Destroyed"}
    for policy in (up, down):
        user.deleteAutoScalePolicy(id=policy["id"], fetch_result=True)
    user.deleteAutoScaleVmProfile(id=profile["id"], fetch_result=True)
    user.deleteCondition(id=idle["id"], fetch_result=True)
    admin.updateConfiguration(name="vm.disk.stats.interval", value="0")
    # with its group gone, the rule may go too
    user.deleteLoadBalancerRule(id=rule["id"], fetch_result=True)
    assert user.listLoadBalancerRules(id=rule["id"]).get("loadbalancerrule", []) == []


def _item(command: str) -> str:
    return {
        "listAutoScaleVmGroups": "autoscalevmgroup",
        "listAutoScalePolicies": "autoscalepolicy",
        "listConditions": "condition",
    }[command]


def test_counters_are_root_admins_and_checked(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    refused(tenant.client.createCounter, 432, name="x", source="snmp", value="1.2.3")
    refused(admin.createCounter, 431, name="x", source="carrier-pigeon", value="1")
    refused(admin.createCounter, 431, name="x", source="hypervisor", value="vm.cpu")
    made = admin.createCounter(name="snmp-x", source="SNMP", value="1.2.3", fetch_result=True)[
        "counter"
    ]
    assert (made["source"], made["value"]) == ("snmp", "1.2.3")
    assert_4_3_fields("createCounter", made)
    assert tenant.client.listCounters(id=made["id"])["counter"] == [made]
    admin.deleteCounter(id=made["id"], fetch_result=True)
    assert tenant.client.listCounters(id=made["id"]).get("counter", []) == []
    refused(
        tenant.client.createCondition,
        431,
        counterid=made["id"],
        relationaloperator="GT",
        threshold=1,
    )
    refused(
        tenant.client.createCondition,
        431,
        counterid=_counter(admin, "vm.disk.read.ops"),
        relationaloperator="ABOUT",
        threshold=1,
    )


def test_a_root_admin_hides_autoscale_profiles_and_groups(sandbox: Sandbox) -> None:
    world = _balancer(sandbox)
    admin, alice, rule, place = world["admin"], world["alice"], world["rule"], world["place"]
    user = alice.client
    reads = _counter(user, "vm.disk.read.bytes")
    policies = {}
    for action, operator in (("scaleup", "GT"), ("scaledown", "LT")):
        condition = user.createCondition(
            counterid=reads, relationaloperator=operator, threshold=1000, fetch_result=True
        )["condition"]
        policies[action] = user.createAutoScalePolicy(
            action=action, duration=2, quiettime=0, conditionids=condition["id"],
            fetch_result=True,
        )["autoscalepolicy"]["id"]  # fmt: skip
    admin.registerUserKeys(id=world["scaler"]["id"])

    # The owner's profile, hidden later by a root administrator
    made = {
        "zoneid": place.zone,
        "serviceofferingid": place.small["id"],
        "templateid": place.template,
        "autoscaleuserid": world["scaler"]["id"],
    }
    refused_flag(user.createAutoScaleVmProfile, **made, fordisplay="false")
    profile = user.createAutoScaleVmProfile(**made, fetch_result=True)["autoscalevmprofile"]
    assert_shown(user, "listAutoScaleVmProfiles", "autoscalevmprofile", profile["id"])
    refused_flag(user.updateAutoScaleVmProfile, id=profile["id"], fordisplay="false")
    admin.updateAutoScaleVmProfile(id=profile["id"], fordisplay="false", fetch_result=True)
    assert_hidden(admin, user, "listAutoScaleVmProfiles", "autoscalevmprofile", profile["id"])

    # A group hidden from the start, shown again once disabled and updated
    group_args = {
        "lbruleid": rule["id"],
        "minmembers": 1,
        "maxmembers": 1,
        "interval": 1,
        "scaleuppolicyids": policies["scaleup"],
        "scaledownpolicyids": policies["scaledown"],
        "vmprofileid": profile["id"],
    }
    refused_flag(user.createAutoScaleVmGroup, **group_args, fordisplay="false")
    group = admin.createAutoScaleVmGroup(**group_args, fordisplay="false", fetch_result=True)[
        "autoscalevmgroup"
    ]
    assert group["fordisplay"] is False
    assert_hidden(admin, user, "listAutoScaleVmGroups", "autoscalevmgroup", group["id"])
    disabled = admin.disableAutoScaleVmGroup(id=group["id"], fetch_result=True)
    assert disabled["autoscalevmgroup"]["fordisplay"] is False
    refused_flag(user.updateAutoScaleVmGroup, id=group["id"], fordisplay="true")
    admin.updateAutoScaleVmGroup(id=group["id"], fordisplay="true", fetch_result=True)
    assert_shown(user, "listAutoScaleVmGroups", "autoscalevmgroup", group["id"])
