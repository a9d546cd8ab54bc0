"""Custom ids through the `cs` client: a root administrator renames a resource (`customid` on
createVolume and on the update commands), after which it is found and answered under the new id
everywhere, the old id names nothing, and no one else may rename or take an id in use."""

from __future__ import annotations

import uuid

from cs import CloudStack

from tests.e2e.factories import make_tenant
from tests.e2e.test_autoscale import _balancer, _counter, _members
from tests.e2e.test_network_rules import refused as _refused
from tests.e2e.test_routers import wait_for
from tests.e2e.test_vms import _deploy, _host, _place
from tests.e2e.test_vpcs import _zone


def _custom_offering(admin) -> dict:
    return next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")


def test_a_renamed_vm_answers_its_new_id_everywhere_and_its_old_id_names_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    owner = {"account": alice.username, "domainid": alice.domain_id}
    vm = _deploy(admin, place, place.small, **owner)
    new = str(uuid.uuid4())

    text = _refused(alice.client.updateVirtualMachine, 531, id=vm["id"], customid=new)
    assert "not allowed to create/update custom id" in text
    bad = _refused(admin.updateVirtualMachine, 431, id=vm["id"], customid=new.upper())
    assert bad == f"UUID: {new.upper()} doesn't follow the UUID format"
    taken = _refused(admin.updateVirtualMachine, 431, id=vm["id"], customid=place.zone)
    assert taken == f"UUID: {place.zone} already exists so can't create/update with custom id"
    assert alice.client.listVirtualMachines()["virtualmachine"][0]["id"] == vm["id"]

    renamed = admin.updateVirtualMachine(id=vm["id"], customid=new, displayname="web")
    assert (renamed["virtualmachine"]["id"], renamed["virtualmachine"]["displayname"]) == (
        new,
        "web",
    )
    (listed,) = alice.client.listVirtualMachines()["virtualmachine"]
    assert listed["id"] == new
    assert alice.client.listVirtualMachines(id=new)["virtualmachine"][0]["name"] == vm["name"]
    # What names the VM names it by its new id: its ROOT volume, found by it.
    (root,) = alice.client.listVolumes(virtualmachineid=new)["volume"]
    assert root["virtualmachineid"] == new
    gone = _refused(alice.client.listVirtualMachines, 431, id=vm["id"])
    assert vm["id"] in gone
    _refused(alice.client.stopVirtualMachine, 431, id=vm["id"])
    stopped = alice.client.stopVirtualMachine(id=new, fetch_result=True)
    assert (stopped["virtualmachine"]["id"], stopped["virtualmachine"]["state"]) == (
        new,
        "Stopped",
    )
    # Renamed once more: the first custom id goes the way of the original.
    newer = str(uuid.uuid4())
    admin.updateVirtualMachine(id=new, customid=newer)
    assert alice.client.listVirtualMachines()["virtualmachine"][0]["id"] == newer
    assert alice.client.listVirtualMachines(id=new) == {}
    # An id once given is never given again: not to a new VM, not back to the first.
    again = _refused(admin.updateVirtualMachine, 431, id=newer, customid=new)
    assert "already exists" in again
    assert "already exists" in _refused(
        admin.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        customid=new,
    )


def test_a_volume_is_created_under_a_custom_id_and_renamed_by_update(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    offering = _custom_offering(admin)
    chosen = str(uuid.uuid4())
    params = {"zoneid": place.zone, "diskofferingid": offering["id"], "size": 1}
    text = _refused(alice.client.createVolume, 531, name="d", customid=chosen, **params)
    assert "not allowed to create/update custom id" in text
    assert alice.client.listVolumes() == {}

    made = admin.createVolume(
        name="d",
        customid=chosen,
        account=alice.username,
        domainid=alice.domain_id,
        fetch_result=True,
        **params,
    )["volume"]
    assert made["id"] == chosen
    assert alice.client.listVolumes(id=chosen)["volume"][0]["name"] == "d"
    vm = _deploy(alice.client, place, place.small)
    attached = alice.client.attachVolume(id=chosen, virtualmachineid=vm["id"], fetch_result=True)
    assert attached["volume"]["id"] == chosen

    later = str(uuid.uuid4())
    answer = admin.updateVolume(id=chosen, customid=later, fetch_result=True)
    assert answer["volume"]["id"] == later
    ids = {v["id"] for v in alice.client.listVolumes(virtualmachineid=vm["id"])["volume"]}
    assert later in ids and chosen not in ids
    assert alice.client.listVolumes(id=chosen) == {}


def _renamed(admin: CloudStack, command: str, item_key: str, old: str) -> str:
    """Rename a resource by its update command (a job) and return the id its answer shows."""
    new = str(uuid.uuid4())
    answer = getattr(admin, command)(id=old, customid=new, fetch_result=True)
    assert answer[item_key]["id"] == new, answer
    return new


def test_a_vpc_and_an_acl_item_answer_their_custom_ids(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    (offering,) = admin.listVPCOfferings(name="Default VPC offering")["vpcoffering"]
    vpc = admin.createVPC(
        name="v",
        displaytext="v",
        cidr="10.70.0.0/16",
        vpcofferingid=offering["id"],
        zoneid=place.zone,
        fetch_result=True,
    )["vpc"]
    vpc_id = _renamed(admin, "updateVPC", "vpc", vpc["id"])
    assert [v["id"] for v in admin.listVPCs()["vpc"]] == [vpc_id]
    _refused(admin.updateVPC, 431, id=vpc["id"], name="old")
    acl = admin.createNetworkACLList(
        name="edge", description="edge", vpcid=vpc_id, fetch_result=True
    )["networkacllist"]
    assert acl["vpcid"] == vpc_id
    item = admin.createNetworkACL(
        aclid=acl["id"],
        protocol="tcp",
        startport=443,
        endport=443,
        cidrlist="198.51.100.0/24",
        traffictype="Ingress",
        action="Allow",
        number=5,
        fetch_result=True,
    )["networkacl"]
    item_id = _renamed(admin, "updateNetworkACLItem", "networkacl", item["id"])
    (listed,) = admin.listNetworkACLs(aclid=acl["id"])["networkacl"]
    assert listed["id"] == item_id
    assert admin.listNetworkACLs(id=item_id)["networkacl"][0]["number"] == 5


def test_networks_rules_and_autoscale_answer_their_custom_ids(sandbox) -> None:
    world = _balancer(sandbox)
    admin, alice, bob, rule = world["admin"], world["alice"], world["bob"], world["rule"]
    user, place = alice.client, world["place"]
    (network,) = user.listNetworks()["network"]
    # Only a root administrator renames, even what the caller owns; nothing changes.
    text = _refused(user.updateNetwork, 531, id=network["id"], customid=str(uuid.uuid4()))
    assert "not allowed to create/update custom id" in text
    assert user.listNetworks()["network"][0]["id"] == network["id"]

    network_id = _renamed(admin, "updateNetwork", "network", network["id"])
    (vm,) = user.listVirtualMachines()["virtualmachine"]
    assert [n["networkid"] for n in vm["nic"]] == [network_id]
    assert user.listNetworks(id=network_id)["network"][0]["name"] == "web"
    rule_id = _renamed(admin, "updateLoadBalancerRule", "loadbalancer", rule["id"])
    assert [r["id"] for r in user.listLoadBalancerRules()["loadbalancerrule"]] == [rule_id]
    (ip,) = user.listPublicIpAddresses(isstaticnat="false", issourcenat="false")["publicipaddress"]
    forward = user.createPortForwardingRule(
        ipaddressid=ip["id"],
        privateport=22,
        publicport=22,
        protocol="tcp",
        virtualmachineid=vm["id"],
        fetch_result=True,
    )["portforwardingrule"]
    forward_id = _renamed(admin, "updatePortForwardingRule", "portforwardingrule", forward["id"])
    assert [r["id"] for r in user.listPortForwardingRules()["portforwardingrule"]] == [forward_id]
    # Another account finds nothing under the new ids.
    assert bob.client.listPortForwardingRules(id=forward_id) == {}
    _refused(bob.client.deletePortForwardingRule, 531, id=forward_id)

    admin.registerUserKeys(id=world["scaler"]["id"])
    profile = user.createAutoScaleVmProfile(
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        autoscaleuserid=world["scaler"]["id"],
        fetch_result=True,
    )["autoscalevmprofile"]
    profile_id = _renamed(admin, "updateAutoScaleVmProfile", "autoscalevmprofile", profile["id"])
    reads = _counter(user, "vm.disk.read.bytes")
    policies = {}
    for action, operator in (("scaleup", "GT"), ("scaledown", "LT")):
        condition = user.createCondition(
            counterid=reads, relationaloperator=operator, threshold=1000, fetch_result=True
        )["condition"]
        policies[action] = user.createAutoScalePolicy(
            action=action, duration=60, conditionids=condition["id"], fetch_result=True
        )["autoscalepolicy"]["id"]
    group = user.createAutoScaleVmGroup(
        lbruleid=rule_id,
        minmembers=1,
        maxmembers=1,
        interval=30,
        scaleuppolicyids=policies["scaleup"],
        scaledownpolicyids=policies["scaledown"],
        vmprofileid=profile_id,
        fetch_result=True,
    )["autoscalevmgroup"]
    assert (group["lbruleid"], group["vmprofileid"]) == (rule_id, profile_id)
    group_id = _renamed(admin, "updateAutoScaleVmGroup", "autoscalevmgroup", group["id"])
    (listed,) = user.listAutoScaleVmGroups()["autoscalevmgroup"]
    assert (listed["id"], listed["lbruleid"]) == (group_id, rule_id)
    # The server's own work goes on under the resources' own ids: the group deploys its
    # member into the renamed network and puts it behind the renamed rule.
    (member,) = wait_for(lambda: _members(user, rule_id) or None, 60)
    (deployed,) = user.listVirtualMachines(id=member)["virtualmachine"]
    assert [n["networkid"] for n in deployed["nic"]] == [network_id]
