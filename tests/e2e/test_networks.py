"""Networks through the `cs` client: a VXLAN fabric, a tenant's isolated network, its VM's NIC,
the source NAT address, public addresses, and the VNI given back when the network goes."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, routers, wait_for
from tests.e2e.test_vms import _deploy, _host, _place
from tests.e2e.zones import enable_router_provider

SOURCE_NAT_OFFERING = "DefaultIsolatedNetworkOfferingWithSourceNatService"


def _offering(client: CloudStack, name: str) -> dict:
    offerings = client.listNetworkOfferings(name=name)["networkoffering"]
    return offerings[0]


def _fabric(admin: CloudStack, zone: str) -> dict:
    physical = admin.createPhysicalNetwork(
        zoneid=zone, name="fabric", isolationmethods="VXLAN", vlan="5000-5001", fetch_result=True
    )["physicalnetwork"]
    assert (physical["state"], physical["vlan"]) == ("Disabled", "5000-5001")
    enabled = admin.updatePhysicalNetwork(id=physical["id"], state="Enabled", fetch_result=True)[
        "physicalnetwork"
    ]
    assert enabled["state"] == "Enabled"
    enable_router_provider(admin, physical["id"])
    admin.createVlanIpRange(
        zoneid=zone,
        vlan="100",
        gateway="203.0.113.1",
        netmask="255.255.255.0",
        startip="203.0.113.10",
        endip="203.0.113.12",
        forvirtualnetwork="true",
    )
    return physical


def _refused(call, code: int, **params) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code
    return refused.value.error["errortext"]


def test_a_tenant_network_carries_its_vm_and_gives_its_vni_back(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    register_template(admin, SYSTEM_TEMPLATE)  # what the network's virtual router boots
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    _refused(alice.client.createPhysicalNetwork, 432, zoneid=place.zone, name="x")
    _refused(
        alice.client.createVlanIpRange,
        432,
        zoneid=place.zone,
        gateway="198.51.100.1",
        netmask="255.255.255.0",
        startip="198.51.100.5",
    )
    _fabric(admin, place.zone)
    offering = _offering(alice.client, SOURCE_NAT_OFFERING)
    assert {s["name"] for s in offering["service"]} >= {"SourceNat", "Dhcp", "Dns"}

    network = alice.client.createNetwork(
        name="web", displaytext="web", networkofferingid=offering["id"], zoneid=place.zone
    )["network"]
    assert (network["state"], network["type"], network["account"]) == (
        "Allocated",
        "Isolated",
        alice.username,
    )
    assert (network["broadcasturi"], network["vlan"]) == ("vxlan://5000", "5000")
    assert (network["cidr"], network["gateway"]) == ("10.1.1.0/24", "10.1.1.1")
    assert bob.client.listNetworks() == {}

    vm = _deploy(alice.client, place, place.small)  # the account's only network is used
    (nic,) = vm["nic"]
    assert (nic["networkid"], nic["ipaddress"], nic["isdefault"]) == (
        network["id"],
        "10.1.1.2",
        True,
    )
    assert nic["macaddress"].startswith("02:00:")
    (router,) = routers(admin, networkid=network["id"])  # the first VM brought it up
    assert router["account"] == alice.username
    implemented = alice.client.listNetworks(id=network["id"])["network"][0]
    assert implemented["state"] == "Implemented"
    (source_nat,) = alice.client.listPublicIpAddresses(issourcenat="true")["publicipaddress"]
    assert source_nat["associatednetworkid"] == network["id"]
    assert source_nat["ipaddress"] == "203.0.113.10"

    second = _deploy(
        alice.client, place, place.small, networkids=network["id"], ipaddress="10.1.1.9"
    )
    assert second["nic"][0]["ipaddress"] == "10.1.1.9"

    extra = alice.client.associateIpAddress(networkid=network["id"], fetch_result=True)
    assert extra["ipaddress"]["ipaddress"] == "203.0.113.11"
    with pytest.raises(CloudStackApiException) as kept:
        alice.client.disassociateIpAddress(id=source_nat["id"], fetch_result=True)
    assert "source nat" in kept.value.error["errortext"]
    alice.client.disassociateIpAddress(id=extra["ipaddress"]["id"], fetch_result=True)

    with pytest.raises(CloudStackApiException) as in_use:
        alice.client.deleteNetwork(id=network["id"], fetch_result=True)
    assert "in use" in in_use.value.error["errortext"]
    for machine in (vm, second):
        admin.destroyVirtualMachine(id=machine["id"], expunge="true", fetch_result=True)
    alice.client.deleteNetwork(id=network["id"], fetch_result=True)
    assert alice.client.listNetworks() == {}
    # The router goes with its network: its host is asked to remove it, after the job.
    assert wait_for(lambda: routers(admin, networkid=network["id"]) == [])
    assert alice.client.listPublicIpAddresses() == {}

    again = alice.client.createNetwork(
        name="again", displaytext="again", networkofferingid=offering["id"], zoneid=place.zone
    )["network"]
    assert again["broadcasturi"] == "vxlan://5000"
    _refused(
        bob.client.deployVirtualMachine,
        531,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        networkids=again["id"],
    )


def test_offerings_ranges_and_a_shared_network_that_every_tenant_may_use(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    made = admin.createNetworkOffering(
        name="plain",
        displaytext="plain",
        guestiptype="Isolated",
        traffictype="Guest",
        supportedservices="Dhcp,Dns",
        **{
            "serviceProviderList[0].service": "Dhcp",
            "serviceProviderList[0].provider": "VirtualRouter",
        },
    )["networkoffering"]
    assert (made["state"], made["guestiptype"]) == ("Disabled", "Isolated")
    _refused(alice.client.updateNetworkOffering, 432, id=made["id"], state="Enabled")
    assert (
        admin.updateNetworkOffering(id=made["id"], state="Enabled")["networkoffering"]["state"]
        == "Enabled"
    )
    admin.deleteNetworkOffering(id=made["id"])
    default = _offering(admin, "DefaultSharedNetworkOffering")
    _refused(admin.deleteNetworkOffering, 431, id=default["id"])
    admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", isolationmethods="VLAN", fetch_result=True
    )

    _refused(
        alice.client.createNetwork,
        531,
        name="s",
        displaytext="s",
        networkofferingid=default["id"],
        zoneid=place.zone,
        vlan="200",
        gateway="192.168.50.1",
        netmask="255.255.255.0",
        startip="192.168.50.100",
        endip="192.168.50.101",
    )
    shared = admin.createNetwork(
        name="shared",
        displaytext="shared",
        networkofferingid=default["id"],
        zoneid=place.zone,
        vlan="200",
        gateway="192.168.50.1",
        netmask="255.255.255.0",
        startip="192.168.50.100",
        endip="192.168.50.101",
    )["network"]
    assert (shared["type"], shared["state"], shared["broadcasturi"]) == (
        "Shared",
        "Setup",
        "vlan://200",
    )
    assert [n["id"] for n in alice.client.listNetworks(type="Shared")["network"]] == [shared["id"]]
    vm = _deploy(alice.client, place, place.small, networkids=shared["id"])
    assert vm["nic"][0]["ipaddress"] == "192.168.50.100"
    renamed = admin.updateNetwork(id=shared["id"], name="lan", fetch_result=True)["network"]
    assert renamed["name"] == "lan"

    ip_range = admin.createVlanIpRange(
        zoneid=place.zone,
        vlan="untagged",
        gateway="198.51.100.1",
        netmask="255.255.255.0",
        startip="198.51.100.5",
        endip="198.51.100.6",
    )["vlan"]
    overlapping = dict(gateway="198.51.100.1", netmask="255.255.255.0", startip="198.51.100.6")
    _refused(admin.createVlanIpRange, 431, zoneid=place.zone, **overlapping)
    public = admin.listVlanIpRanges(zoneid=place.zone, forvirtualnetwork=True)["vlaniprange"]
    assert [r["id"] for r in public] == [ip_range["id"]]
    held = alice.client.associateIpAddress(zoneid=place.zone, fetch_result=True)["ipaddress"]
    assert (held["ipaddress"], held["account"], held["issourcenat"]) == (
        "198.51.100.5",
        alice.username,
        False,
    )
    everything = admin.listPublicIpAddresses(allocatedonly="false", zoneid=place.zone)[
        "publicipaddress"
    ]
    assert sorted((p["ipaddress"], p["state"]) for p in everything) == [
        ("198.51.100.5", "Allocated"),
        ("198.51.100.6", "Free"),
    ]
    _refused(admin.deleteVlanIpRange, 536, id=ip_range["id"])
    alice.client.disassociateIpAddress(id=held["id"], fetch_result=True)
    admin.deleteVlanIpRange(id=ip_range["id"])
    assert admin.listVlanIpRanges(zoneid=place.zone, forvirtualnetwork=True) == {}
