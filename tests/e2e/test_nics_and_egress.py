"""NICs and egress through the `cs` client, on SQLite, PostgreSQL and NATS (the simulator adapter
in its own process): secondary addresses of a NIC and the rules that send to them, egress
firewall rules the router holds with its network offering's egress policy; bad input and other
tenants are refused and change nothing."""

from __future__ import annotations

from tests.e2e.test_network_rules import applied, refused, tenant_with_network
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import routers
from tests.e2e.test_vms import _deploy, _host, _place


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


def test_a_nic_takes_secondary_addresses_that_rules_can_send_to(sandbox) -> None:
    _, alice, bob, network, (web, db) = tenant_with_network(sandbox)
    router, user = network["router"], alice.client
    (nic,) = user.listNics(virtualmachineid=web["id"])["nic"]

    taken = user.addIpToNic(nicid=nic["id"], fetch_result=True)["nicsecondaryip"]
    assert (taken["nicid"], taken["networkid"], taken["virtualmachineid"]) == (
        nic["id"],
        network["id"],
        web["id"],
    )
    used = {nic["ipaddress"], db["nic"][0]["ipaddress"], network["gateway"]}
    assert taken["ipaddress"] not in used
    prefix = network["gateway"].rsplit(".", 1)[0]
    chosen = user.addIpToNic(nicid=nic["id"], ipaddress=f"{prefix}.200", fetch_result=True)
    assert chosen["nicsecondaryip"]["ipaddress"] == f"{prefix}.200"

    (shown,) = user.listNics(virtualmachineid=web["id"])["nic"]
    assert sorted(ip["ipaddress"] for ip in shown["secondaryip"]) == sorted(
        [taken["ipaddress"], f"{prefix}.200"]
    )
    (vm,) = user.listVirtualMachines(id=web["id"])["virtualmachine"]
    assert len(vm["nic"][0]["secondaryip"]) == 2

    # Bad input, in use, out of range, someone else's: refused, nothing taken.
    refused(user.addIpToNic, 533, nicid=nic["id"], ipaddress=db["nic"][0]["ipaddress"])
    refused(user.addIpToNic, 533, nicid=nic["id"], ipaddress=nic["ipaddress"])
    refused(user.addIpToNic, 431, nicid=nic["id"], ipaddress="192.0.2.10")
    refused(user.addIpToNic, 431, nicid=nic["id"], ipaddress="not-an-ip")
    refused(user.addIpToNic, 431, nicid=web["id"])
    refused(bob.client.addIpToNic, 531, nicid=nic["id"])
    refused(bob.client.removeIpFromNic, 531, id=taken["id"])
    refused(user.removeIpFromNic, 431, id=nic["id"])
    assert len(user.listNics(virtualmachineid=web["id"])["nic"][0]["secondaryip"]) == 2

    # A port forwarding rule sends to the secondary address; it cannot go while the rule is.
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    forward = user.createPortForwardingRule(
        ipaddressid=ip["id"],
        privateport=8080,
        publicport=80,
        protocol="tcp",
        virtualmachineid=web["id"],
        vmguestip=taken["ipaddress"],
        openfirewall=False,
        fetch_result=True,
    )["portforwardingrule"]
    assert forward["vmguestip"] == taken["ipaddress"]
    held = {r["id"]: r for r in applied(sandbox, router)}
    assert held[forward["id"]]["vm_ip"] == taken["ipaddress"]
    refused(
        user.createPortForwardingRule,
        431,
        ipaddressid=ip["id"],
        privateport=22,
        publicport=22,
        protocol="tcp",
        virtualmachineid=db["id"],
        vmguestip=taken["ipaddress"],
    )
    refused(user.removeIpFromNic, 431, id=taken["id"])

    user.deletePortForwardingRule(id=forward["id"], fetch_result=True)
    assert user.removeIpFromNic(id=taken["id"], fetch_result=True)["success"] is True
    (after,) = user.listNics(virtualmachineid=web["id"])["nic"]
    assert [ip["ipaddress"] for ip in after["secondaryip"]] == [f"{prefix}.200"]
    # The address is free again: another VM may take it.
    (db_nic,) = user.listNics(virtualmachineid=db["id"])["nic"]
    again = user.addIpToNic(nicid=db_nic["id"], ipaddress=taken["ipaddress"], fetch_result=True)
    assert again["nicsecondaryip"]["virtualmachineid"] == db["id"]


def test_nics_are_added_to_running_and_stopped_vms_and_removed(sandbox) -> None:
    _, alice, bob, network, (web, db) = tenant_with_network(sandbox)
    user = alice.client
    offering = user.listNetworkOfferings(id=network["networkofferingid"])["networkoffering"][0]
    back = user.createNetwork(
        name="back",
        displaytext="back",
        networkofferingid=offering["id"],
        zoneid=network["zoneid"],
        gateway="10.9.0.1",
        netmask="255.255.255.0",
    )["network"]

    # A running VM: its host plugs the NIC in before the job answers.
    added = user.addNicToVirtualMachine(
        virtualmachineid=web["id"], networkid=back["id"], fetch_result=True
    )["virtualmachine"]
    nics = {n["networkid"]: n for n in added["nic"]}
    assert set(nics) == {network["id"], back["id"]}
    assert nics[back["id"]]["isdefault"] is False and nics[network["id"]]["isdefault"] is True
    assert nics[back["id"]]["ipaddress"].startswith("10.9.0.")
    listed = user.listNics(virtualmachineid=web["id"])["nic"]
    assert [n["deviceid"] for n in listed] == ["0", "1"]

    refused(user.addNicToVirtualMachine, 431, virtualmachineid=web["id"], networkid=back["id"])
    refused(
        bob.client.addNicToVirtualMachine, 531, virtualmachineid=web["id"], networkid=back["id"]
    )
    refused(user.addNicToVirtualMachine, 431, virtualmachineid=web["id"], networkid=web["id"])
    default, extra = nics[network["id"]], nics[back["id"]]
    refused(user.removeNicFromVirtualMachine, 431, virtualmachineid=web["id"], nicid=default["id"])
    refused(
        user.updateDefaultNicForVirtualMachine, 431, virtualmachineid=web["id"], nicid=default["id"]
    )
    refused(
        bob.client.removeNicFromVirtualMachine, 531, virtualmachineid=web["id"], nicid=extra["id"]
    )
    refused(
        bob.client.updateDefaultNicForVirtualMachine,
        531,
        virtualmachineid=web["id"],
        nicid=extra["id"],
    )
    assert len(user.listNics(virtualmachineid=web["id"])["nic"]) == 2

    switched = user.updateDefaultNicForVirtualMachine(
        virtualmachineid=web["id"], nicid=extra["id"], fetch_result=True
    )["virtualmachine"]
    assert {n["networkid"]: n["isdefault"] for n in switched["nic"]} == {
        network["id"]: False,
        back["id"]: True,
    }
    user.updateDefaultNicForVirtualMachine(
        virtualmachineid=web["id"], nicid=default["id"], fetch_result=True
    )
    removed = user.removeNicFromVirtualMachine(
        virtualmachineid=web["id"], nicid=extra["id"], fetch_result=True
    )["virtualmachine"]
    assert [n["networkid"] for n in removed["nic"]] == [network["id"]]
    assert user.listNics(virtualmachineid=web["id"], nicid=extra["id"]) == {}

    # A stopped VM has the NIC at once and keeps it; the address it gave back is free again.
    user.stopVirtualMachine(id=db["id"], fetch_result=True)
    chosen = extra["ipaddress"]
    again = user.addNicToVirtualMachine(
        virtualmachineid=db["id"], networkid=back["id"], ipaddress=chosen, fetch_result=True
    )["virtualmachine"]
    assert {n["networkid"]: n["ipaddress"] for n in again["nic"]}[back["id"]] == chosen
    started = user.startVirtualMachine(id=db["id"], fetch_result=True)["virtualmachine"]
    assert (started["state"], len(started["nic"])) == ("Running", 2)


def _second_zone(admin, alice) -> tuple[dict, dict]:
    """Another zone of the region with a network of alice's and a running VM in it."""
    place = _place(admin)
    _host(admin, place, "h2", cores=8, memory=16)
    _fabric(admin, place.zone)
    offering = _offering(alice.client, SOURCE_NAT_OFFERING)
    network = alice.client.createNetwork(
        name="far", displaytext="far", networkofferingid=offering["id"], zoneid=place.zone
    )["network"]
    vm = _deploy(alice.client, place, place.small, networkids=network["id"])
    return network, vm


def test_a_portable_address_moves_to_a_network_of_another_zone(sandbox) -> None:
    admin, alice, bob, network, _ = tenant_with_network(sandbox)
    user = alice.client
    far, far_vm = _second_zone(admin, alice)
    terms = {"regionid": 1, "gateway": "198.18.0.1", "netmask": "255.255.255.0"}

    made = admin.createPortableIpRange(
        startip="198.18.0.10", endip="198.18.0.12", fetch_result=True, **terms
    )["portableiprange"]
    assert (made["startip"], made["endip"], made["regionid"]) == ("198.18.0.10", "198.18.0.12", 1)
    assert [a["state"] for a in made["portableipaddress"]] == ["Free"] * 3
    assert admin.listRegions(id=1)["region"][0]["portableipserviceenabled"] is True
    refused(admin.createPortableIpRange, 431, startip="198.18.0.12", endip="198.18.0.20", **terms)
    refused(admin.createPortableIpRange, 431, startip="198.19.0.5", endip="198.19.0.6", **terms)
    refused(
        admin.createPortableIpRange,
        431,
        startip="203.0.113.10",
        endip="203.0.113.11",
        regionid=1,
        gateway="203.0.113.1",
        netmask="255.255.255.0",
    )
    refused(
        admin.createPortableIpRange,
        431,
        startip="198.18.0.20",
        endip="198.18.0.21",
        regionid=99,
        gateway="198.18.0.1",
        netmask="255.255.255.0",
    )
    refused(user.createPortableIpRange, 432, startip="198.18.0.20", endip="198.18.0.21", **terms)
    assert admin.listPortableIpRanges()["count"] == 1

    ip = user.associateIpAddress(networkid=network["id"], isportable=True, fetch_result=True)[
        "ipaddress"
    ]
    assert ip["isportable"] is True and ip["ipaddress"].startswith("198.18.0.")
    assert ip["zoneid"] == network["zoneid"]
    refused(user.associateIpAddress, 431, networkid=network["id"], regionid=1)
    refused(bob.client.enableStaticNat, 531, ipaddressid=ip["id"], virtualmachineid=far_vm["id"])

    # Static NAT to a VM of another zone's network moves the address there, as 4.3 does.
    user.enableStaticNat(ipaddressid=ip["id"], virtualmachineid=far_vm["id"], networkid=far["id"])
    (moved,) = user.listPublicIpAddresses(id=ip["id"])["publicipaddress"]
    assert (moved["zoneid"], moved["associatednetworkid"]) == (far["zoneid"], far["id"])
    assert moved["isstaticnat"] is True and moved["virtualmachineid"] == far_vm["id"]
    (far_router,) = routers(admin, networkid=far["id"])
    held = applied(sandbox, far_router)
    assert any(r["kind"] == "StaticNat" and r["address"] == ip["ipaddress"] for r in held)
    (listed,) = admin.listPortableIpRanges(id=made["id"])["portableiprange"]
    taken = [a for a in listed["portableipaddress"] if a["state"] == "Allocated"]
    assert [(a["ipaddress"], a["zoneid"], a["networkid"]) for a in taken] == [
        (ip["ipaddress"], far["zoneid"], far["id"])
    ]
    refused(admin.deletePortableIpRange, 536, id=made["id"])

    user.disableStaticNat(ipaddressid=ip["id"], fetch_result=True)
    user.disassociateIpAddress(id=ip["id"], fetch_result=True)
    assert user.listPublicIpAddresses(id=ip["id"]) == {}
    assert admin.deletePortableIpRange(id=made["id"], fetch_result=True)["success"] is True
    assert admin.listPortableIpRanges() == {}
    assert admin.listRegions(id=1)["region"][0]["portableipserviceenabled"] is False
