"""Egress firewall rules through the `cs` client, on SQLite, PostgreSQL and NATS (the simulator
adapter in its own process): the router holds them with its network offering's egress policy,
bad input and other tenants are refused and change nothing."""

from __future__ import annotations

from tests.e2e.test_network_rules import applied, refused, tenant_with_network


def test_egress_rules_reach_the_router_with_the_offerings_policy(sandbox) -> None:
    admin, alice, bob, network, _ = tenant_with_network(sandbox)
    router, user = network["router"], alice.client

    rule = user.createEgressFirewallRule(
        networkid=network["id"], protocol="tcp", startport=80, endport=443, fetch_result=True
    )["firewallrule"]
    assert (rule["state"], rule["protocol"], rule["startport"], rule["endport"]) == (
        "Active",
        "tcp",
        "80",
        "443",
    )
    assert rule["networkid"] == network["id"] and rule["cidrlist"] == network["cidr"]
    assert "ipaddressid" not in rule
    ping = user.createEgressFirewallRule(
        networkid=network["id"],
        protocol="icmp",
        icmptype=8,
        icmpcode=0,
        cidrlist=network["cidr"],
        fetch_result=True,
    )["firewallrule"]
    assert (ping["icmptype"], ping["icmpcode"]) == (8, 0)

    held = applied(sandbox, router)
    egress = {r["id"]: r for r in held if r.get("kind") == "FirewallEgress"}
    assert set(egress) == {rule["id"], ping["id"]}
    assert (egress[rule["id"]]["start_port"], egress[rule["id"]]["end_port"]) == (80, 443)
    # The seeded offering denies what no egress rule allows, as 4.3's does.
    assert {"kind": "EgressDefault", "allow": False} in held

    listed = user.listEgressFirewallRules(networkid=network["id"])["firewallrule"]
    assert [r["id"] for r in listed] == [rule["id"], ping["id"]]
    assert user.listEgressFirewallRules(id=ping["id"])["count"] == 1
    assert user.listFirewallRules(networkid=network["id"]) == {}  # ingress rules stay apart
    assert bob.client.listEgressFirewallRules() == {}

    # Bad input as 4.3 answers it; nothing is recorded.
    overlap = {"networkid": network["id"], "protocol": "tcp", "startport": 443, "endport": 500}
    refused(user.createEgressFirewallRule, 537, **overlap)
    refused(user.createEgressFirewallRule, 431, networkid=network["id"], protocol="gre")
    refused(
        user.createEgressFirewallRule,
        431,
        networkid=network["id"],
        protocol="tcp",
        startport=22,
        cidrlist="192.0.2.0/24",
    )
    refused(
        user.createEgressFirewallRule,
        431,
        networkid=network["id"],
        protocol="icmp",
        startport=22,
    )
    refused(
        user.createEgressFirewallRule, 431, networkid=network["id"], protocol="tcp", startport=0
    )
    refused(
        user.createEgressFirewallRule,
        431,
        networkid=admin.listZones()["zone"][0]["id"],
        protocol="tcp",
    )
    refused(bob.client.createEgressFirewallRule, 531, networkid=network["id"], protocol="udp")
    refused(bob.client.deleteEgressFirewallRule, 531, id=rule["id"])
    refused(user.deleteFirewallRule, 431, id=rule["id"])  # an egress rule is not an ingress one
    assert user.listEgressFirewallRules(networkid=network["id"])["count"] == 2

    done = user.deleteEgressFirewallRule(id=rule["id"], fetch_result=True)
    assert done["success"] is True
    assert user.listEgressFirewallRules(networkid=network["id"])["count"] == 1
    assert rule["id"] not in {r.get("id") for r in applied(sandbox, router)}
