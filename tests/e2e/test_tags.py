"""Resource tags through the `cs` client: an account tags what it owns (VMs, volumes,
snapshots, templates, networks, addresses, rules, groups, VM snapshots), every tagged list finds
its resources by tag and shows their tags, a resource's tags go with it, and nobody sees or
changes another account's tags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import Tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_network_rules import tenant_with_network
from tests.e2e.test_vms import Place, _deploy


@dataclass
class World:
    admin: CloudStack
    alice: Tenant
    bob: Tenant
    place: Place
    ids: dict[str, str]
    domain_name: str


@pytest.fixture(scope="module")
def world(leg) -> World:
    """One account owning one resource of every kind it can tag, and another account."""
    sandbox = Sandbox.open(leg)
    admin, alice, bob, network, (vm, _) = tenant_with_network(sandbox)
    user, ids = alice.client, {"vm": vm["id"], "network": network["id"]}
    ids["root"] = user.listVolumes(virtualmachineid=vm["id"])["volume"][0]["id"]
    ids["snapshot"] = user.createSnapshot(volumeid=ids["root"], fetch_result=True)["snapshot"]["id"]
    ids["vmsnapshot"] = user.createVMSnapshot(virtualmachineid=vm["id"], fetch_result=True)[
        "vmsnapshot"
    ]["id"]
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    ids["ip"] = ip["id"]
    ids["firewall"] = user.createFirewallRule(
        ipaddressid=ip["id"], protocol="tcp", startport=1000, endport=1000, fetch_result=True
    )["firewallrule"]["id"]
    ids["portforward"] = user.createPortForwardingRule(
        ipaddressid=ip["id"],
        privateport=22,
        publicport=22,
        protocol="tcp",
        virtualmachineid=vm["id"],
        fetch_result=True,
    )["portforwardingrule"]["id"]
    ids["loadbalancer"] = user.createLoadBalancerRule(
        publicipid=ip["id"],
        name="lb",
        algorithm="roundrobin",
        publicport=80,
        privateport=8080,
        fetch_result=True,
    )["loadbalancer"]["id"]
    ids["securitygroup"] = user.createSecurityGroup(name="sg")["securitygroup"]["id"]
    (nat,) = user.listPublicIpAddresses(issourcenat="true")["publicipaddress"]
    vpn = user.createRemoteAccessVpn(publicipid=nat["id"], fetch_result=True)
    ids["vpn"] = vpn["remoteaccessvpn"]["id"]
    ids["template"] = user.registerTemplate(
        name="own",
        displaytext="own",
        url="http://images.example.org/own.qcow2",
        hypervisor="Simulator",
        format="QCOW2",
        ostypeid=user.listOsTypes()["ostype"][0]["id"],
        zoneid=network["zoneid"],
    )["template"][0]["id"]
    place = _place_of(admin, network["zoneid"])
    return World(admin, alice, bob, place, ids, sandbox.domain_name)


def _place_of(admin: CloudStack, zone_id: str) -> Place:
    """The place the world's VMs were deployed in (made once by `tenant_with_network`)."""
    offerings = admin.listServiceOfferings()["serviceoffering"]
    small = next(o for o in offerings if o["name"] == "Small Instance")
    pod = admin.listPods(zoneid=zone_id)["pod"][0]["id"]
    cluster = admin.listClusters(zoneid=zone_id)["cluster"][0]["id"]
    templates = admin.listTemplates(templatefilter="all", name="tiny")["template"]
    return Place(zone_id, pod, cluster, small, {}, templates[0]["id"])


def _tags(**pairs: str) -> dict[str, str]:
    found = {}
    for n, (key, value) in enumerate(pairs.items()):
        found[f"tags[{n}].key"], found[f"tags[{n}].value"] = key, value
    return found


def _tag(client: CloudStack, kind: str, *ids: str, customer: str = "", **pairs: str) -> None:
    extra = {"customer": customer} if customer else {}
    client.createTags(
        resourceids=",".join(ids), resourcetype=kind, fetch_result=True, **extra, **_tags(**pairs)
    )


def _untag(client: CloudStack, kind: str, *ids: str, **pairs: str) -> None:
    client.deleteTags(
        resourceids=",".join(ids), resourcetype=kind, fetch_result=True, **_tags(**pairs)
    )


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _listed_tags(client: CloudStack, **filters: Any) -> dict[tuple[str, str], str]:
    """(resource id, key) → value, of the tags the client lists."""
    return {
        (t["resourceid"], t["key"]): t["value"] for t in client.listTags(**filters).get("tag", [])
    }


# (4.3 resource type, the world's id, the list command, its arguments, its items' key, whether
# its items show their tags)
TAGGED_LISTS = [
    ("UserVm", "vm", "listVirtualMachines", {}, "virtualmachine", True),
    ("Volume", "root", "listVolumes", {}, "volume", True),
    ("Snapshot", "snapshot", "listSnapshots", {}, "snapshot", True),
    ("Template", "template", "listTemplates", {"templatefilter": "self"}, "template", True),
    ("Network", "network", "listNetworks", {}, "network", True),
    ("PublicIpAddress", "ip", "listPublicIpAddresses", {}, "publicipaddress", True),
    (
        "PortForwardingRule",
        "portforward",
        "listPortForwardingRules",
        {},
        "portforwardingrule",
        True,
    ),
    ("FirewallRule", "firewall", "listFirewallRules", {}, "firewallrule", True),
    ("LoadBalancer", "loadbalancer", "listLoadBalancerRules", {}, "loadbalancerrule", True),
    ("SecurityGroup", "securitygroup", "listSecurityGroups", {}, "securitygroup", True),
    ("VMSnapshot", "vmsnapshot", "listVMSnapshot", {}, "vmSnapshot", False),
]


@pytest.mark.parametrize(
    "kind, key, command, args, item, shown", TAGGED_LISTS, ids=[t[0] for t in TAGGED_LISTS]
)
def test_a_tagged_resource_is_found_by_its_tag_and_shows_it(
    world: World, kind: str, key: str, command: str, args: dict, item: str, shown: bool
) -> None:
    user, resource = world.alice.client, world.ids[key]
    listing = getattr(user, command)

    def found(**pairs: str) -> list[dict]:
        return listing(**args, **_tags(**pairs)).get(item, [])

    label = f"role-{kind}"
    _tag(user, kind.lower(), resource, customer="acme", **{label: "web"})
    assert [r["id"] for r in found(**{label: "web"})] == [resource]
    assert found(**{label: "db"}) == []
    assert listing(**args, **_tags(**{label: "web"}))["count"] == 1
    expected = {
        "key": label,
        "value": "web",
        "resourcetype": kind,
        "resourceid": resource,
        "account": world.alice.username,
        "domainid": world.alice.domain_id,
        "domain": world.domain_name,
        "customer": "acme",
    }
    if shown:
        (answered,) = [r for r in listing(**args).get(item, []) if r["id"] == resource]
        assert answered["tags"] == [expected]
    (listed,) = user.listTags(resourcetype=kind.upper(), resourceid=resource)["tag"]
    assert listed == expected
    _untag(user, kind, resource, **{label: "web"})
    assert found(**{label: "web"}) == []
    assert _listed_tags(user, resourceid=resource) == {}


def test_many_resources_and_keys_at_once_any_pair_matching_a_filter(world: World) -> None:
    user, ids = world.alice.client, world.ids
    _tag(user, "Volume", ids["root"], ids["root"], tier="gold", team="red")
    _tag(user, "Network", ids["network"], tier="silver")
    _tag(user, "RemoteAccessVpn", ids["vpn"], tier="bronze")
    assert _listed_tags(user, key="tier") == {
        (ids["root"], "tier"): "gold",
        (ids["network"], "tier"): "silver",
        (ids["vpn"], "tier"): "bronze",
    }
    assert _listed_tags(user, value="red") == {(ids["root"], "team"): "red"}
    either = user.listVolumes(**_tags(tier="bronze", team="red"))["volume"]
    assert [v["id"] for v in either] == [ids["root"]]
    _untag(user, "Volume", ids["root"])  # no tags named: all of them
    _untag(user, "network", ids["network"], tier="")  # a key without a value: any value
    _untag(user, "RemoteAccessVpn", ids["vpn"])
    assert _listed_tags(user, key="tier") == {}
    assert user.listVolumes(id=ids["root"])["volume"][0]["tags"] == []


def test_a_volume_kept_for_listing_shows_each_change_of_its_tags(world: World) -> None:
    user, root = world.alice.client, world.ids["root"]

    def shown() -> list[tuple[str, str]]:
        (volume,) = [v for v in user.listVolumes()["volume"] if v["id"] == root]
        return [(t["key"], t["value"]) for t in volume["tags"]]

    assert shown() == shown() == []  # listed twice: the second answer is the kept one
    _tag(user, "Volume", root, backup="daily")
    assert shown() == [("backup", "daily")]
    _tag(user, "Volume", root, owner="ops")
    assert shown() == [("backup", "daily"), ("owner", "ops")]
    _untag(user, "Volume", root, backup="daily")
    assert shown() == [("owner", "ops")]
    _untag(user, "Volume", root)
    assert shown() == []


def test_bad_requests_are_refused_and_change_nothing(world: World) -> None:
    user, vm = world.alice.client, world.ids["vm"]
    _tag(user, "UserVm", vm, stage="prod")
    create, delete = user.createTags, user.deleteTags
    text = _refused(create, 431, resourceids=vm, resourcetype="UserVm", **_tags(stage="dev"))
    assert "already exists" in text
    _refused(create, 431, resourceids=vm, resourcetype="UserVm", **_tags(stage2=""))
    assert "Invalid resource type" in _refused(
        create, 431, resourceids=vm, resourcetype="Gadget", **_tags(a="b")
    )
    assert "type ISO" in _refused(create, 431, resourceids=vm, resourcetype="ISO", **_tags(a="b"))
    # An id of another type, or of nothing at all
    _refused(create, 431, resourceids=vm, resourcetype="Volume", **_tags(a="b"))
    ids = f"{vm},{world.ids['network']}"
    _refused(create, 431, resourceids=ids, resourcetype="UserVm", **_tags(a="b"))
    _refused(delete, 431, resourceids=vm, resourcetype="UserVm", **_tags(stage="dev"))
    _refused(user.listVirtualMachines, 431, **{"tags[0].key": "stage"})
    assert _listed_tags(user, resourceid=vm) == {(vm, "stage"): "prod"}
    _untag(user, "UserVm", vm)


def test_nobody_sees_or_changes_another_accounts_tags(world: World) -> None:
    alice, bob, vm = world.alice, world.bob, world.ids["vm"]
    _tag(alice.client, "UserVm", vm, secret="alice")
    assert _listed_tags(bob.client) == {}
    assert _listed_tags(bob.client, resourceid=vm, listall=True) == {}
    assert bob.client.listVirtualMachines(**_tags(secret="alice")) == {}
    _refused(bob.client.listTags, 531, account=alice.username, domainid=alice.domain_id)
    _refused(bob.client.createTags, 531, resourceids=vm, resourcetype="UserVm", **_tags(x="y"))
    _refused(bob.client.deleteTags, 531, resourceids=vm, resourcetype="UserVm")
    # An administrator above the owner may tag it; the tag is the owner's
    _tag(world.admin, "UserVm", vm, audited="yes")
    assert _listed_tags(alice.client, resourceid=vm) == {
        (vm, "secret"): "alice",
        (vm, "audited"): "yes",
    }
    _untag(world.admin, "UserVm", vm)
    assert _listed_tags(alice.client, resourceid=vm) == {}


def test_zones_are_tagged_by_root_administrators_and_shown_to_everybody(world: World) -> None:
    zone, offering = world.place.zone, world.place.small["id"]
    for kind, resource in (("Zone", zone), ("ServiceOffering", offering)):
        _refused(
            world.alice.client.createTags,
            531,
            resourceids=resource,
            resourcetype=kind,
            **_tags(a="b"),
        )
    _tag(world.admin, "serviceoffering", offering, tier="small")
    assert _listed_tags(world.admin, resourcetype="ServiceOffering") == {
        (offering, "tier"): "small"
    }
    _untag(world.admin, "ServiceOffering", offering, tier="small")
    _tag(world.admin, "Zone", zone, region="north")
    (seen,) = world.alice.client.listZones(**_tags(region="north"))["zone"]
    assert seen["id"] == zone and [t["value"] for t in seen["tags"]] == ["north"]
    assert world.alice.client.listZones(**_tags(region="south")) == {}
    _untag(world.admin, "Zone", zone)


def test_tags_go_with_their_resource(world: World) -> None:
    user = world.alice.client
    vm = _deploy(user, world.place, world.place.small)
    _tag(user, "UserVm", vm["id"], short="lived")
    user.destroyVirtualMachine(id=vm["id"], fetch_result=True)
    assert _listed_tags(user, resourceid=vm["id"]) == {(vm["id"], "short"): "lived"}
    world.admin.expungeVirtualMachine(id=vm["id"], fetch_result=True)
    assert _listed_tags(user, resourceid=vm["id"]) == {}
    group = user.createSecurityGroup(name="brief")["securitygroup"]["id"]
    _tag(user, "SecurityGroup", group, short="lived")
    user.deleteSecurityGroup(id=group)
    assert _listed_tags(user, key="short") == {}


def test_answers_carry_4_3_response_fields(world: World) -> None:
    user = world.alice.client
    _tag(user, "Snapshot", world.ids["snapshot"], fields="all")
    items = user.listTags(key="fields")["tag"]
    expected = set(reference()["listTags"].response) - set(UNBUILT_FIELDS["listTags"])
    assert expected - set().union(*(set(item) for item in items)) == set()
    _untag(user, "Snapshot", world.ids["snapshot"])


def test_a_project_is_tagged_by_its_members_and_found_by_its_tags(world: World) -> None:
    alice, bob = world.alice.client, world.bob.client
    project = alice.createProject(name="tagged", displaytext="tagged", fetch_result=True)
    project_id = project["project"]["id"]
    _tag(alice, "Project", project_id, cost="centre-7")
    (found,) = alice.listProjects(**_tags(cost="centre-7"))["project"]
    assert found["id"] == project_id
    assert [(t["key"], t["value"]) for t in found["tags"]] == [("cost", "centre-7")]
    assert alice.listProjects(**_tags(cost="other")) == {}
    # Another account neither sees nor changes the project's tags.
    assert bob.listProjects(**_tags(cost="centre-7")) == {}
    _refused(bob.createTags, 531, resourceids=project_id, resourcetype="Project", **_tags(a="b"))
    _refused(bob.deleteTags, 531, resourceids=project_id, resourcetype="Project")
    assert _listed_tags(bob, resourceid=project_id, listall=True) == {}
    # Its tags go with it.
    seen = {"resourceid": project_id, "listall": True, "projectid": -1}
    assert _listed_tags(world.admin, **seen) == {(project_id, "cost"): "centre-7"}
    alice.deleteProject(id=project_id, fetch_result=True)
    assert _listed_tags(world.admin, **seen) == {}


def test_a_nic_is_tagged_by_its_vms_owner_and_its_tags_go_with_it(world: World) -> None:
    alice, bob = world.alice.client, world.bob.client
    vm = _deploy(alice, world.place, world.place.small)
    (nic,) = alice.listNics(virtualmachineid=vm["id"])["nic"]
    _tag(alice, "Nic", nic["id"], role="front")
    assert _listed_tags(alice, resourcetype="Nic") == {(nic["id"], "role"): "front"}
    # Another account neither sees nor changes them.
    _refused(bob.createTags, 531, resourceids=nic["id"], resourcetype="Nic", **_tags(a="b"))
    _refused(bob.deleteTags, 531, resourceids=nic["id"], resourcetype="Nic")
    assert _listed_tags(bob, resourceid=nic["id"], listall=True) == {}
    assert "already exists" in _refused(
        alice.createTags, 431, resourceids=nic["id"], resourcetype="Nic", **_tags(role="x")
    )
    _untag(alice, "Nic", nic["id"], role="front")
    assert _listed_tags(alice, resourcetype="Nic") == {}
    # The VM's expunge takes its NIC's tags.
    _tag(alice, "Nic", nic["id"], role="back")
    alice.destroyVirtualMachine(id=vm["id"], fetch_result=True)
    world.admin.expungeVirtualMachine(id=vm["id"], fetch_result=True)
    assert _listed_tags(alice, resourceid=nic["id"]) == {}
    _refused(alice.createTags, 431, resourceids=nic["id"], resourcetype="Nic", **_tags(a="b"))
