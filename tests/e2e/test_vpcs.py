"""A VPC through the `cs` client, on every leg (SQLite, PostgreSQL, and NATS with the simulator
adapter in a process of its own): two tiers, an ACL list with items applied to a tier by the
VPC's router (whose ACLs the test reads from the file named by STRATUS_SIMULATOR_ACLS), VMs
deployed into the tiers, restartVPC, the refusals that change nothing, and deleting in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cs import CloudStack

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_network_rules import refused
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, routers, wait_for
from tests.e2e.test_vms import Place, _deploy, _host, _place
from tests.e2e.zones import enable_router_provider

TIER_OFFERING = "DefaultIsolatedNetworkOfferingForVpcNetworks"


def held_acls(sandbox: Sandbox, router: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """The generation and per-tier ACLs the VPC's router holds, as the simulator reports them."""
    path = Path(sandbox.env["STRATUS_SIMULATOR_ACLS"])
    if not path.exists():
        return 0, []
    held = json.loads(path.read_text()).get(router["name"], {})
    return int(held.get("generation", 0)), list(held.get("rules", []))


def _zone(admin: CloudStack) -> Place:
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    register_template(admin, SYSTEM_TEMPLATE)
    physical = admin.createPhysicalNetwork(
        zoneid=place.zone,
        name="fabric",
        isolationmethods="VXLAN",
        vlan="7000-7009",
        fetch_result=True,
    )["physicalnetwork"]
    admin.updatePhysicalNetwork(id=physical["id"], state="Enabled", fetch_result=True)
    enable_router_provider(admin, physical["id"], "VpcVirtualRouter")
    admin.createVlanIpRange(  # a VPC takes its source NAT address from it when it starts
        zoneid=place.zone,
        vlan="100",
        gateway="203.0.113.1",
        netmask="255.255.255.0",
        startip="203.0.113.10",
        endip="203.0.113.14",
        forvirtualnetwork="true",
    )
    return place


def _tier(client: CloudStack, place: Place, vpc: dict, third: int, **extra: Any) -> dict:
    offering = client.listNetworkOfferings(name=TIER_OFFERING)["networkoffering"][0]
    return client.createNetwork(
        name=f"tier{third}",
        displaytext=f"tier {third}",
        networkofferingid=offering["id"],
        zoneid=place.zone,
        vpcid=vpc["id"],
        gateway=f"10.50.{third}.1",
        netmask="255.255.255.0",
        **extra,
    )["network"]


def test_a_vpc_with_two_tiers_acls_vms_restart_and_delete_in_order(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    user = alice.client
    tier_offerings = user.listNetworkOfferings(forvpc="true")["networkoffering"]
    assert sorted(o["name"] for o in tier_offerings) == [
        TIER_OFFERING,
        f"{TIER_OFFERING}NoLB",
        f"{TIER_OFFERING}WithInternalLB",
    ]
    assert all(o["forvpc"] for o in tier_offerings)
    (offering,) = user.listVPCOfferings(name="Default VPC offering")["vpcoffering"]
    assert offering["state"] == "Enabled" and offering["isdefault"] is True
    assert {s["name"] for s in offering["service"]} >= {"NetworkACL", "SourceNat", "Dhcp"}

    vpc = user.createVPC(
        name="shop",
        displaytext="shop",
        cidr="10.50.0.0/16",
        vpcofferingid=offering["id"],
        zoneid=place.zone,
        fetch_result=True,
    )["vpc"]
    assert (vpc["cidr"], vpc["state"], vpc["network"]) == ("10.50.0.0/16", "Enabled", [])

    def running() -> dict | None:
        found = routers(admin, vpcid=vpc["id"])
        return found[0] if found and found[0]["state"] == "Running" else None

    router = wait_for(running, 30)
    assert router, "the VPC's router did not come up"
    admin.updateResourceLimit(
        account=alice.username, domainid=alice.domain_id, resourcetype=7, max=1
    )
    assert (
        "vpc"
        in refused(
            user.createVPC,
            535,
            name="second",
            displaytext="second",
            cidr="10.51.0.0/16",
            vpcofferingid=offering["id"],
            zoneid=place.zone,
        ).lower()
    )
    assert [v["name"] for v in user.listVPCs()["vpc"]] == ["shop"]

    # An ACL list with an item, before any tier uses it: active at once
    acl = user.createNetworkACLList(
        name="web", description="web tier", vpcid=vpc["id"], fetch_result=True
    )["networkacllist"]
    ssh = user.createNetworkACL(
        aclid=acl["id"],
        protocol="tcp",
        startport=22,
        endport=22,
        cidrlist="192.0.2.0/24",
        traffictype="Ingress",
        action="Allow",
        number=10,
        fetch_result=True,
    )["networkacl"]
    assert (ssh["state"], ssh["number"], ssh["cidrlist"]) == ("Active", 10, "192.0.2.0/24")

    # Two tiers: the web tier with the list, the db tier with the default deny list
    web = _tier(user, place, vpc, 1, aclid=acl["id"])
    db = _tier(user, place, vpc, 2)
    assert (web["vpcid"], web["aclid"]) == (vpc["id"], acl["id"])
    lists = {a["name"]: a["id"] for a in user.listNetworkACLLists()["networkacllist"]}
    assert db["aclid"] == lists["default_deny"] and "default_allow" in lists
    assert "crosses other network cidr" in refused(
        user.createNetwork,
        431,
        name="x",
        displaytext="x",
        zoneid=place.zone,
        networkofferingid=web["networkofferingid"],
        vpcid=vpc["id"],
        gateway="10.50.1.129",
        netmask="255.255.255.128",
    )
    assert "is not within vpc" in refused(
        user.createNetwork,
        431,
        name="x",
        displaytext="x",
        zoneid=place.zone,
        networkofferingid=web["networkofferingid"],
        vpcid=vpc["id"],
        gateway="10.60.1.1",
        netmask="255.255.255.0",
    )

    # VMs in both tiers; the router holds each tier's items
    vms = [_deploy(user, place, place.small, networkids=t["id"]) for t in (web, db)]
    assert [v["nic"][0]["ipaddress"].rsplit(".", 2)[1] for v in vms] == ["1", "2"]
    # listVirtualMachines finds them by their VPC (beside networkid the network decides, as in
    # 4.3) and as VMs of isolated (virtual) networks
    in_vpc = user.listVirtualMachines(vpcid=vpc["id"])["virtualmachine"]
    assert sorted(v["id"] for v in in_vpc) == sorted(v["id"] for v in vms)
    by_tier = user.listVirtualMachines(vpcid=vpc["id"], networkid=db["id"])["virtualmachine"]
    assert [v["id"] for v in by_tier] == [vms[1]["id"]]
    assert bob.client.listVirtualMachines(vpcid=vpc["id"]) == {}
    virtual = user.listVirtualMachines(forvirtualnetwork="true")["virtualmachine"]
    assert sorted(v["id"] for v in virtual) == sorted(v["id"] for v in vms)
    assert user.listVirtualMachines(forvirtualnetwork="false") == {}
    # A VPC is tagged by its owner, found by its tags and answered with them
    tag = {"tags[0].key": "env", "tags[0].value": "prod"}
    user.createTags(resourceids=vpc["id"], resourcetype="Vpc", fetch_result=True, **tag)
    tagged = user.listVPCs(**tag)["vpc"]
    assert [v["id"] for v in tagged] == [vpc["id"]]
    assert [(t["key"], t["value"]) for t in tagged[0]["tags"]] == [("env", "prod")]
    assert user.listVPCs(**{"tags[0].key": "env", "tags[0].value": "dev"}) == {}
    refused(bob.client.createTags, 531, resourceids=vpc["id"], resourcetype="Vpc",
            fetch_result=True, **tag)  # fmt: skip
    icmp = user.createNetworkACL(
        aclid=acl["id"],
        protocol="icmp",
        icmptype=8,
        icmpcode=0,
        traffictype="Ingress",
        fetch_result=True,
    )["networkacl"]
    assert (icmp["state"], icmp["number"], icmp["icmptype"]) == ("Active", 11, 8)
    generation, tiers = held_acls(sandbox, router)
    by_tier = {t["network_id"]: [i["number"] for i in t["items"]] for t in tiers}
    assert by_tier == {web["id"]: [10, 11], db["id"]: [1, 2]}

    # Answers carry 4.3's response fields, but those declared unbuilt
    answers = {
        "listVPCOfferings": user.listVPCOfferings()["vpcoffering"],
        "listVPCs": user.listVPCs()["vpc"],
        "listNetworkACLLists": user.listNetworkACLLists()["networkacllist"],
        "listNetworkACLs": user.listNetworkACLs(aclid=acl["id"])["networkacl"],
    }
    for command, items in answers.items():
        expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
        assert expected <= set().union(*(set(item) for item in items)), command

    # Refusals that change nothing
    assert "already exists" in refused(
        user.createNetworkACL, 431, aclid=acl["id"], protocol="udp", number=10
    )
    assert "cannot be removed" in refused(user.deleteNetworkACLList, 431, id=lists["default_deny"])
    assert "Default ACL cannot be modified" in refused(
        user.createNetworkACL, 431, aclid=lists["default_allow"], protocol="tcp"
    )
    assert "used by 2 networks" in refused(user.deleteVPC, 431, id=vpc["id"])
    assert "still associated" in refused(user.deleteNetworkACLList, 536, id=acl["id"])
    refused(bob.client.deleteVPC, 531, id=vpc["id"])
    assert bob.client.listVPCs().get("vpc", []) == []
    assert [i["number"] for i in user.listNetworkACLs(aclid=acl["id"])["networkacl"]] == [10, 11]

    # An item changed, the db tier given the allow list, the VPC restarted
    changed = user.updateNetworkACLItem(
        id=ssh["id"], cidrlist="198.51.100.0/24", fetch_result=True
    )["networkacl"]
    assert (changed["cidrlist"], changed["state"]) == ("198.51.100.0/24", "Active")
    user.replaceNetworkACLList(aclid=lists["default_allow"], networkid=db["id"], fetch_result=True)
    restarted = user.restartVPC(id=vpc["id"], fetch_result=True)["vpc"]
    assert {n["id"] for n in restarted["network"]} == {web["id"], db["id"]}
    again, tiers = held_acls(sandbox, router)
    assert again > generation
    assert {t["network_id"]: t["acl_id"] for t in tiers}[db["id"]] == lists["default_allow"]

    # A private gateway (root administrators make them) and a static route through it
    gateway = admin.createPrivateGateway(
        vpcid=vpc["id"],
        gateway="172.16.0.1",
        ipaddress="172.16.0.5",
        netmask="255.255.255.0",
        vlan="710",
        sourcenatsupported="true",
        fetch_result=True,
    )["privategateway"]
    assert (gateway["state"], gateway["aclid"]) == ("Ready", lists["default_deny"])
    assert gateway["sourcenatsupported"] is True
    # the router's gateway carries source NAT of the VPC's tiers to the gateway's address
    (held,) = [e for e in held_acls(sandbox, router)[1] if e.get("kind") == "private_gateway"]
    assert (held["ip_address"], held["source_nat"]) == ("172.16.0.5", True)
    assert held["source_nat_cidrs"] == sorted([web["cidr"], db["cidr"]])
    route = user.createStaticRoute(
        gatewayid=gateway["id"], cidr="192.168.8.0/24", fetch_result=True
    )["staticroute"]
    assert (route["state"], route["vpcid"]) == ("Active", vpc["id"])
    assert "outside of VPC cidr" in refused(
        user.createStaticRoute, 431, gatewayid=gateway["id"], cidr="10.50.9.0/24"
    )
    refused(
        user.createPrivateGateway,
        432,
        vpcid=vpc["id"],
        gateway="172.16.1.1",
        ipaddress="172.16.1.5",
        netmask="255.255.255.0",
        vlan="711",
    )
    (shown,) = user.listPrivateGateways(vpcid=vpc["id"])["privategateway"]
    assert (shown["id"], shown["sourcenatsupported"]) == (gateway["id"], True)
    listed = {
        "listPrivateGateways": user.listPrivateGateways(vpcid=vpc["id"])["privategateway"],
        "listStaticRoutes": user.listStaticRoutes(vpcid=vpc["id"])["staticroute"],
    }
    for command, items in listed.items():
        expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
        assert expected <= set().union(*(set(item) for item in items)), command
    kinds = [entry.get("kind") for entry in held_acls(sandbox, router)[1]]
    assert kinds.count("private_gateway") == 1 and kinds.count("static_route") == 1
    assert bob.client.listStaticRoutes().get("staticroute", []) == []
    user.deleteStaticRoute(id=route["id"], fetch_result=True)
    admin.deletePrivateGateway(id=gateway["id"], fetch_result=True)
    assert user.listPrivateGateways().get("privategateway", []) == []

    # Delete in order: VMs, tiers, the list, the VPC (its router goes with it)
    for vm in vms:
        admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)
    for tier in (web, db):
        user.deleteNetwork(id=tier["id"], fetch_result=True)
    user.deleteNetworkACL(id=icmp["id"], fetch_result=True)
    user.deleteNetworkACLList(id=acl["id"], fetch_result=True)
    user.deleteVPC(id=vpc["id"], fetch_result=True)
    assert user.listVPCs().get("vpc", []) == []
    assert wait_for(lambda: not running(), 30)
    refused(user.restartVPC, 431, id=vpc["id"])


def test_a_vpc_offering_names_the_system_offering_its_vpcs_routers_start_with(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    roomy = admin.createServiceOffering(
        name="roomy vpc router",
        displaytext="roomy vpc router",
        cpunumber=1,
        cpuspeed=600,
        memory=320,
        issystem="true",
        systemvmtype="domainrouter",
    )["serviceoffering"]
    services = "Dhcp,Dns,SourceNat,NetworkACL"
    small = admin.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    refused(
        admin.createVPCOffering, 431, name="guests", displaytext="guests",
        supportedservices=services, serviceofferingid=small["id"],
    )  # fmt: skip
    offering = admin.createVPCOffering(
        name="roomy", displaytext="roomy", supportedservices=services,
        serviceofferingid=roomy["id"], fetch_result=True,
    )["vpcoffering"]  # fmt: skip
    admin.updateVPCOffering(id=offering["id"], state="Enabled", fetch_result=True)
    user = make_tenant(sandbox, admin).client
    vpc = user.createVPC(
        name="roomy", displaytext="roomy", cidr="10.60.0.0/16", vpcofferingid=offering["id"],
        zoneid=place.zone, fetch_result=True,
    )["vpc"]  # fmt: skip
    router = wait_for(lambda: routers(admin, vpcid=vpc["id"]), 30)
    assert router and router[0]["serviceofferingid"] == roomy["id"]
    assert (router[0]["serviceofferingname"], router[0]["role"]) == (
        "roomy vpc router",
        "VIRTUAL_ROUTER",
    )
