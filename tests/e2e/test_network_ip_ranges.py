"""IPv4 ranges of shared networks through the `cs` client, as 4.3 has them: an administrator adds
ranges to a shared network (in a subnet it has, or a new subnet on its VLAN), its VMs get
addresses from all of them, and a range goes only once no VM holds an address of it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import _deploy, _host, _place

PLAN = {
    "gateway": "192.168.70.1",
    "netmask": "255.255.255.0",
    "startip": "192.168.70.10",
    "endip": "192.168.70.11",
}
FIRST, SECOND = ("192.168.70.10", "192.168.70.11"), ("192.168.70.20", "192.168.70.21")


def _refused(call, code: int, **params) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _shared(admin: CloudStack, zone: str, vlan: str, **plan: str) -> dict:
    offering = admin.listNetworkOfferings(name="DefaultSharedNetworkOffering")["networkoffering"]
    return admin.createNetwork(
        name=f"shared-{vlan}",
        displaytext="shared",
        networkofferingid=offering[0]["id"],
        zoneid=zone,
        vlan=vlan,
        **plan,
    )["network"]


def _ranges(admin: CloudStack, network_id: str) -> list[dict]:
    return admin.listVlanIpRanges(networkid=network_id).get("vlaniprange", [])


def _in(text: str, first: str, last: str) -> bool:
    return IPv4Address(first) <= IPv4Address(text) <= IPv4Address(last)


def _full(client: CloudStack, place, network_id: str, **extra) -> str:
    return _refused(
        client.deployVirtualMachine,
        533,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        networkids=network_id,
        fetch_result=True,
        **extra,
    )


def _setup(sandbox):
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", isolationmethods="VLAN", fetch_result=True
    )
    return admin, place, make_tenant(sandbox, admin)


def test_ranges_added_to_a_shared_network_serve_its_vms_and_go_when_free(sandbox) -> None:
    admin, place, alice = _setup(sandbox)
    network = _shared(admin, place.zone, "340", **PLAN)
    (first,) = _ranges(admin, network["id"])
    assert (first["startip"], first["endip"], first["gateway"]) == (
        "192.168.70.10",
        "192.168.70.11",
        "192.168.70.1",
    )
    assert first["forvirtualnetwork"] is False and first["vlan"] == "vlan://340"

    # The same subnet: gateway and netmask may be left out
    second = admin.createVlanIpRange(
        networkid=network["id"], startip="192.168.70.20", endip="192.168.70.21"
    )["vlan"]
    assert (second["networkid"], second["gateway"], second["netmask"]) == (
        network["id"],
        "192.168.70.1",
        "255.255.255.0",
    )
    assert second["forvirtualnetwork"] is False and second["vlan"] == "vlan://340"

    # A public range of the zone that no network range may overlap
    admin.createVlanIpRange(
        zoneid=place.zone,
        vlan="50",
        gateway="172.30.0.1",
        netmask="255.255.255.0",
        startip="172.30.0.10",
        endip="172.30.0.20",
        forvirtualnetwork=True,
    )
    for bad in (
        {"startip": "192.168.70.11", "endip": "192.168.70.20"},  # overlaps both ranges
        {"startip": "192.168.70.1", "endip": "192.168.70.5"},  # holds the gateway
        {"startip": "192.168.70.30", "gateway": "192.168.70.254", "netmask": "255.255.255.0"},
        {"startip": "192.168.70.30", "gateway": "192.168.0.1", "netmask": "255.255.0.0"},
        {"startip": "192.168.70.30", "gateway": "192.168.70.129", "netmask": "255.255.255.128"},
        {"startip": "10.9.9.5"},  # in no subnet of the network, and none given
        {"startip": "192.168.70.30", "gateway": "192.168.70.1"},  # netmask missing
        {"startip": "192.168.70.30", "endip": "192.168.71.5"},  # leaves the subnet
        {"startip": "192.168.70.30", "vlan": "399"},
        {"startip": "192.168.70.30", "forvirtualnetwork": True},
        {"startip": "172.30.0.15", "gateway": "172.30.0.1", "netmask": "255.255.255.0"},
        {"startip": "192.168.70.30", "startipv6": "2001:db8:70::10"},
    ):
        _refused(admin.createVlanIpRange, 431, networkid=network["id"], **bad)
    assert len(_ranges(admin, network["id"])) == 2

    # A new subnet on the network's VLAN: its VMs are given that subnet's gateway
    third = admin.createVlanIpRange(
        networkid=network["id"],
        startip="10.50.0.10",
        gateway="10.50.0.1",
        netmask="255.255.255.0",
    )["vlan"]
    assert (third["startip"], third["endip"]) == ("10.50.0.10", "10.50.0.10")
    assert {r["id"] for r in _ranges(admin, network["id"])} == {
        first["id"],
        second["id"],
        third["id"],
    }
    assert third["id"] in {
        r["id"] for r in admin.listVlanIpRanges(zoneid=place.zone)["vlaniprange"]
    }

    # VMs take every address of every range, then the network is full
    vms = [_deploy(alice.client, place, place.small, networkids=network["id"]) for _ in range(5)]
    nics = {vm["id"]: vm["nic"][0] for vm in vms}
    given = sorted(nic["ipaddress"] for nic in nics.values())
    assert given == sorted(
        ["192.168.70.10", "192.168.70.11", "192.168.70.20", "192.168.70.21", "10.50.0.10"]
    )
    for nic in nics.values():
        if nic["ipaddress"].startswith("10.50."):
            assert (nic["gateway"], nic["netmask"]) == ("10.50.0.1", "255.255.255.0")
        else:
            assert (nic["gateway"], nic["netmask"]) == ("192.168.70.1", "255.255.255.0")
    before = alice.client.listVirtualMachines()["count"]
    _full(alice.client, place, network["id"])
    assert alice.client.listVirtualMachines()["count"] == before

    # A range goes only once no VM holds an address of it
    for held in (first, second, third):
        _refused(admin.deleteVlanIpRange, 536, id=held["id"])
    assert len(_ranges(admin, network["id"])) == 3
    in_second = [
        i for i, n in nics.items() if _in(n["ipaddress"], "192.168.70.20", "192.168.70.21")
    ]
    for vm_id in in_second:
        alice.client.destroyVirtualMachine(id=vm_id, fetch_result=True)
        admin.expungeVirtualMachine(id=vm_id, fetch_result=True)
    admin.deleteVlanIpRange(id=second["id"])
    assert {r["id"] for r in _ranges(admin, network["id"])} == {first["id"], third["id"]}
    _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        iptonetworklist=[{"networkid": network["id"], "ip": "192.168.70.20"}],
        fetch_result=True,
    )
    _full(alice.client, place, network["id"])  # its addresses are no longer given

    # The range the network was made with goes the same way
    in_first = [i for i, n in nics.items() if _in(n["ipaddress"], *FIRST)]
    for vm_id in in_first:
        alice.client.destroyVirtualMachine(id=vm_id, fetch_result=True)
        admin.expungeVirtualMachine(id=vm_id, fetch_result=True)
    admin.deleteVlanIpRange(id=first["id"])
    assert [r["id"] for r in _ranges(admin, network["id"])] == [third["id"]]
    _full(alice.client, place, network["id"])
    again = admin.createVlanIpRange(networkid=network["id"], startip="192.168.70.10")["vlan"]
    vm = _deploy(alice.client, place, place.small, networkids=network["id"])
    assert vm["nic"][0]["ipaddress"] == "192.168.70.10"
    assert again["gateway"] == "192.168.70.1"


def test_a_shared_network_made_without_a_range_takes_one_later(sandbox) -> None:
    admin, place, alice = _setup(sandbox)
    bare = _shared(admin, place.zone, "350")
    assert _ranges(admin, bare["id"]) == []
    assert "no ip range" in _full(alice.client, place, bare["id"])
    added = admin.createVlanIpRange(
        networkid=bare["id"],
        startip="192.168.90.5",
        endip="192.168.90.6",
        gateway="192.168.90.1",
        netmask="255.255.255.0",
    )["vlan"]
    shown = admin.listNetworks(id=bare["id"])["network"][0]
    assert (shown["gateway"], shown["netmask"], shown["cidr"]) == (
        "192.168.90.1",
        "255.255.255.0",
        "192.168.90.0/24",
    )
    vm = _deploy(alice.client, place, place.small, networkids=bare["id"])
    assert _in(vm["nic"][0]["ipaddress"], "192.168.90.5", "192.168.90.6")
    assert vm["nic"][0]["gateway"] == "192.168.90.1"
    assert [r["id"] for r in _ranges(admin, bare["id"])] == [added["id"]]

    # With its subnet alone: ranges in it need no gateway
    subnet_only = _shared(admin, place.zone, "351", gateway="192.168.91.1", netmask="255.255.255.0")
    assert subnet_only["cidr"] == "192.168.91.0/24"
    _refused(admin.createVlanIpRange, 431, networkid=subnet_only["id"], startip="192.168.92.5")
    admin.createVlanIpRange(networkid=subnet_only["id"], startip="192.168.91.5")
    vm = _deploy(alice.client, place, place.small, networkids=subnet_only["id"])
    assert vm["nic"][0]["ipaddress"] == "192.168.91.5"
    # A network whose offering has no DHCP provider serving several subnets keeps to one
    plain = admin.createNetworkOffering(
        name="no-dhcp",
        displaytext="no dhcp",
        guestiptype="Shared",
        traffictype="Guest",
        supportedservices="Dns",
    )["networkoffering"]
    admin.updateNetworkOffering(id=plain["id"], state="Enabled")
    one_subnet = admin.createNetwork(
        name="one-subnet",
        displaytext="one subnet",
        networkofferingid=plain["id"],
        zoneid=place.zone,
        vlan="353",
        **{**PLAN, "gateway": "192.168.94.1", "startip": "192.168.94.5", "endip": "192.168.94.5"},
    )["network"]
    assert "multiple subnets" in _refused(
        admin.createVlanIpRange,
        431,
        networkid=one_subnet["id"],
        startip="192.168.95.5",
        gateway="192.168.95.1",
        netmask="255.255.255.0",
    )
    admin.createVlanIpRange(networkid=one_subnet["id"], startip="192.168.94.6")
    assert len(_ranges(admin, one_subnet["id"])) == 2

    for bad in (
        {"gateway": "192.168.93.1"},  # no netmask
        {"startip": "192.168.93.5"},  # a range with no subnet
    ):
        _refused(
            admin.createNetwork,
            431,
            name="bad",
            displaytext="bad",
            networkofferingid=admin.listNetworkOfferings(name="DefaultSharedNetworkOffering")[
                "networkoffering"
            ][0]["id"],
            zoneid=place.zone,
            vlan="352",
            **bad,
        )


def test_racing_deploys_never_get_one_address_twice_across_ranges(sandbox) -> None:
    admin, place, alice = _setup(sandbox)
    network = _shared(
        admin, place.zone, "360", **{**PLAN, "startip": "192.168.70.10", "endip": "192.168.70.10"}
    )
    admin.createVlanIpRange(networkid=network["id"], startip="192.168.70.40")
    admin.createVlanIpRange(networkid=network["id"], startip="192.168.70.50")
    gate = threading.Barrier(4)

    def deploy(_: int) -> str | None:
        client = sandbox.client(alice.client.key, alice.client.secret)
        gate.wait()
        try:
            vm = _deploy(client, place, place.small, networkids=network["id"])
        except CloudStackApiException as error:
            assert error.error["errorcode"] == 533, error.error
            return None
        return str(vm["nic"][0]["ipaddress"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        won = [a for a in pool.map(deploy, range(4)) if a is not None]
    assert sorted(won) == ["192.168.70.10", "192.168.70.40", "192.168.70.50"]
