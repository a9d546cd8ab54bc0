"""Rules on public addresses through the `cs` client, on the embedded default (SQLite and
PostgreSQL): port forwarding, firewall, load balancing and static NAT, each applied by the
network's simulated router (whose applied set the test reads from the file named by
STRATUS_SIMULATOR_RULES), conflicts refused, and another account kept out."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.hiding import assert_hidden, assert_shown, refused_flag
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, routers, wait_for
from tests.e2e.test_vms import _deploy, _host, _place


def applied(sandbox: Sandbox, router: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules the router holds, as the simulator reports them."""
    path = Path(sandbox.env["STRATUS_SIMULATOR_RULES"])
    if not path.exists():
        return []
    held = json.loads(path.read_text()).get(router["name"], {})
    return list(held.get("rules", []))


def refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as error:
        call(**params)
    assert error.value.error["errorcode"] == code, error.value.error
    return str(error.value.error["errortext"])


def job_refused(call: Any, code: int, **params: Any) -> str:
    return refused(call, code, fetch_result=True, **params)


def tenant_with_network(sandbox: Sandbox) -> tuple[CloudStack, Tenant, Tenant, dict, list[dict]]:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    offering = _offering(alice.client, SOURCE_NAT_OFFERING)
    network = alice.client.createNetwork(
        name="web", displaytext="web", networkofferingid=offering["id"], zoneid=place.zone
    )["network"]
    vms = [_deploy(alice.client, place, place.small) for _ in range(2)]

    def running() -> dict | None:
        found = routers(admin, networkid=network["id"])
        return found[0] if found and found[0]["state"] == "Running" else None

    router = wait_for(running, 30)
    assert router, "the network's router did not come up"
    return admin, alice, bob, {**network, "router": router}, vms


def racing_creates(sandbox: Sandbox, user: CloudStack, ip_id: str) -> list[dict[str, Any]]:
    """Four clients at once ask for overlapping firewall ranges on one address; the rules
    that were accepted (the others must be refused with 537)."""
    gate = threading.Barrier(4)

    def create(start: int) -> dict[str, Any] | None:
        client = sandbox.client(user.key, user.secret)
        gate.wait()
        try:
            return client.createFirewallRule(
                ipaddressid=ip_id, protocol="udp", startport=start, endport=start + 100
            )
        except CloudStackApiException as error:
            assert error.error["errorcode"] == 537, error.error
            return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(create, (5000, 5050, 4960, 5040)))  # all hold 5050
    return [a for a in answers if a is not None]


def test_rules_are_applied_by_the_router_refused_on_conflict_and_private(sandbox) -> None:
    admin, alice, bob, network, (web, db) = tenant_with_network(sandbox)
    router, user = network["router"], alice.client
    nics_of_a_vm(network, alice, bob, web)
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]

    # Port forwarding, with the firewall rule it opens
    forward = user.createPortForwardingRule(
        ipaddressid=ip["id"],
        privateport=22,
        publicport=2222,
        protocol="tcp",
        virtualmachineid=web["id"],
        fetch_result=True,
    )["portforwardingrule"]
    assert (forward["state"], forward["publicport"], forward["privateport"]) == (
        "Active",
        "2222",
        "22",
    )
    assert forward["vmguestip"] == web["nic"][0]["ipaddress"]
    (listed,) = user.listPortForwardingRules(ipaddressid=ip["id"])["portforwardingrule"]
    assert listed["id"] == forward["id"]
    (opened,) = user.listFirewallRules(ipaddressid=ip["id"])["firewallrule"]
    assert (opened["startport"], opened["cidrlist"]) == ("2222", "0.0.0.0/0")
    held = {r["id"]: r for r in applied(sandbox, router)}
    assert held[forward["id"]]["vm_ip"] == web["nic"][0]["ipaddress"]
    assert held[forward["id"]]["private_start"] == 22 and opened["id"] in held

    # The rule sent to another private port and VM (only those change, as in 4.3)
    moved = user.updatePortForwardingRule(
        id=forward["id"], privateport=2022, virtualmachineid=db["id"], fetch_result=True
    )["portforwardingrule"]
    assert (moved["privateport"], moved["publicport"], moved["state"]) == ("2022", "2222", "Active")
    assert (moved["virtualmachineid"], moved["vmguestip"]) == (db["id"], db["nic"][0]["ipaddress"])
    held = {r["id"]: r for r in applied(sandbox, router)}[forward["id"]]
    assert (held["private_start"], held["vm_ip"]) == (2022, db["nic"][0]["ipaddress"])
    refused(user.updatePortForwardingRule, 431, id=forward["id"], publicport=2223)
    refused(user.updatePortForwardingRule, 431, id=forward["id"], privateport=70000)
    job_refused(user.updatePortForwardingRule, 431, id=forward["id"], privateip="10.255.0.1")
    refused(bob.client.updatePortForwardingRule, 531, id=forward["id"], privateport=22)
    user.updatePortForwardingRule(
        id=forward["id"], privateport=22, virtualmachineid=web["id"], fetch_result=True
    )
    (back,) = user.listPortForwardingRules(ipaddressid=ip["id"])["portforwardingrule"]
    assert (back["privateport"], back["virtualmachineid"]) == ("22", web["id"])

    # Conflicts and bad values are refused at once and change nothing
    text = refused(
        user.createPortForwardingRule,
        537,
        ipaddressid=ip["id"],
        privateport=2200,
        privateendport=2300,
        publicport=2200,
        publicendport=2300,
        protocol="tcp",
        virtualmachineid=db["id"],
    )
    assert "conflicts with rule" in text
    refused(
        user.createPortForwardingRule,
        431,
        ipaddressid=ip["id"],
        privateport=0,
        publicport=80,
        protocol="tcp",
        virtualmachineid=db["id"],
    )
    assert len(user.listPortForwardingRules()["portforwardingrule"]) == 1

    # Firewall: ICMP echo from one network
    ping = user.createFirewallRule(
        ipaddressid=ip["id"],
        protocol="icmp",
        icmptype=8,
        icmpcode=0,
        cidrlist="10.9.0.0/16",
        fetch_result=True,
    )["firewallrule"]
    assert (ping["state"], ping["icmptype"], ping["cidrlist"]) == ("Active", 8, "10.9.0.0/16")

    # Load balancing across both VMs
    balancer = user.createLoadBalancerRule(
        publicipid=ip["id"],
        name="www",
        algorithm="leastconn",
        publicport=80,
        privateport=8080,
        fetch_result=True,
    )["loadbalancer"]
    assert (balancer["state"], balancer["algorithm"]) == ("Active", "leastconn")
    user.assignToLoadBalancerRule(
        id=balancer["id"], virtualmachineids=f"{web['id']},{db['id']}", fetch_result=True
    )
    behind = user.listLoadBalancerRuleInstances(id=balancer["id"])["loadbalancerruleinstance"]
    assert {vm["id"] for vm in behind} == {web["id"], db["id"]}
    members = {r["id"]: r for r in applied(sandbox, router)}[balancer["id"]]["members"]
    assert len(members) == 2
    user.removeFromLoadBalancerRule(
        id=balancer["id"], virtualmachineids=db["id"], fetch_result=True
    )
    behind = user.listLoadBalancerRuleInstances(id=balancer["id"])["loadbalancerruleinstance"]
    assert [vm["id"] for vm in behind] == [web["id"]]
    refused(
        user.createLoadBalancerRule,
        537,
        publicipid=ip["id"],
        name="clash",
        algorithm="roundrobin",
        publicport=2222,
        privateport=22,
    )
    refused(
        user.createLoadBalancerRule,
        431,
        publicipid=ip["id"],
        name="bad",
        algorithm="fastest",
        publicport=81,
        privateport=81,
    )

    # Another account sees none of it and touches nothing
    assert bob.client.listPortForwardingRules() == {}
    assert bob.client.listLoadBalancerRules() == {}
    assert bob.client.listFirewallRules() == {}
    refused(bob.client.deletePortForwardingRule, 531, id=forward["id"])
    refused(bob.client.createFirewallRule, 531, ipaddressid=ip["id"], protocol="tcp", startport=1)
    assert admin.listPortForwardingRules(listall="true", domainid=sandbox.domain_id)["count"] == 1

    # Static NAT on a second address; never on the source NAT address
    nat_ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    assert user.enableStaticNat(ipaddressid=nat_ip["id"], virtualmachineid=db["id"])["success"]
    shown = user.listPublicIpAddresses(id=nat_ip["id"])["publicipaddress"][0]
    assert (shown["isstaticnat"], shown["virtualmachineid"]) == (True, db["id"])
    (only,) = user.listPublicIpAddresses(isstaticnat="true")["publicipaddress"]
    assert only["id"] == nat_ip["id"]
    assert {r["kind"] for r in applied(sandbox, router)} >= {"StaticNat"}
    assert "1 to 1 Nat" in refused(
        user.createPortForwardingRule,
        537,
        ipaddressid=nat_ip["id"],
        privateport=80,
        publicport=80,
        protocol="tcp",
        virtualmachineid=db["id"],
    )
    (source_nat,) = user.listPublicIpAddresses(issourcenat="true")["publicipaddress"]
    refused(user.enableStaticNat, 431, ipaddressid=source_nat["id"], virtualmachineid=web["id"])
    ip_forwarding_on_static_nat(sandbox, network, alice, bob, nat_ip, db)
    user.disableStaticNat(ipaddressid=nat_ip["id"], fetch_result=True)
    shown = user.listPublicIpAddresses(id=nat_ip["id"])["publicipaddress"][0]
    assert shown["isstaticnat"] is False
    # ... and the IP forwarding rules, with the firewall rules they opened, went with it
    assert user.listIpForwardingRules() == {}
    assert user.listFirewallRules(ipaddressid=nat_ip["id"]) == {}
    assert not {"StaticNat", "IpForwarding"} & {r["kind"] for r in applied(sandbox, router)}

    # Creates racing for one port: exactly one gets through
    assert len(racing_creates(sandbox, user, ip["id"])) == 1

    # Deleting each rule takes it off the router
    user.deletePortForwardingRule(id=forward["id"], fetch_result=True)
    user.deleteFirewallRule(id=ping["id"], fetch_result=True)
    user.deleteLoadBalancerRule(id=balancer["id"], fetch_result=True)
    assert user.listPortForwardingRules() == {} and user.listLoadBalancerRules() == {}
    (raced,) = user.listFirewallRules()["firewallrule"]  # the opened one went with its rule
    assert raced["protocol"] == "udp"
    user.deleteFirewallRule(id=raced["id"], fetch_result=True)
    assert applied(sandbox, router) == []
    user.disassociateIpAddress(id=ip["id"], fetch_result=True)


def nics_of_a_vm(network: dict, alice: Tenant, bob: Tenant, vm: dict) -> None:
    """listNics shows a VM's NICs to its owner with 4.3's fields, narrowed by NIC and network."""
    user = alice.client
    (nic,) = user.listNics(virtualmachineid=vm["id"])["nic"]
    shown = vm["nic"][0]
    assert nic["id"] == shown["id"] and nic["virtualmachineid"] == vm["id"]
    assert (nic["networkid"], nic["networkname"]) == (network["id"], "web")
    assert (nic["ipaddress"], nic["macaddress"]) == (shown["ipaddress"], shown["macaddress"])
    assert (nic["netmask"], nic["gateway"]) == (network["netmask"], network["gateway"])
    assert (nic["deviceid"], nic["isdefault"], nic["traffictype"]) == ("0", True, "Guest")
    assert nic["secondaryip"] == [] and nic["type"] == "Isolated"
    assert nic["broadcasturi"] == network["broadcasturi"] == nic["isolationuri"]
    assert user.listNics(virtualmachineid=vm["id"], nicid=nic["id"])["count"] == 1
    assert user.listNics(virtualmachineid=vm["id"], networkid=network["id"])["count"] == 1
    assert user.listNics(virtualmachineid=vm["id"], networkid=vm["id"]) == {}
    refused(user.listNics, 431)
    refused(user.listNics, 431, virtualmachineid=network["id"])
    refused(bob.client.listNics, 531, virtualmachineid=vm["id"])


def ip_forwarding_on_static_nat(
    sandbox: Sandbox, network: dict, alice: Tenant, bob: Tenant, nat_ip: dict, vm: dict
) -> None:
    """Ports of a static NAT address forwarded to its VM (listIpForwardingRules, as libcloud
    calls it), each applied by the router; refusals change nothing."""
    user, router = alice.client, network["router"]
    assert user.listIpForwardingRules() == {}
    web = user.createIpForwardingRule(
        ipaddressid=nat_ip["id"],
        protocol="tcp",
        startport=80,
        endport=81,
        cidrlist="10.8.0.0/16",
        fetch_result=True,
    )["ipforwardingrule"]
    assert (web["state"], web["publicport"], web["publicendport"]) == ("Active", "80", "81")
    assert (web["privateport"], web["privateendport"], web["protocol"]) == ("80", "81", "tcp")
    assert (web["virtualmachineid"], web["virtualmachinename"]) == (vm["id"], vm["name"])
    assert web["vmguestip"] == vm["nic"][0]["ipaddress"]
    assert (web["ipaddressid"], web["ipaddress"]) == (nat_ip["id"], nat_ip["ipaddress"])
    (opened,) = user.listFirewallRules(ipaddressid=nat_ip["id"])["firewallrule"]
    assert (opened["startport"], opened["endport"], opened["cidrlist"]) == (
        "80",
        "81",
        "10.8.0.0/16",
    )
    dns = user.createIpForwardingRule(
        ipaddressid=nat_ip["id"], protocol="udp", startport=80, openfirewall="false",
        fetch_result=True,
    )["ipforwardingrule"]  # fmt: skip
    held = {r["id"]: r for r in applied(sandbox, router)}
    assert held[web["id"]]["kind"] == "IpForwarding" and dns["id"] in held
    assert held[web["id"]]["vm_ip"] == vm["nic"][0]["ipaddress"]

    # Clashing ports, bad values, an address without static NAT: refused, nothing changed
    forward = {"ipaddressid": nat_ip["id"], "protocol": "tcp"}
    assert "conflicts with rule" in refused(
        user.createIpForwardingRule, 537, **forward, startport=81, endport=90
    )
    refused(user.createIpForwardingRule, 431, **forward, startport=90, endport=85)
    refused(user.createIpForwardingRule, 431, **forward, startport=70000)
    refused(user.createIpForwardingRule, 431, ipaddressid=nat_ip["id"], protocol="gre", startport=1)
    (source_nat,) = user.listPublicIpAddresses(issourcenat="true")["publicipaddress"]
    assert "Static nat is not enabled" in refused(
        user.createIpForwardingRule, 431, ipaddressid=source_nat["id"], protocol="tcp", startport=1
    )
    listed = user.listIpForwardingRules()
    assert listed["count"] == 2
    assert [r["id"] for r in listed["ipforwardingrule"]] == [web["id"], dns["id"]]
    assert user.listIpForwardingRules(id=dns["id"])["ipforwardingrule"][0]["protocol"] == "udp"
    assert user.listIpForwardingRules(virtualmachineid=vm["id"])["count"] == 2
    assert user.listIpForwardingRules(ipaddressid=source_nat["id"]) == {}

    # Another account sees none of it and touches nothing
    assert bob.client.listIpForwardingRules() == {}
    assert bob.client.listIpForwardingRules(id=web["id"]) == {}
    refused(bob.client.deleteIpForwardingRule, 531, id=web["id"])
    refused(bob.client.createIpForwardingRule, 531, **forward, startport=8000)
    assert user.listIpForwardingRules()["count"] == 2

    # Deleting one takes it off the router; the other stays
    user.deleteIpForwardingRule(id=dns["id"], fetch_result=True)
    assert [r["id"] for r in user.listIpForwardingRules()["ipforwardingrule"]] == [web["id"]]
    assert dns["id"] not in {r["id"] for r in applied(sandbox, router)}
    refused(user.deleteIpForwardingRule, 431, id=dns["id"])


def test_an_expunged_vm_takes_its_rules_off_the_router(sandbox) -> None:
    admin, alice, _, network, (web, db) = tenant_with_network(sandbox)
    router, user = network["router"], alice.client
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    created = user.createPortForwardingRule(
        ipaddressid=ip["id"], privateport=22, publicport=2222, protocol="tcp",
        virtualmachineid=web["id"],
    )  # fmt: skip
    forward = finished(user, created["jobid"])["jobresult"]["portforwardingrule"]
    balancer = user.createLoadBalancerRule(
        publicipid=ip["id"], name="www", algorithm="roundrobin", publicport=80,
        privateport=8080, fetch_result=True,
    )["loadbalancer"]  # fmt: skip
    user.assignToLoadBalancerRule(
        id=balancer["id"], virtualmachineids=f"{web['id']},{db['id']}", fetch_result=True
    )
    nat_ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    user.enableStaticNat(ipaddressid=nat_ip["id"], virtualmachineid=web["id"])
    web_ip = web["nic"][0]["ipaddress"]

    def sent_to_web() -> list[str]:
        held = applied(sandbox, router)
        targets = [r.get("vm_ip") for r in held]
        targets += [m["vm_ip"] for r in held for m in r.get("members", ())]
        return [t for t in targets if t == web_ip]

    assert wait_for(lambda: len(sent_to_web()) == 3, 10)

    admin.destroyVirtualMachine(id=web["id"], expunge="true", fetch_result=True)
    assert user.listPortForwardingRules() == {}
    (left,) = user.listFirewallRules()["firewallrule"]  # the balancer's, which stays
    assert left["startport"] == "80"
    behind = user.listLoadBalancerRuleInstances(id=balancer["id"])["loadbalancerruleinstance"]
    assert [vm["id"] for vm in behind] == [db["id"]]
    shown = user.listPublicIpAddresses(id=nat_ip["id"])["publicipaddress"][0]
    assert shown["isstaticnat"] is False
    assert wait_for(lambda: not sent_to_web(), 10), applied(sandbox, router)
    assert forward["id"] not in {r["id"] for r in applied(sandbox, router)}
    # The job that made the rule still answers, naming what it made.
    answer = finished(user, created["jobid"])
    assert answer["jobresult"] == {"portforwardingrule": {"id": forward["id"]}}
    # Releasing an address takes the rules still on it (here the balancer), as 4.3 does
    user.disassociateIpAddress(id=nat_ip["id"], fetch_result=True)
    assert user.listLoadBalancerRules(id=balancer["id"])["loadbalancerrule"]
    user.disassociateIpAddress(id=ip["id"], fetch_result=True)
    assert user.listLoadBalancerRules() == {} and user.listFirewallRules() == {}
    assert user.listPublicIpAddresses(id=ip["id"]) == {}
    assert wait_for(lambda: balancer["id"] not in {r["id"] for r in applied(sandbox, router)}, 10)


def finished(user: CloudStack, job_id: str) -> dict[str, Any]:
    """A job's answer once it is done."""
    answer = wait_for(lambda: _done(user.queryAsyncJobResult(jobid=job_id)), 10)
    assert answer and answer["jobstatus"] == 1, answer
    return answer


def _done(answer: dict[str, Any]) -> dict[str, Any] | None:
    return answer if answer["jobstatus"] != 0 else None


def test_a_root_admin_hides_rules_addresses_and_networks_from_their_owner(sandbox) -> None:
    admin, alice, _bob, network, (web, _db) = tenant_with_network(sandbox)
    user = alice.client
    (source_nat,) = user.listPublicIpAddresses(issourcenat="true")["publicipaddress"]
    assert source_nat["fordisplay"] is True
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    refused_flag(user.associateIpAddress, networkid=network["id"], fordisplay="false")

    # Hidden from the start: a root administrator's rule on the owner's address
    firewall = admin.createFirewallRule(
        ipaddressid=ip["id"], protocol="tcp", startport=22, fordisplay="false", fetch_result=True
    )["firewallrule"]
    assert firewall["fordisplay"] is False
    assert_hidden(admin, user, "listFirewallRules", "firewallrule", firewall["id"])
    refused_flag(
        user.createFirewallRule, ipaddressid=ip["id"], protocol="tcp", startport=23,
        fordisplay="false",
    )  # fmt: skip
    egress = admin.createEgressFirewallRule(
        networkid=network["id"], protocol="tcp", startport=80, fordisplay="false",
        fetch_result=True,
    )["firewallrule"]  # fmt: skip
    assert_hidden(admin, user, "listEgressFirewallRules", "firewallrule", egress["id"])

    # Hidden later: the owner's port forwarding and load balancer rules
    forward = user.createPortForwardingRule(
        ipaddressid=ip["id"], privateport=80, publicport=8080, protocol="tcp",
        virtualmachineid=web["id"], fetch_result=True,
    )["portforwardingrule"]  # fmt: skip
    assert_shown(user, "listPortForwardingRules", "portforwardingrule", forward["id"])
    refused_flag(user.updatePortForwardingRule, id=forward["id"], fordisplay="true")
    moved = admin.updatePortForwardingRule(id=forward["id"], fordisplay="false", fetch_result=True)
    assert moved["portforwardingrule"]["fordisplay"] is False
    assert_hidden(admin, user, "listPortForwardingRules", "portforwardingrule", forward["id"])
    balancer = user.createLoadBalancerRule(
        publicipid=ip["id"], name="www", algorithm="roundrobin", publicport=80, privateport=80,
        fetch_result=True,
    )["loadbalancer"]  # fmt: skip
    refused_flag(user.updateLoadBalancerRule, id=balancer["id"], fordisplay="false")
    admin.updateLoadBalancerRule(id=balancer["id"], fordisplay="false", fetch_result=True)
    assert_hidden(admin, user, "listLoadBalancerRules", "loadbalancerrule", balancer["id"])
    sticky = admin.createLBStickinessPolicy(
        lbruleid=balancer["id"], name="sticky", methodname="LbCookie", fordisplay="false",
        fetch_result=True,
    )["stickinesspolicies"]["stickinesspolicy"][0]  # fmt: skip
    assert sticky["fordisplay"] is False
    (mine,) = user.listLBStickinessPolicies(lbruleid=balancer["id"])["stickinesspolicies"]
    assert mine["stickinesspolicy"] == []
    (every,) = admin.listLBStickinessPolicies(lbruleid=balancer["id"], fordisplay="false")[
        "stickinesspolicies"
    ]
    assert [p["id"] for p in every["stickinesspolicy"]] == [sticky["id"]]
    refused_flag(user.listLBHealthCheckPolicies, lbruleid=balancer["id"], fordisplay="true")

    # An address, its remote access VPN, a VM's NICs and the network itself
    hidden_ip = admin.associateIpAddress(
        networkid=network["id"], fordisplay="false", fetch_result=True
    )["ipaddress"]
    assert_hidden(admin, user, "listPublicIpAddresses", "publicipaddress", hidden_ip["id"])
    vpn = admin.createRemoteAccessVpn(
        publicipid=source_nat["id"], fordisplay="false", fetch_result=True
    )["remoteaccessvpn"]
    assert_hidden(admin, user, "listRemoteAccessVpns", "remoteaccessvpn", vpn["id"])
    refused_flag(user.listNics, virtualmachineid=web["id"], fordisplay="true")
    admin.updateVirtualMachine(id=web["id"], displayvm="false")
    assert user.listNics(virtualmachineid=web["id"]) == {}
    assert admin.listNics(virtualmachineid=web["id"], fordisplay="false")["count"] == 1
    refused_flag(user.updateNetwork, id=network["id"], displaynetwork="false")
    changed = admin.updateNetwork(id=network["id"], displaynetwork="false", fetch_result=True)
    assert changed["network"]["displaynetwork"] is False
    assert_hidden(admin, user, "listNetworks", "network", network["id"], "displaynetwork")
    admin.updateNetwork(id=network["id"], displaynetwork="true", fetch_result=True)
    assert_shown(user, "listNetworks", "network", network["id"], "displaynetwork")
