"""A network's DNS domain, IP reservation and forced delete, and a physical network's speed,
tag, dedication and broadcast domain range: given-when-then on the aggregates, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter
from domain.network import Addressing, Network, NetworkState
from domain.network_physical import (
    PhysicalNetwork,
    PhysicalOptions,
    broadcast_domain_range,
    physical_tags,
)


def _isolated(state: str = NetworkState.IMPLEMENTED) -> Network:
    plan = Addressing.isolated("10.1.1.0/24", None).facts()
    return Network(
        "n", "n", uuid4(), uuid4(), uuid4(), "Isolated", uuid4(), uuid4(), plan,
        "vlan://500", state, id=uuid4(), network_domain="cs1.cloud.internal",
    )  # fmt: skip


def test_vms_take_addresses_only_from_the_guest_vm_cidr_once_reserved() -> None:
    network = _isolated()
    network.reserve_ips("10.1.1.0/25", held={"10.1.1.2", "10.1.1.100"})
    assert (network.addressing.cidr, network.network_cidr) == ("10.1.1.0/25", "10.1.1.0/24")
    pool = network.ipv4_pool
    assert pool.range_of("10.1.1.126") is not None
    assert pool.range_of("10.1.1.130") is None  # the reserved part is left to other hosts
    assert pool.range_of("10.1.1.1") is None  # the gateway, never given
    assert network.addressing.netmask == "255.255.255.0"  # the NICs keep the whole subnet


def test_a_reservation_is_refused_while_an_address_in_use_falls_outside_it() -> None:
    network = _isolated()
    with pytest.raises(InvalidParameter, match=r"Active IPs like 10\.1\.1\.200 exist outside"):
        network.reserve_ips("10.1.1.0/25", held={"10.1.1.2", "10.1.1.200"})
    assert not network.network_cidr and network.addressing.cidr == "10.1.1.0/24"


@pytest.mark.parametrize(
    ("cidr", "why"),
    [
        ("10.1.2.0/25", r"should be a subset of network CIDR : 10\.1\.1\.0/24"),
        ("8.8.8.0/25", "RFC1918"),
        ("not-a-cidr", "Invalid format of Guest VM CIDR"),
    ],
)
def test_a_guest_vm_cidr_must_be_private_and_inside_the_network(cidr: str, why: str) -> None:
    with pytest.raises(InvalidParameter, match=why):
        _isolated().reserve_ips(cidr, held=())


def test_a_reservation_needs_an_implemented_isolated_network() -> None:
    with pytest.raises(InvalidParameter, match="must be in Implemented state"):
        _isolated(NetworkState.ALLOCATED).reserve_ips("10.1.1.0/25", held=())


def test_giving_the_whole_cidr_again_ends_the_reservation() -> None:
    network = _isolated()
    network.reserve_ips("10.1.1.0/26", held=())
    network.reserve_ips("10.1.1.0/25", held=())  # within the whole CIDR, not the reserved part
    assert network.network_cidr == "10.1.1.0/24"
    network.reserve_ips("10.1.1.0/24", held=())
    assert (network.addressing.cidr, network.network_cidr) == ("10.1.1.0/24", "")
    assert network.ipv4_pool.range_of("10.1.1.200") is not None


def test_a_network_domain_change_is_recorded_once() -> None:
    network = _isolated()
    network.change_network_domain("cs1.cloud.internal")  # the same: nothing to record
    network.change_network_domain("guests.example.org")
    names = [type(e).__name__ for e in network.collect_events()]
    assert names.count("NetworkDomainChanged") == 1
    assert network.network_domain == "guests.example.org"


def test_a_forced_delete_is_recorded_as_forced() -> None:
    network = _isolated()
    network.delete(vms_using=0, forced=True)
    deleted = [e for e in network.collect_events() if type(e).__name__ == "Deleted"]
    assert deleted[0].forced is True and network.removed


def test_broadcast_domain_range_is_the_one_the_zone_type_allows() -> None:
    assert broadcast_domain_range(None, "Advanced") == "ZONE"
    assert broadcast_domain_range(None, "Basic") == "POD"
    assert broadcast_domain_range("pod", "Basic") == "POD"
    with pytest.raises(InvalidParameter, match="ZONE only in Advanced zone"):
        broadcast_domain_range("POD", "Advanced")
    with pytest.raises(InvalidParameter, match="Pod only in Basic zone"):
        broadcast_domain_range("ZONE", "Basic")
    with pytest.raises(InvalidParameter, match="supported value"):
        broadcast_domain_range("REGION", "Advanced")


def test_a_physical_network_takes_one_tag_and_a_speed_and_changes_them() -> None:
    domain_id = uuid4()
    options = PhysicalOptions(speed="10G", tags=["gold"], domain_id=domain_id)
    physical = PhysicalNetwork.create(uuid4(), uuid4(), "p", "VLAN", "100-199", options)
    assert (physical.speed, physical.tags, physical.domain_id) == ("10G", "gold", domain_id)
    physical.update(None, None, (), speed="40G", tags=["silver"])
    assert (physical.speed, physical.tags) == ("40G", "silver")
    with pytest.raises(InvalidParameter, match="Only one tag"):
        physical_tags(["gold", "silver"])
    assert PhysicalNetwork.create(uuid4(), uuid4(), "q", "VLAN", None).speed == "1G"
