"""A project's VPC through the `cs` client, on every leg: a member makes it with `projectid`
(the project's account owns it), members see it and its private gateway, static routes, ACL
lists and items with `projectid=<id>` or `-1`, others are refused; static routes and ACL items
are tagged, found by their tags, and lose their tags when they go."""

from __future__ import annotations

from typing import Any

from cs import CloudStack

from tests.e2e.factories import make_tenant
from tests.e2e.test_network_rules import refused
from tests.e2e.test_tags import _tag, _tags, _untag
from tests.e2e.test_vpcs import _zone


def _ids(answer: dict[str, Any], key: str) -> list[str]:
    return [item["id"] for item in answer.get(key, [])]


def _tag_keys(client: CloudStack, **filters: Any) -> set[tuple[str, str, str]]:
    return {
        (t["resourceid"], t["key"], t["value"]) for t in client.listTags(**filters).get("tag", [])
    }


def test_a_projects_vpc_its_routes_and_acls_are_the_members_and_tagged(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    alice, bob, carol = (make_tenant(sandbox, admin) for _ in range(3))
    project = alice.client.createProject(name="net", displaytext="net team", fetch_result=True)[
        "project"
    ]
    alice.client.addAccountToProject(
        projectid=project["id"], account=bob.username, fetch_result=True
    )
    pid = project["id"]
    (offering,) = bob.client.listVPCOfferings(name="Default VPC offering")["vpcoffering"]
    given = {
        "name": "team",
        "displaytext": "team",
        "cidr": "10.60.0.0/16",
        "vpcofferingid": offering["id"],
        "zoneid": place.zone,
    }

    # Outsiders and bad owners are refused and nothing is made
    assert "can't access project" in refused(carol.client.createVPC, 531, projectid=pid, **given)
    refused(bob.client.createVPC, 431, projectid=pid, account=bob.username, **given)
    assert "vpc" not in admin.listVPCs(listall=True, projectid="-1")

    vpc = bob.client.createVPC(projectid=pid, fetch_result=True, **given)["vpc"]
    assert (vpc["projectid"], vpc["project"]) == (pid, "net")
    assert vpc["account"] != bob.username and vpc["domainid"] == bob.domain_id

    # Members see it with the project named or with -1; lists without a project leave it out
    assert _ids(bob.client.listVPCs(projectid=pid), "vpc") == [vpc["id"]]
    assert _ids(alice.client.listVPCs(projectid="-1"), "vpc") == [vpc["id"]]
    assert _ids(bob.client.listVPCs(), "vpc") == []
    assert _ids(admin.listVPCs(listall=True), "vpc") == []
    assert _ids(admin.listVPCs(listall=True, projectid=pid), "vpc") == [vpc["id"]]
    assert _ids(carol.client.listVPCs(projectid="-1"), "vpc") == []
    refused(carol.client.listVPCs, 531, projectid=pid)
    refused(carol.client.listVPCs, 431, projectid="4c1a8b8e-0000-4000-8000-000000000000")
    (shown,) = bob.client.listVPCs(projectid=pid, id=vpc["id"])["vpc"]
    assert (shown["projectid"], shown["project"]) == (pid, "net")
    refused(carol.client.updateVPC, 531, id=vpc["id"], name="mine")

    # A private gateway (root admins make it) and a member's static route through it
    gateway = admin.createPrivateGateway(
        vpcid=vpc["id"],
        gateway="172.17.0.1",
        ipaddress="172.17.0.5",
        netmask="255.255.255.0",
        vlan="720",
        fetch_result=True,
    )["privategateway"]
    assert (gateway["projectid"], gateway["project"]) == (pid, "net")
    assert _ids(bob.client.listPrivateGateways(projectid=pid), "privategateway") == [gateway["id"]]
    assert _ids(alice.client.listPrivateGateways(projectid="-1"), "privategateway") == [
        gateway["id"]
    ]
    assert _ids(bob.client.listPrivateGateways(), "privategateway") == []
    refused(carol.client.listPrivateGateways, 531, projectid=pid)

    route = bob.client.createStaticRoute(
        gatewayid=gateway["id"], cidr="192.168.40.0/24", fetch_result=True
    )["staticroute"]
    other = alice.client.createStaticRoute(
        gatewayid=gateway["id"], cidr="192.168.41.0/24", fetch_result=True
    )["staticroute"]
    assert (route["projectid"], route["tags"]) == (pid, [])
    assert _ids(alice.client.listStaticRoutes(projectid=pid), "staticroute") == [
        route["id"],
        other["id"],
    ]
    assert _ids(bob.client.listStaticRoutes(projectid="-1"), "staticroute") == [
        route["id"],
        other["id"],
    ]
    assert _ids(bob.client.listStaticRoutes(), "staticroute") == []
    refused(carol.client.listStaticRoutes, 531, projectid=pid)
    refused(carol.client.deleteStaticRoute, 531, id=route["id"])

    # Tagging static routes: members tag them, lists find them by tag and show the tags
    _tag(bob.client, "StaticRoute", route["id"], site="east")
    refused(
        carol.client.createTags,
        531,
        resourceids=route["id"],
        resourcetype="StaticRoute",
        **_tags(site="west"),
    )
    (found,) = alice.client.listStaticRoutes(projectid=pid, **_tags(site="east"))["staticroute"]
    assert found["id"] == route["id"]
    assert [(t["key"], t["value"], t["resourcetype"]) for t in found["tags"]] == [
        ("site", "east", "StaticRoute")
    ]
    assert "staticroute" not in bob.client.listStaticRoutes(projectid=pid, **_tags(site="west"))
    assert _tag_keys(bob.client, projectid=pid, resourcetype="StaticRoute") == {
        (route["id"], "site", "east")
    }
    assert _tag_keys(carol.client, resourcetype="StaticRoute") == set()

    # ACL lists and items of the project's VPC
    acl = bob.client.createNetworkACLList(
        name="edge", description="edge", vpcid=vpc["id"], fetch_result=True
    )["networkacllist"]
    item = bob.client.createNetworkACL(
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
    assert item["tags"] == []
    assert acl["id"] in _ids(alice.client.listNetworkACLLists(projectid=pid), "networkacllist")
    assert acl["id"] in _ids(bob.client.listNetworkACLLists(projectid="-1"), "networkacllist")
    assert acl["id"] not in _ids(bob.client.listNetworkACLLists(), "networkacllist")
    assert acl["id"] not in _ids(carol.client.listNetworkACLLists(projectid="-1"), "networkacllist")
    refused(carol.client.listNetworkACLLists, 531, projectid=pid)
    assert _ids(alice.client.listNetworkACLs(projectid=pid, aclid=acl["id"]), "networkacl") == [
        item["id"]
    ]
    assert _ids(bob.client.listNetworkACLs(aclid=acl["id"]), "networkacl") == []
    refused(carol.client.listNetworkACLs, 531, projectid=pid)

    _tag(alice.client, "NetworkACL", item["id"], tier="web", owner="ops")
    refused(
        carol.client.createTags,
        531,
        resourceids=item["id"],
        resourcetype="NetworkACL",
        **_tags(tier="db"),
    )
    (tagged,) = bob.client.listNetworkACLs(projectid=pid, **_tags(tier="web"))["networkacl"]
    assert tagged["id"] == item["id"]
    assert {(t["key"], t["value"]) for t in tagged["tags"]} == {("tier", "web"), ("owner", "ops")}
    assert "networkacl" not in bob.client.listNetworkACLs(projectid=pid, **_tags(tier="db"))
    _untag(bob.client, "NetworkACL", item["id"], owner="ops")
    assert _tag_keys(alice.client, projectid=pid, resourcetype="NetworkACL") == {
        (item["id"], "tier", "web")
    }

    # Global load balancer rules are listed per project too (a project has none here)
    assert "globalloadbalancerrule" not in bob.client.listGlobalLoadBalancerRules(projectid=pid)
    refused(carol.client.listGlobalLoadBalancerRules, 531, projectid=pid)

    # A resource's tags go with it
    bob.client.deleteStaticRoute(id=route["id"], fetch_result=True)
    bob.client.deleteNetworkACL(id=item["id"], fetch_result=True)
    assert _tag_keys(alice.client, projectid=pid) == set()
    refused(
        bob.client.createTags,
        431,
        resourceids=route["id"],
        resourcetype="StaticRoute",
        **_tags(site="gone"),
    )
