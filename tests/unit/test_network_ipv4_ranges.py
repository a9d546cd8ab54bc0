"""A shared network's IPv4 ranges: the one it is made with and those added later, the subnets
they may be in, and how VMs' addresses are found among them."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, NotFound
from domain.network import Addressing, Ipv4Pool, Ipv4Range, Network, ZoneRange, initial_range_id


def _shared(addressing: Addressing) -> Network:
    return Network(
        "lan",
        "lan",
        uuid4(),
        uuid4(),
        uuid4(),
        "Shared",
        uuid4(),
        uuid4(),
        addressing.facts(),
        "vlan://300",
        "Setup",
        uuid4(),
    )


def test_a_pool_probes_every_range_once_and_never_a_gateway() -> None:
    pool = Ipv4Pool(
        (
            Ipv4Range("10.0.0.1", "10.0.0.3", "10.0.0.1", "255.255.255.0"),
            Ipv4Range("10.0.1.5", "10.0.1.5", "10.0.1.1", "255.255.255.0"),
        )
    )
    for start in range(-3, 9):
        seen = list(pool.probe(start))
        assert sorted(seen) == ["10.0.0.2", "10.0.0.3", "10.0.1.5"]
    assert pool.range_of("10.0.1.5") == pool.ranges[1]
    assert pool.range_of("10.0.0.1") is None and pool.range_of("10.0.0.4") is None
    assert list(Ipv4Pool(()).probe(7)) == []


def test_ranges_are_added_in_its_subnets_or_a_new_one_and_never_overlap() -> None:
    network = _shared(Addressing.shared("10.0.0.1", "255.255.255.0", "10.0.0.10", "10.0.0.20"))
    network.add_ipv4_range(uuid4(), "10.0.0.30", None, None, None, "300")
    network.add_ipv4_range(uuid4(), "10.9.0.5", "10.9.0.6", "10.9.0.1", "255.255.255.0", None)
    assert [r.start_ip for r in network.ipv4_pool.ranges] == ["10.0.0.10", "10.0.0.30", "10.9.0.5"]
    public = ZoneRange("172.16.0.10", "172.16.0.20", "172.16.0.1", "255.255.255.0", "50")
    for start, end, gateway, netmask, vlan in (
        ("10.0.0.15", "10.0.0.40", None, None, None),  # overlaps
        ("10.0.0.1", "10.0.0.2", None, None, None),  # the gateway
        ("10.0.0.50", None, "10.0.0.254", "255.255.255.0", None),  # a second gateway
        ("10.0.0.50", None, "10.0.0.1", "255.255.0.0", None),  # a superset
        ("10.0.0.200", None, "10.0.0.129", "255.255.255.128", None),  # a subset
        ("10.7.0.5", None, None, None, None),  # no subnet known, none given
        ("10.0.0.50", None, "10.0.0.1", None, None),  # half a subnet
        ("10.0.0.50", None, None, None, "301"),  # another VLAN
        ("172.16.0.12", None, "172.16.0.1", "255.255.255.0", None),  # the zone's range
        ("172.16.0.30", None, "172.16.0.1", "255.255.255.0", None),  # its subnet, other VLAN
        ("10.8.0.5", None, "10.7.0.1", "255.255.255.0", None),  # not in the subnet given
    ):
        with pytest.raises(InvalidParameter):
            network.add_ipv4_range(uuid4(), start, end, gateway, netmask, vlan, (public,))
    assert len(network.ipv4_pool.ranges) == 3


def test_the_first_range_can_go_and_a_bare_network_takes_its_first_subnet() -> None:
    network = _shared(Addressing.shared("10.0.0.1", "255.255.255.0", "10.0.0.10", "10.0.0.20"))
    gone = network.remove_ipv4_range(initial_range_id(network.id))
    assert gone.start_ip == "10.0.0.10" and network.ipv4_pool.ranges == ()
    assert network.addressing.cidr == "10.0.0.0/24"
    with pytest.raises(NotFound):
        network.remove_ipv4_range(initial_range_id(network.id))

    bare = _shared(Addressing("", "", "", "", ""))
    assert not bare.addressing.has_ipv4
    bare.add_ipv4_range(uuid4(), "192.168.5.5", None, "192.168.5.1", "255.255.255.0", None)
    assert (bare.addressing.cidr, bare.addressing.gateway) == ("192.168.5.0/24", "192.168.5.1")
    assert list(bare.ipv4_pool.probe(0)) == ["192.168.5.5"]


def test_only_shared_networks_take_ranges() -> None:
    isolated = Network(
        "iso",
        "iso",
        uuid4(),
        uuid4(),
        uuid4(),
        "Isolated",
        uuid4(),
        uuid4(),
        Addressing.isolated(None, None).facts(),
        "vlan://301",
        "Allocated",
        uuid4(),
    )
    with pytest.raises(InvalidParameter):
        isolated.add_ipv4_range(uuid4(), "10.1.1.50", None, None, None, None)


def test_a_new_subnet_needs_a_dhcp_provider_that_serves_several() -> None:
    network = _shared(Addressing.shared("10.0.0.1", "255.255.255.0", "10.0.0.10", "10.0.0.20"))
    with pytest.raises(InvalidParameter, match="multiple subnets"):
        network.add_ipv4_range(
            uuid4(), "10.9.0.5", None, "10.9.0.1", "255.255.255.0", None, (), False
        )
    network.add_ipv4_range(uuid4(), "10.0.0.30", None, None, None, None, (), False)
    assert len(network.ipv4_pool.ranges) == 2
