"""Portable public addresses, given-when-then on events: a region's ranges never overlap and go
only when no address of them is in use; a portable address moves between networks, a zone's
address does not."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, NotFound, ResourceInUse
from domain.network_public_ip import PublicIp
from domain.portable_ips import PortableIpRanges, checked_range, portable_scope


def terms(start: str, end: str) -> dict[str, object]:
    return checked_range("198.18.0.1", "255.255.255.0", start, end, None)


def test_a_regions_ranges_never_overlap() -> None:
    ranges = PortableIpRanges.for_region(1)
    ranges.add(uuid4(), terms("198.18.0.10", "198.18.0.20"))
    with pytest.raises(InvalidParameter):
        ranges.add(uuid4(), terms("198.18.0.20", "198.18.0.30"))
    ranges.add(uuid4(), terms("198.18.0.21", "198.18.0.30"))
    assert len(ranges.ranges) == 2


def test_a_range_is_checked_as_a_zones_range_is() -> None:
    with pytest.raises(InvalidParameter):
        checked_range("198.18.0.1", "255.255.255.0", "198.18.0.1", "198.18.0.5", None)
    with pytest.raises(InvalidParameter):
        checked_range("198.18.0.1", "255.255.255.0", "198.19.0.1", "198.19.0.5", None)
    assert (
        checked_range("198.18.0.1", "255.255.255.0", "198.18.0.5", "198.18.0.6", "42")["vlan"]
        == "42"
    )


def test_a_range_with_addresses_in_use_stays() -> None:
    ranges = PortableIpRanges.for_region(1)
    range_id = uuid4()
    ranges.add(range_id, terms("198.18.0.10", "198.18.0.20"))
    with pytest.raises(ResourceInUse):
        ranges.remove(range_id, allocated=1)
    ranges.remove(range_id, allocated=0)
    with pytest.raises(NotFound):
        ranges.remove(range_id, allocated=0)


def test_a_portable_address_moves_and_a_zones_address_does_not() -> None:
    account, zone, other_zone, network, other = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
    portable = PublicIp(portable_scope(1), "198.18.0.10", uuid4())
    portable.place_portable(1, zone)
    portable.associate(account, uuid4(), network)
    portable.transfer(other_zone, other)
    assert (portable.zone_id, portable.network_id, portable.portable_region) == (
        other_zone,
        other,
        1,
    )
    portable.rules_changed(1)
    with pytest.raises(ResourceInUse):
        portable.transfer(zone, network)
    local = PublicIp(zone, "203.0.113.10", uuid4())
    local.associate(account, uuid4(), network)
    with pytest.raises(InvalidParameter):
        local.transfer(other_zone, other)


def test_a_portable_address_of_a_vpc_leaves_it_for_a_network_outside() -> None:
    account, zone, vpc, tier, network = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
    portable = PublicIp(portable_scope(1), "198.18.0.11", uuid4())
    portable.place_portable(1, zone)
    portable.associate(account, uuid4(), None)
    portable.join_vpc(vpc)
    portable.serve_tier(tier)
    assert (portable.in_vpc, portable.network_id) == (vpc, tier)
    portable.serve_tier(None)
    portable.transfer(zone, network)
    portable.leave_vpc()
    assert (portable.in_vpc, portable.network_id) == (None, network)
    events = [type(e).__name__ for e in portable.collect_events()]
    assert events[-2:] == ["Transferred", "VpcLeft"]
    portable.leave_vpc()  # outside any VPC: nothing more is recorded
    assert portable.collect_events() == []
