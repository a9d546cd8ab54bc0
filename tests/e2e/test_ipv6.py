"""IPv6 on shared networks through the `cs` client, as 4.3 has it: a shared network of an
advanced zone takes a /64 beside its IPv4 plan, its VMs' NICs an address of its range (the one
asked for, or a free one), and the address is given back when the VM goes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv6Address

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import _deploy, _host, _place

PLAN = {
    "gateway": "192.168.60.1",
    "netmask": "255.255.255.0",
    "startip": "192.168.60.100",
    "endip": "192.168.60.120",
    "ip6cidr": "2001:db8:60::/64",
    "ip6gateway": "2001:db8:60::1",
    "startipv6": "2001:db8:60::100",
    "endipv6": "2001:db8:60::1ff",
}


def _refused(call, code: int, **params) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _v6_ranges(admin: CloudStack, network_id: str) -> list[dict]:
    """A network's IPv6 ranges (its IPv4 ones are listed beside them)."""
    listed = admin.listVlanIpRanges(networkid=network_id).get("vlaniprange", [])
    return [r for r in listed if "startipv6" in r]


def _shared(admin: CloudStack, zone: str, vlan: str, **plan: str) -> dict:
    offering = admin.listNetworkOfferings(name="DefaultSharedNetworkOffering")["networkoffering"]
    return admin.createNetwork(
        name=f"v6-{vlan}",
        displaytext="dual stack",
        networkofferingid=offering[0]["id"],
        zoneid=zone,
        vlan=vlan,
        **plan,
    )["network"]


def test_a_shared_network_gives_its_vms_ipv6_addresses_of_its_range(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", isolationmethods="VLAN", fetch_result=True
    )
    alice = make_tenant(sandbox, admin)
    network = _shared(admin, place.zone, "300", **PLAN)
    assert (network["ip6cidr"], network["ip6gateway"]) == ("2001:db8:60::/64", "2001:db8:60::1")
    listed = alice.client.listNetworks(id=network["id"])["network"][0]
    assert listed["ip6cidr"] == "2001:db8:60::/64"

    asked = _deploy(
        alice.client,
        place,
        place.small,
        networkids=network["id"],
        ip6address="2001:DB8:60:0::150",  # any spelling; kept in the canonical one
    )
    (nic,) = asked["nic"]
    assert (nic["ip6address"], nic["ip6gateway"], nic["ip6cidr"]) == (
        "2001:db8:60::150",
        "2001:db8:60::1",
        "2001:db8:60::/64",
    )
    chosen = _deploy(
        alice.client,
        place,
        place.small,
        iptonetworklist=[{"networkid": network["id"], "ip": "192.168.60.110"}],
    )
    (other,) = chosen["nic"]
    assert other["ipaddress"] == "192.168.60.110"
    address = IPv6Address(other["ip6address"])
    assert IPv6Address("2001:db8:60::100") <= address <= IPv6Address("2001:db8:60::1ff")
    assert address != IPv6Address("2001:db8:60::150")
    nics = alice.client.listNics(virtualmachineid=chosen["id"])["nic"]
    assert nics[0]["ip6address"] == other["ip6address"]

    # An address another VM holds, or outside the range, is refused and nothing is made.
    before = alice.client.listVirtualMachines()["count"]
    taken = _refused(
        alice.client.deployVirtualMachine,
        533,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        networkids=network["id"],
        ip6address="2001:db8:60::150",
        fetch_result=True,
    )
    assert "already in use" in taken
    _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        networkids=network["id"],
        ip6address="2001:db8:61::5",
        fetch_result=True,
    )
    _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        networkids=network["id"],
        iptonetworklist=[{"networkid": network["id"]}],
    )
    assert alice.client.listVirtualMachines()["count"] == before

    # Once the VM is expunged its address is free for the next.
    alice.client.destroyVirtualMachine(id=asked["id"], fetch_result=True)
    admin.expungeVirtualMachine(id=asked["id"], fetch_result=True)
    again = _deploy(
        alice.client, place, place.small, networkids=network["id"], ip6address="2001:db8:60::150"
    )
    assert again["nic"][0]["ip6address"] == "2001:db8:60::150"


def test_ipv6_is_refused_where_4_3_refuses_it(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", isolationmethods="VLAN", fetch_result=True
    )
    wider = {**PLAN, "ip6cidr": "2001:db8:60::/48"}
    assert "64 bits" in _refused(
        admin.createNetwork,
        431,
        name="wide",
        displaytext="wide",
        networkofferingid=admin.listNetworkOfferings(name="DefaultSharedNetworkOffering")[
            "networkoffering"
        ][0]["id"],
        zoneid=place.zone,
        vlan="301",
        **wider,
    )
    outside = {**PLAN, "ip6gateway": "2001:db8:99::1"}
    with pytest.raises(CloudStackApiException) as refused:
        _shared(admin, place.zone, "302", **outside)
    assert "ip6Gateway is not in ip6cidr" in refused.value.error["errortext"]
    no_gateway = {k: v for k, v in PLAN.items() if k != "ip6gateway"}
    with pytest.raises(CloudStackApiException):
        _shared(admin, place.zone, "303", **no_gateway)
    isolated = admin.listNetworkOfferings(
        name="DefaultIsolatedNetworkOfferingWithSourceNatService"
    )["networkoffering"][0]
    assert "advance shared network" in _refused(
        admin.createNetwork,
        431,
        name="iso",
        displaytext="iso",
        networkofferingid=isolated["id"],
        zoneid=place.zone,
        ip6cidr=PLAN["ip6cidr"],
        ip6gateway=PLAN["ip6gateway"],
        startipv6=PLAN["startipv6"],
    )
    made = {n["name"] for n in admin.listNetworks(listall=True).get("network", [])}
    assert made.isdisjoint({"wide", "v6-302", "v6-303", "iso"})


V6_ONLY = {
    "ip6cidr": "2001:db8:70::/64",
    "ip6gateway": "2001:db8:70::1",
    "startipv6": "2001:db8:70::10",
    "endipv6": "2001:db8:70::ff",
}


def _in(text: str, first: str, last: str) -> bool:
    return IPv6Address(first) <= IPv6Address(text) <= IPv6Address(last)


def test_an_ipv6_network_and_ipv6_secondary_addresses(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", isolationmethods="VLAN", fetch_result=True
    )
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)

    # A shared network with IPv6 alone: no IPv4 plan, its VMs get an IPv6 address only
    only = _shared(admin, place.zone, "310", **V6_ONLY)
    assert only["ip6cidr"] == "2001:db8:70::/64"
    assert "cidr" not in only and "gateway" not in only
    assert "IPv6" in _refused(  # half an IPv4 plan is still refused
        admin.createNetwork,
        431,
        name="half",
        displaytext="half",
        networkofferingid=only["networkofferingid"],
        zoneid=place.zone,
        vlan="311",
        gateway="192.168.71.1",
        **V6_ONLY,
    )
    vm = _deploy(alice.client, place, place.small, networkids=only["id"])
    (nic,) = vm["nic"]
    assert "ipaddress" not in nic and _in(nic["ip6address"], "2001:db8:70::10", "2001:db8:70::ff")
    _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        networkids=only["id"],
        ipaddress="192.168.71.5",
    )

    # Secondary addresses: on an IPv6 network from its range, or the IPv6 address asked for
    (listed,) = alice.client.listNics(virtualmachineid=vm["id"])["nic"]
    taken = alice.client.addIpToNic(nicid=listed["id"], fetch_result=True)["nicsecondaryip"]
    assert _in(taken["ipaddress"], "2001:db8:70::10", "2001:db8:70::ff")
    assert taken["ipaddress"] != nic["ip6address"]
    asked = alice.client.addIpToNic(
        nicid=listed["id"], ipaddress="2001:DB8:70::80", fetch_result=True
    )["nicsecondaryip"]
    assert asked["ipaddress"] == "2001:db8:70::80"
    _refused(alice.client.addIpToNic, 533, nicid=listed["id"], ipaddress=nic["ip6address"])
    _refused(alice.client.addIpToNic, 533, nicid=listed["id"], ipaddress="2001:db8:70::80")
    _refused(alice.client.addIpToNic, 431, nicid=listed["id"], ipaddress="2001:db8:71::5")
    _refused(alice.client.addIpToNic, 431, nicid=listed["id"], ipaddress="2001:db8:70::1")
    _refused(bob.client.addIpToNic, 531, nicid=listed["id"], ipaddress="2001:db8:70::81")
    (shown,) = alice.client.listNics(virtualmachineid=vm["id"])["nic"]
    assert sorted(ip["ipaddress"] for ip in shown["secondaryip"]) == sorted(
        [taken["ipaddress"], "2001:db8:70::80"]
    )

    # A dual-stack network: IPv4 by default, IPv6 when one is asked for
    dual = _shared(admin, place.zone, "312", **PLAN)
    both = _deploy(alice.client, place, place.small, networkids=dual["id"])
    (dual_nic,) = alice.client.listNics(virtualmachineid=both["id"])["nic"]
    four = alice.client.addIpToNic(nicid=dual_nic["id"], fetch_result=True)["nicsecondaryip"]
    assert "." in four["ipaddress"]
    six = alice.client.addIpToNic(
        nicid=dual_nic["id"], ipaddress="2001:db8:60::1a0", fetch_result=True
    )["nicsecondaryip"]
    assert six["ipaddress"] == "2001:db8:60::1a0"

    # Given back, the address is free again; another NIC may take it
    alice.client.removeIpFromNic(id=asked["id"], fetch_result=True)
    (shown,) = alice.client.listNics(virtualmachineid=vm["id"])["nic"]
    assert [ip["ipaddress"] for ip in shown["secondaryip"]] == [taken["ipaddress"]]
    other = _deploy(alice.client, place, place.small, networkids=only["id"])
    (other_nic,) = alice.client.listNics(virtualmachineid=other["id"])["nic"]
    again = alice.client.addIpToNic(
        nicid=other_nic["id"], ipaddress="2001:db8:70::80", fetch_result=True
    )["nicsecondaryip"]
    assert again["ipaddress"] == "2001:db8:70::80"


def test_ipv6_ranges_are_added_to_a_shared_network_listed_and_deleted(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", isolationmethods="VLAN", fetch_result=True
    )
    alice = make_tenant(sandbox, admin)
    network = _shared(admin, place.zone, "320", **PLAN)
    four_only = _shared(
        admin,
        place.zone,
        "321",
        **{k: v for k, v in PLAN.items() if "ip6" not in k and "v6" not in k},
    )

    added = admin.createVlanIpRange(
        networkid=network["id"], startipv6="2001:db8:60::1000", endipv6="2001:db8:60::1000"
    )["vlan"]
    assert (added["networkid"], added["startipv6"], added["endipv6"]) == (
        network["id"],
        "2001:db8:60::1000",
        "2001:db8:60::1000",
    )
    assert (added["ip6cidr"], added["ip6gateway"]) == ("2001:db8:60::/64", "2001:db8:60::1")
    (listed,) = _v6_ranges(admin, network["id"])
    assert listed["id"] == added["id"] and listed["vlan"] == "vlan://320"

    # Refused as 4.3 refuses them: another /64 or gateway, an overlap, no network
    for bad in (
        {"startipv6": "2001:db8:60::150", "endipv6": "2001:db8:60::2000"},  # overlaps
        {"startipv6": "2001:db8:61::10", "ip6cidr": "2001:db8:61::/64"},
        {"startipv6": "2001:db8:60::3000", "ip6gateway": "2001:db8:60::2"},
        {"startipv6": "2001:db8:60::3000", "vlan": "399"},
        {"startipv6": "2001:db8:60::3000", "startip": "192.168.60.200"},
    ):
        _refused(admin.createVlanIpRange, 431, networkid=network["id"], **bad)
    _refused(admin.createVlanIpRange, 431, zoneid=place.zone, startipv6="2001:db8:60::3000")
    assert len(_v6_ranges(admin, network["id"])) == 1

    # The new range serves VMs once the first is taken: an address asked for in it, or free
    vm = _deploy(
        alice.client, place, place.small, networkids=network["id"], ip6address="2001:db8:60::1000"
    )
    assert vm["nic"][0]["ip6address"] == "2001:db8:60::1000"
    _refused(admin.deleteVlanIpRange, 536, id=added["id"])  # an address of it is in use

    # A network with IPv4 alone takes its first IPv6 range (and /64) this way
    six = admin.createVlanIpRange(
        networkid=four_only["id"],
        startipv6="2001:db8:62::10",
        endipv6="2001:db8:62::20",
        ip6cidr="2001:db8:62::/64",
        ip6gateway="2001:db8:62::1",
    )["vlan"]
    shown = admin.listNetworks(id=four_only["id"])["network"][0]
    assert (shown["ip6cidr"], shown["ip6gateway"]) == ("2001:db8:62::/64", "2001:db8:62::1")
    dual = _deploy(alice.client, place, place.small, networkids=four_only["id"])
    assert _in(dual["nic"][0]["ip6address"], "2001:db8:62::10", "2001:db8:62::20")
    assert "." in dual["nic"][0]["ipaddress"]

    # Once its address is given back, the range can go; it is no longer listed nor used
    alice.client.destroyVirtualMachine(id=vm["id"], fetch_result=True)
    admin.expungeVirtualMachine(id=vm["id"], fetch_result=True)
    admin.deleteVlanIpRange(id=added["id"])
    assert _v6_ranges(admin, network["id"]) == []
    _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        networkids=network["id"],
        ip6address="2001:db8:60::1000",
        fetch_result=True,
    )
    assert six["id"] in {r["id"] for r in admin.listVlanIpRanges(zoneid=place.zone)["vlaniprange"]}


def test_racing_requests_never_get_one_ipv6_address_twice(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    admin.createPhysicalNetwork(
        zoneid=place.zone, name="lan", isolationmethods="VLAN", fetch_result=True
    )
    alice = make_tenant(sandbox, admin)
    only = _shared(admin, place.zone, "330", **V6_ONLY)
    vms = [_deploy(alice.client, place, place.small, networkids=only["id"]) for _ in range(2)]
    nics = [alice.client.listNics(virtualmachineid=vm["id"])["nic"][0]["id"] for vm in vms]
    gate = threading.Barrier(4)

    def ask(index: int) -> str | None:
        client = sandbox.client(alice.client.key, alice.client.secret)
        gate.wait()
        try:
            answer = client.addIpToNic(nicid=nics[index % 2], ipaddress="2001:db8:70::90")
        except CloudStackApiException as error:
            assert error.error["errorcode"] == 533, error.error
            return None
        return str(answer["id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        won = [a for a in pool.map(ask, range(4)) if a is not None]
    assert len(won) == 1
    held = [
        ip["ipaddress"]
        for vm in vms
        for ip in alice.client.listNics(virtualmachineid=vm["id"])["nic"][0]["secondaryip"]
    ]
    assert held == ["2001:db8:70::90"]
