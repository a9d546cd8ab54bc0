"""A VPC's public addresses through the `cs` client, on every leg: the source NAT address the
VPC takes when it starts, an address associated with the VPC, port forwarding, static NAT and
a load balancer on VPC addresses (each placing its address on a tier), applied by the VPC's
router as one set (read from the file named by STRATUS_SIMULATOR_RULES), the refusals that
change nothing, another account kept out, and the addresses given back with the VPC."""

from __future__ import annotations

from typing import Any

from cs import CloudStack

from api.reference import reference
from tests.e2e.factories import make_tenant
from tests.e2e.test_network_rules import applied, refused
from tests.e2e.test_routers import routers, wait_for
from tests.e2e.test_vms import _deploy
from tests.e2e.test_vpcs import _tier, _zone


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

    def running() -> dict | None:
        found = routers(admin, vpcid=vpc["id"])
        return found[0] if found and found[0]["state"] == "Running" else None

    router = wait_for(running, 30)
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
