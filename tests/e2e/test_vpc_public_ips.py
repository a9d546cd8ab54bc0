"""A VPC's public addresses through the `cs` client, on every leg: the source NAT address the
VPC takes when it starts, an address associated with the VPC, port forwarding, static NAT and
a load balancer on VPC addresses (each placing its address on a tier), applied by the VPC's
router as one set (read from the file named by STRATUS_SIMULATOR_RULES), the refusals that
change nothing, another account kept out, and the addresses given back with the VPC; a
portable address of a VPC that static NAT moves to another VPC and out to an isolated network;
site-to-site VPN to customer gateways and between two VPCs, whose tunnels the routers report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cs import CloudStack

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import make_tenant
from tests.e2e.hiding import assert_hidden, assert_shown, refused_flag
from tests.e2e.test_network_rules import applied, refused
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _offering
from tests.e2e.test_routers import fail_next, routers, wait_for
from tests.e2e.test_vms import _deploy
from tests.e2e.test_vpcs import _tier, _zone
from tests.e2e.zones import enable_router_provider


def _vpc(user: CloudStack, zone: str, name: str, cidr: str) -> dict[str, Any]:
    offering = user.listVPCOfferings(name="Default VPC offering")["vpcoffering"][0]
    return user.createVPC(
        name=name,
        displaytext=name,
        cidr=cidr,
        vpcofferingid=offering["id"],
        zoneid=zone,
        fetch_result=True,
    )["vpc"]


def _running_router(admin: CloudStack, vpc: dict[str, Any]) -> dict[str, Any] | None:
    found = routers(admin, vpcid=vpc["id"])
    return found[0] if found and found[0]["state"] == "Running" else None


def _addresses(client: CloudStack, **filters: Any) -> list[dict[str, Any]]:
    return client.listPublicIpAddresses(**filters).get("publicipaddress", [])


def test_a_vpc_takes_a_source_nat_address_and_serves_rules_on_its_tiers(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    user = alice.client
    vpc = _vpc(user, place.zone, "shop", "10.50.0.0/16")

    # The VPC's source NAT address, taken when it started
    (source,) = _addresses(user, vpcid=vpc["id"])
    assert (source["issourcenat"], source["vpcid"]) == (True, vpc["id"])
    assert "associatednetworkid" not in source
    assert source["ipaddress"].startswith("203.0.113.")
    assert "released when the VPC is deleted" in refused(
        user.disassociateIpAddress, 431, id=source["id"], fetch_result=True
    )

    router = wait_for(lambda: _running_router(admin, vpc), 30)
    assert router, "the VPC's router did not come up"

    # Two tiers with a VM each; two more addresses of the VPC
    web, app = _tier(user, place, vpc, 1), _tier(user, place, vpc, 2)
    vm_web = _deploy(user, place, place.small, networkids=web["id"])
    vm_app = _deploy(user, place, place.small, networkids=app["id"])
    first = user.associateIpAddress(vpcid=vpc["id"], fetch_result=True)["ipaddress"]
    second = user.associateIpAddress(vpcid=vpc["id"], fetch_result=True)["ipaddress"]
    assert (first["vpcid"], first["issourcenat"]) == (vpc["id"], False)
    assert "associatednetworkid" not in first
    listed = _addresses(user, vpcid=vpc["id"])
    assert {a["id"] for a in listed} == {source["id"], first["id"], second["id"]}
    expected = set(reference()["listPublicIpAddresses"].response)
    assert "vpcid" in expected and "vpcid" in set().union(*(set(a) for a in listed))

    # Bad input changes nothing
    assert "serves no tier yet" in refused(
        user.createPortForwardingRule,
        431,
        ipaddressid=first["id"],
        protocol="tcp",
        publicport=80,
        privateport=8080,
        virtualmachineid=vm_web["id"],
    )
    assert "openFirewall" in refused(
        user.createPortForwardingRule,
        431,
        ipaddressid=first["id"],
        protocol="tcp",
        publicport=80,
        privateport=8080,
        virtualmachineid=vm_web["id"],
        networkid=web["id"],
        openfirewall="true",
    )
    assert "Firewall" in refused(
        user.createFirewallRule, 431, ipaddressid=source["id"], protocol="tcp", startport=22
    )
    refused(user.associateIpAddress, 431, vpcid=vpc["id"], networkid=web["id"])
    assert "associatednetworkid" not in _addresses(user, id=first["id"])[0]

    # Port forwarding on the first address places it on the web tier
    forwarding = user.createPortForwardingRule(
        ipaddressid=first["id"],
        protocol="tcp",
        publicport=80,
        privateport=8080,
        virtualmachineid=vm_web["id"],
        networkid=web["id"],
        fetch_result=True,
    )["portforwardingrule"]
    assert (forwarding["state"], forwarding["networkid"]) == ("Active", web["id"])
    placed = _addresses(user, id=first["id"])[0]
    assert placed["associatednetworkid"] == web["id"]
    assert "another network of its VPC" in refused(
        user.createLoadBalancerRule,
        431,
        publicipid=first["id"],
        name="lb",
        algorithm="roundrobin",
        publicport=443,
        privateport=443,
        networkid=app["id"],
    )
    # A VM of another tier is not behind this address's tier
    assert "doesn't belong to the network" in refused(
        user.createPortForwardingRule,
        431,
        ipaddressid=first["id"],
        protocol="tcp",
        publicport=81,
        privateport=81,
        virtualmachineid=vm_app["id"],
    )

    # Static NAT on the second address to the app tier's VM; a load balancer on the source NAT
    user.enableStaticNat(
        ipaddressid=second["id"], virtualmachineid=vm_app["id"], networkid=app["id"]
    )
    nat = _addresses(user, id=second["id"])[0]
    assert (nat["isstaticnat"], nat["associatednetworkid"]) == (True, app["id"])
    balancer = user.createLoadBalancerRule(
        publicipid=source["id"],
        name="lb",
        algorithm="roundrobin",
        publicport=443,
        privateport=8443,
        networkid=app["id"],
        fetch_result=True,
    )["loadbalancer"]
    assert (balancer["state"], balancer["networkid"]) == ("Active", app["id"])
    user.assignToLoadBalancerRule(
        id=balancer["id"], virtualmachineids=vm_app["id"], fetch_result=True
    )

    # The VPC's router holds every tier's rules as one set
    held = applied(sandbox, router)
    by_kind = {(r["kind"], r["address"]): r.get("network_id") for r in held}
    assert by_kind == {
        ("PortForwarding", first["ipaddress"]): web["id"],
        ("StaticNat", second["ipaddress"]): app["id"],
        ("LoadBalancing", source["ipaddress"]): app["id"],
    }

    # Another account sees and changes nothing
    other = bob.client
    assert _addresses(other, vpcid=vpc["id"]) == []
    refused(other.associateIpAddress, 531, vpcid=vpc["id"])
    refused(other.disassociateIpAddress, 531, id=first["id"])
    refused(other.deletePortForwardingRule, 531, id=forwarding["id"])
    refused(other.disableStaticNat, 531, ipaddressid=second["id"])
    assert len(_addresses(user, vpcid=vpc["id"])) == 3

    # A remote access VPN, on the VPC's source NAT address only, served by the VPC's router
    assert "source nat" in refused(user.createRemoteAccessVpn, 431, publicipid=first["id"])
    refused(other.createRemoteAccessVpn, 531, publicipid=source["id"])
    user.addVpnUser(username="carol", password="Carol-pass-1", fetch_result=True)
    vpn = user.createRemoteAccessVpn(publicipid=source["id"], fetch_result=True)
    vpn = vpn["remoteaccessvpn"]
    assert (vpn["state"], vpn["publicip"]) == ("Running", source["ipaddress"])
    assert len(vpn.pop("presharedkey")) == 24
    assert [v["id"] for v in user.listRemoteAccessVpns()["remoteaccessvpn"]] == [vpn["id"]]
    assert other.listRemoteAccessVpns().get("remoteaccessvpn", []) == []
    user.addVpnUser(username="dave", password="Dave-pass-12", fetch_result=True)

    # Rules gone, an address goes back to the VPC; the VPC's delete gives back the rest
    user.deletePortForwardingRule(id=forwarding["id"], fetch_result=True)
    assert "associatednetworkid" not in _addresses(user, id=first["id"])[0]
    user.disassociateIpAddress(id=first["id"], fetch_result=True)
    user.disableStaticNat(ipaddressid=second["id"], fetch_result=True)
    user.deleteLoadBalancerRule(id=balancer["id"], fetch_result=True)
    assert applied(sandbox, router) == []
    for vm in (vm_web, vm_app):
        admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)
    for tier in (web, app):
        user.deleteNetwork(id=tier["id"], fetch_result=True)
    assert "remote access VPN" in refused(user.deleteVPC, 536, id=vpc["id"])
    user.deleteRemoteAccessVpn(publicipid=source["id"], fetch_result=True)
    assert user.listRemoteAccessVpns().get("remoteaccessvpn", []) == []
    user.deleteVPC(id=vpc["id"], fetch_result=True)
    assert _addresses(user) == []
    assert _addresses(admin, id=source["id"], allocatedonly="false")[0]["state"] == "Free"


def site_vpns(sandbox, router: dict[str, Any]) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """The site-to-site connections the VPC's router holds, by connection id, as the
    simulator reports them (generation, and its ends: empty once dropped)."""
    path = Path(sandbox.env["STRATUS_SIMULATOR_SITE_VPNS"])
    if not path.exists():
        return {}
    prefix = f"{router['name']}/"
    return {
        key.removeprefix(prefix): (int(held["generation"]), list(held["rules"]))
        for key, held in json.loads(path.read_text()).items()
        if key.startswith(prefix)
    }


def _customer(user: CloudStack, name: str, gateway: str, cidrs: str) -> dict[str, Any]:
    return user.createVpnCustomerGateway(
        name=name,
        gateway=gateway,
        cidrlist=cidrs,
        ipsecpsk=f"{name}-pre-shared-key",
        ikepolicy="aes128-sha1;modp1536",
        esppolicy="aes256-sha1",
        dpd="true",
        fetch_result=True,
    )["vpncustomergateway"]


def test_a_vpc_connects_to_customer_gateways_through_its_router(sandbox) -> None:
    admin = sandbox.client()
    # The tunnel checks are off here: every state below is the router's answer to an apply
    # (the checks are shown by the test of two VPCs connected to each other)
    admin.updateConfiguration(name="router.check.interval", value="0")
    place = _zone(admin)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    user, other = alice.client, bob.client
    vpc = _vpc(user, place.zone, "branch", "10.60.0.0/16")
    (source,) = _addresses(user, vpcid=vpc["id"])
    router = wait_for(lambda: _running_router(admin, vpc), 30)
    assert router, "the VPC's router did not come up"
    office = _customer(user, "office", "198.51.100.7", "192.168.10.0/24")
    lab = _customer(user, "lab", "198.51.100.8", "192.168.20.0/24")
    inside = _customer(user, "inside", "198.51.100.9", "10.60.9.0/24")
    theirs = _customer(other, "theirs", "198.51.100.10", "192.168.30.0/24")

    # The gateway: the VPC's source NAT address, one per VPC
    gateway = user.createVpnGateway(vpcid=vpc["id"], fetch_result=True)["vpngateway"]
    assert (gateway["publicip"], gateway["vpcid"]) == (source["ipaddress"], vpc["id"])
    assert "already existed" in refused(user.createVpnGateway, 431, vpcid=vpc["id"])
    refused(other.createVpnGateway, 531, vpcid=vpc["id"])
    assert [g["id"] for g in user.listVpnGateways(vpcid=vpc["id"])["vpngateway"]] == [gateway["id"]]

    # Refusals that change nothing: networks inside the VPC's, another account's gateways
    assert "overlapped with VPC cidr" in refused(
        user.createVpnConnection,
        431,
        s2svpngatewayid=gateway["id"],
        s2scustomergatewayid=inside["id"],
    )
    refused(
        user.createVpnConnection,
        531,
        s2svpngatewayid=gateway["id"],
        s2scustomergatewayid=theirs["id"],
    )
    refused(
        other.createVpnConnection,
        531,
        s2svpngatewayid=gateway["id"],
        s2scustomergatewayid=theirs["id"],
    )
    assert user.listVpnConnections().get("vpnconnection", []) == []

    # An active and a passive connection, applied by the VPC's router
    active = user.createVpnConnection(
        s2svpngatewayid=gateway["id"], s2scustomergatewayid=office["id"], fetch_result=True
    )["vpnconnection"]
    passive = user.createVpnConnection(
        s2svpngatewayid=gateway["id"],
        s2scustomergatewayid=lab["id"],
        passive="true",
        fetch_result=True,
    )["vpnconnection"]
    assert (active["state"], passive["state"]) == ("Connected", "Disconnected")
    assert (active["publicip"], active["gateway"], active["cidrlist"]) == (
        source["ipaddress"],
        "198.51.100.7",
        "192.168.10.0/24",
    )
    assert "ipsecpsk" not in active
    expected = set(reference()["listVpnConnections"].response) - set(
        UNBUILT_FIELDS.get("listVpnConnections", {})
    )
    listed = user.listVpnConnections(vpcid=vpc["id"])["vpnconnection"]
    assert expected <= set().union(*(set(c) for c in listed))
    held = site_vpns(sandbox, router)
    generation, (ends,) = held[active["id"]]
    assert (ends["peer_ip"], ends["peer_cidrs"], ends["vpc_cidr"]) == (
        "198.51.100.7",
        "192.168.10.0/24",
        "10.60.0.0/16",
    )
    assert (ends["ike_policy"], ends["dpd"], held[passive["id"]][1][0]["passive"]) == (
        "aes128-sha1;modp1536",
        True,
        True,
    )
    assert ends["psk_sha256"] == hashlib.sha256(b"office-pre-shared-key").hexdigest()
    report = Path(sandbox.env["STRATUS_SIMULATOR_SITE_VPNS"]).read_text()
    assert "office-pre-shared-key" not in report

    assert "already existed" in refused(
        user.createVpnConnection,
        431,
        s2svpngatewayid=gateway["id"],
        s2scustomergatewayid=office["id"],
    )
    assert "related VPN connections" in refused(user.deleteVpnGateway, 431, id=gateway["id"])
    assert "related VPN connections" in refused(
        user.deleteVpnCustomerGateway, 431, id=office["id"], fetch_result=True
    )
    assert other.listVpnConnections().get("vpnconnection", []) == []
    assert other.listVpnGateways().get("vpngateway", []) == []
    refused(other.resetVpnConnection, 531, id=active["id"])
    refused(other.deleteVpnConnection, 531, id=active["id"])

    # A reset applies it again; a router that fails leaves it in Error, the next reset heals
    again = user.resetVpnConnection(id=active["id"], fetch_result=True)["vpnconnection"]
    assert again["state"] == "Connected"
    assert site_vpns(sandbox, router)[active["id"]][0] > generation
    fail_next(sandbox.control_file, "configure_site_vpn")
    assert "site-to-site VPN" in refused(
        user.resetVpnConnection, 534, id=active["id"], fetch_result=True
    )
    assert user.listVpnConnections(id=active["id"])["vpnconnection"][0]["state"] == "Error"
    user.resetVpnConnection(id=active["id"], fetch_result=True)
    assert user.listVpnConnections(id=active["id"])["vpnconnection"][0]["state"] == "Connected"

    # A router that boots again is given its connections again
    before = site_vpns(sandbox, router)[active["id"]][0]
    admin.stopRouter(id=router["id"], fetch_result=True)
    admin.startRouter(id=router["id"], fetch_result=True)
    assert wait_for(lambda: site_vpns(sandbox, router)[active["id"]][0] > before, 30)
    assert wait_for(
        lambda: (
            {c["state"] for c in user.listVpnConnections()["vpnconnection"]}
            == {"Connected", "Disconnected"}
        ),
        30,
    )

    # Deleting: the router drops each connection; the gateway goes with the VPC
    for connection in (active, passive):
        user.deleteVpnConnection(id=connection["id"], fetch_result=True)
        assert site_vpns(sandbox, router)[connection["id"]][1] == []
    assert user.listVpnConnections().get("vpnconnection", []) == []
    user.deleteVpnCustomerGateway(id=office["id"], fetch_result=True)
    user.deleteVPC(id=vpc["id"], fetch_result=True)
    assert user.listVpnGateways().get("vpngateway", []) == []
    admin.updateConfiguration(name="router.check.interval", value="30")


def _alerts(admin: CloudStack, text: str) -> list[dict[str, Any]]:
    return [a for a in admin.listAlerts(type=9).get("alert", []) if text in a["description"]]


def test_two_vpcs_connected_by_site_to_site_vpn_reach_connected(sandbox) -> None:
    """As 4.3 connects two VPCs: each has a customer gateway at the other's VPN gateway, one
    connection passive; the routers' tunnel checks bring both to Connected."""
    admin = sandbox.client()
    admin.updateConfiguration(name="router.check.interval", value="1")
    place = _zone(admin)
    alice = make_tenant(sandbox, admin)
    user = alice.client
    east, west = (
        _vpc(user, place.zone, "east", "10.70.0.0/16"),
        _vpc(user, place.zone, "west", "10.80.0.0/16"),
    )
    routers_of = {}
    for vpc in (east, west):
        routers_of[vpc["id"]] = wait_for(lambda vpc=vpc: _running_router(admin, vpc), 30)
        assert routers_of[vpc["id"]], "a VPC's router did not come up"
    east_gw = user.createVpnGateway(vpcid=east["id"], fetch_result=True)["vpngateway"]
    west_gw = user.createVpnGateway(vpcid=west["id"], fetch_result=True)["vpngateway"]
    to_west = _customer(user, "to-west", west_gw["publicip"], west["cidr"])
    to_east = user.createVpnCustomerGateway(  # the same key and policies as to-west's
        name="to-east",
        gateway=east_gw["publicip"],
        cidrlist=east["cidr"],
        ipsecpsk="to-west-pre-shared-key",
        ikepolicy="aes128-sha1;modp1536",
        esppolicy="aes256-sha1",
        dpd="true",
        fetch_result=True,
    )["vpncustomergateway"]

    # The passive side first: alone it waits for the far end, and stays Disconnected
    waiting = user.createVpnConnection(
        s2svpngatewayid=west_gw["id"],
        s2scustomergatewayid=to_east["id"],
        passive="true",
        fetch_result=True,
    )["vpnconnection"]
    assert waiting["state"] == "Disconnected"
    active = user.createVpnConnection(
        s2svpngatewayid=east_gw["id"], s2scustomergatewayid=to_west["id"], fetch_result=True
    )["vpnconnection"]

    def states() -> dict[str, str]:
        return {c["id"]: c["state"] for c in user.listVpnConnections()["vpnconnection"]}

    both = {active["id"]: "Connected", waiting["id"]: "Connected"}
    assert wait_for(lambda: states() == both, 60), states()

    # What each router was given: the two ends mirror each other, with one key
    east_router, west_router = routers_of[east["id"]], routers_of[west["id"]]
    (east_ends,) = site_vpns(sandbox, east_router)[active["id"]][1]
    (west_ends,) = site_vpns(sandbox, west_router)[waiting["id"]][1]
    assert (east_ends["public_ip"], east_ends["peer_ip"]) == (
        west_ends["peer_ip"],
        west_ends["public_ip"],
    )
    assert (east_ends["public_ip"], west_ends["public_ip"]) == (
        east_gw["publicip"],
        west_gw["publicip"],
    )
    assert (east_ends["vpc_cidr"], east_ends["peer_cidrs"]) == ("10.70.0.0/16", "10.80.0.0/16")
    assert (west_ends["vpc_cidr"], west_ends["peer_cidrs"]) == ("10.80.0.0/16", "10.70.0.0/16")
    assert (east_ends["passive"], west_ends["passive"]) == (False, True)
    digest = hashlib.sha256(b"to-west-pre-shared-key").hexdigest()
    assert east_ends["psk_sha256"] == west_ends["psk_sha256"] == digest
    for ends in (east_ends, west_ends):
        assert (ends["ike_policy"], ends["esp_policy"]) == ("aes128-sha1;modp1536", "aes256-sha1")
    report = Path(sandbox.env["STRATUS_SIMULATOR_SITE_VPNS"]).read_text()
    assert "to-west-pre-shared-key" not in report
    # a check that changes a state raises a router alert (the passive side came up)
    assert _alerts(admin, "to to-east on router")

    # The west router stops: the east side's tunnel is down; started again, it is given its
    # connection again and both come back up
    admin.stopRouter(id=west_router["id"], fetch_result=True)
    assert wait_for(lambda: states()[active["id"]] == "Disconnected", 60), states()
    assert wait_for(lambda: _alerts(admin, "from Connected to Disconnected"), 30)
    admin.startRouter(id=west_router["id"], fetch_result=True)
    assert wait_for(lambda: states() == both, 60), states()

    # A reset applies it again (Pending, then the router's answer), and the check keeps it up
    again = user.resetVpnConnection(id=active["id"], fetch_result=True)["vpnconnection"]
    assert again["state"] == "Connected"
    assert wait_for(lambda: states() == both, 30), states()

    # Dropped on one side, the other's tunnel goes down
    user.deleteVpnConnection(id=active["id"], fetch_result=True)
    assert wait_for(lambda: states() == {waiting["id"]: "Disconnected"}, 60), states()
    user.deleteVpnConnection(id=waiting["id"], fetch_result=True)
    admin.updateConfiguration(name="router.check.interval", value="30")


def _tier_in(user: CloudStack, place: Any, vpc: dict[str, Any], gateway: str) -> dict[str, Any]:
    offering = user.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingForVpcNetworks")
    return user.createNetwork(
        name=f"tier-{gateway}",
        displaytext="tier",
        networkofferingid=offering["networkoffering"][0]["id"],
        zoneid=place.zone,
        vpcid=vpc["id"],
        gateway=gateway,
        netmask="255.255.255.0",
    )["network"]


def test_a_portable_address_of_a_vpc_moves_to_another_vpc_with_static_nat(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    user = alice.client
    made = admin.createPortableIpRange(
        regionid=1,
        gateway="198.18.5.1",
        netmask="255.255.255.0",
        startip="198.18.5.10",
        endip="198.18.5.11",
        fetch_result=True,
    )["portableiprange"]
    north, south = (
        _vpc(user, place.zone, "north", "10.91.0.0/16"),
        _vpc(user, place.zone, "south", "10.92.0.0/16"),
    )
    near, far = _tier_in(user, place, north, "10.91.1.1"), _tier_in(user, place, south, "10.92.1.1")
    vm_near = _deploy(user, place, place.small, networkids=near["id"])
    vm_far = _deploy(user, place, place.small, networkids=far["id"])

    # A portable address of the VPC: it serves no tier until static NAT places it
    ip = user.associateIpAddress(vpcid=north["id"], isportable=True, fetch_result=True)["ipaddress"]
    assert (ip["isportable"], ip["vpcid"], ip["zoneid"]) == (True, north["id"], place.zone)
    assert ip["ipaddress"].startswith("198.18.5.") and "associatednetworkid" not in ip
    portable = [a["id"] for a in _addresses(user, vpcid=north["id"]) if a["isportable"]]
    assert portable == [ip["id"]]
    refused(bob.client.associateIpAddress, 531, vpcid=north["id"], isportable=True)
    user.enableStaticNat(ipaddressid=ip["id"], virtualmachineid=vm_near["id"], networkid=near["id"])
    nat = _addresses(user, id=ip["id"])[0]
    assert (nat["vpcid"], nat["associatednetworkid"], nat["isstaticnat"]) == (
        north["id"],
        near["id"],
        True,
    )

    # With its rule it does not move (nothing changes); without it, static NAT to the other
    # VPC's VM moves it there and that VPC's router applies it
    refused(
        user.enableStaticNat,
        536,
        ipaddressid=ip["id"],
        virtualmachineid=vm_far["id"],
        networkid=far["id"],
    )
    assert _addresses(user, id=ip["id"])[0]["vpcid"] == north["id"]
    user.disableStaticNat(ipaddressid=ip["id"], fetch_result=True)
    user.enableStaticNat(ipaddressid=ip["id"], virtualmachineid=vm_far["id"], networkid=far["id"])
    moved = _addresses(user, id=ip["id"])[0]
    assert (moved["vpcid"], moved["associatednetworkid"], moved["virtualmachineid"]) == (
        south["id"],
        far["id"],
        vm_far["id"],
    )
    assert ip["id"] not in {a["id"] for a in _addresses(user, vpcid=north["id"])}
    assert ip["id"] in {a["id"] for a in _addresses(user, vpcid=south["id"])}
    router = wait_for(lambda: _running_router(admin, south), 30)
    assert wait_for(
        lambda: any(
            r["kind"] == "StaticNat" and r["address"] == ip["ipaddress"]
            for r in applied(sandbox, router)
        ),
        30,
    )
    # A VPC's address that is not portable stays with its VPC's tiers
    fixed = user.associateIpAddress(vpcid=north["id"], fetch_result=True)["ipaddress"]
    assert "not a tier of the VPC" in refused(
        user.enableStaticNat,
        431,
        ipaddressid=fixed["id"],
        virtualmachineid=vm_far["id"],
        networkid=far["id"],
    )

    # Out of the VPCs: static NAT to a VM of an isolated network moves it there
    (physical,) = admin.listPhysicalNetworks(zoneid=place.zone)["physicalnetwork"]
    enable_router_provider(admin, physical["id"])
    isolated = user.createNetwork(
        name="plain",
        displaytext="plain",
        networkofferingid=_offering(user, SOURCE_NAT_OFFERING)["id"],
        zoneid=place.zone,
    )["network"]
    vm_plain = _deploy(user, place, place.small, networkids=isolated["id"])
    user.disableStaticNat(ipaddressid=ip["id"], fetch_result=True)
    user.enableStaticNat(
        ipaddressid=ip["id"], virtualmachineid=vm_plain["id"], networkid=isolated["id"]
    )
    out = _addresses(user, id=ip["id"])[0]
    assert (out.get("vpcid"), out["associatednetworkid"]) == (None, isolated["id"])
    assert ip["id"] not in {a["id"] for a in _addresses(user, vpcid=south["id"])}
    (plain_router,) = routers(admin, networkid=isolated["id"])
    assert wait_for(
        lambda: any(
            r["kind"] == "StaticNat" and r["address"] == ip["ipaddress"]
            for r in applied(sandbox, plain_router)
        ),
        30,
    )

    user.disableStaticNat(ipaddressid=ip["id"], fetch_result=True)
    for address in (ip, fixed):
        user.disassociateIpAddress(id=address["id"], fetch_result=True)
    admin.deletePortableIpRange(id=made["id"], fetch_result=True)


def test_a_root_admin_hides_a_vpc_its_acls_and_its_site_to_site_vpn(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    alice = make_tenant(sandbox, admin)
    user = alice.client
    vpc = _vpc(user, place.zone, "quiet", "10.70.0.0/16")
    assert vpc["fordisplay"] is True
    assert wait_for(lambda: _running_router(admin, vpc), 30), "the VPC's router did not come up"

    # An ACL list hidden from the start; an item of it hidden later
    refused_flag(user.createNetworkACLList, name="mine", vpcid=vpc["id"], fordisplay="false")
    acl = admin.createNetworkACLList(
        name="quiet", vpcid=vpc["id"], fordisplay="false", fetch_result=True
    )["networkacllist"]
    assert acl["fordisplay"] is False
    assert_hidden(admin, user, "listNetworkACLLists", "networkacllist", acl["id"])
    item = user.createNetworkACL(
        aclid=acl["id"], protocol="tcp", startport=22, endport=22, traffictype="Ingress",
        action="Allow", number=10, fetch_result=True,
    )["networkacl"]  # fmt: skip
    assert_shown(user, "listNetworkACLs", "networkacl", item["id"], aclid=acl["id"])
    refused_flag(user.updateNetworkACLItem, id=item["id"], fordisplay="false")
    admin.updateNetworkACLItem(id=item["id"], fordisplay="false", fetch_result=True)
    assert_hidden(admin, user, "listNetworkACLs", "networkacl", item["id"], aclid=acl["id"])

    # The site-to-site VPN: gateway and connection hidden by a root administrator
    refused_flag(user.createVpnGateway, vpcid=vpc["id"], fordisplay="false")
    gateway = admin.createVpnGateway(vpcid=vpc["id"], fordisplay="false", fetch_result=True)[
        "vpngateway"
    ]
    assert_hidden(admin, user, "listVpnGateways", "vpngateway", gateway["id"])
    office = _customer(user, "office", "198.51.100.7", "192.168.10.0/24")
    both = {"s2svpngatewayid": gateway["id"], "s2scustomergatewayid": office["id"]}
    refused_flag(user.createVpnConnection, **both, fordisplay="false")
    connection = admin.createVpnConnection(**both, fordisplay="false", fetch_result=True)[
        "vpnconnection"
    ]
    assert connection["fordisplay"] is False
    assert_hidden(admin, user, "listVpnConnections", "vpnconnection", connection["id"])
    # A VPC's gateway made again has its forerunner's id, not its flag
    user.deleteVpnConnection(id=connection["id"], fetch_result=True)
    user.deleteVpnGateway(id=gateway["id"], fetch_result=True)
    again = user.createVpnGateway(vpcid=vpc["id"], fetch_result=True)["vpngateway"]
    assert again["id"] == gateway["id"]
    assert_shown(user, "listVpnGateways", "vpngateway", again["id"])

    # The VPC itself
    refused_flag(user.updateVPC, id=vpc["id"], fordisplay="false")
    hidden = admin.updateVPC(id=vpc["id"], fordisplay="false", fetch_result=True)["vpc"]
    assert hidden["fordisplay"] is False
    assert_hidden(admin, user, "listVPCs", "vpc", vpc["id"])
