"""Portable public addresses: a region's ranges, from which `associateIpAddress` with
`isportable` hands out addresses that can move between the networks of the region's zones.

One `PortableIpRanges` aggregate per region holds its ranges, so two overlapping ranges cannot
both be saved. An address handed out is a `PublicIp` (domain/network_public_ip.py) whose id
derives from the region and the address (`portable_ip_id`), not from a zone: it keeps its id
when it moves.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, NotFound, ResourceInUse
from domain.network_public_ip import public_ip_id, public_range, vlan_tag

_NAMESPACE = UUID("5b1e7c4d-83a2-4f69-9d0e-2c7a6b8f1e43")


def portable_ranges_id(region_id: int) -> UUID:
    return uuid5(_NAMESPACE, f"portable-ranges:{region_id}")


def portable_scope(region_id: int) -> UUID:
    """What a portable address's id derives from in place of a zone."""
    return uuid5(_NAMESPACE, f"portable-region:{region_id}")


def portable_ip_id(region_id: int, ip: str) -> UUID:
    return public_ip_id(portable_scope(region_id), ip)


def checked_range(
    gateway: str, netmask: str, start_ip: str, end_ip: str, vlan: str | None
) -> dict[str, Any]:
    """A valid range's terms: inside the gateway's subnet, gateway excluded, at most a /16."""
    span = public_range(gateway, netmask, start_ip, end_ip)
    return {
        "gateway": gateway,
        "netmask": netmask,
        "start_ip": str(span.first),
        "end_ip": str(span.last),
        "vlan": vlan_tag(vlan),
    }


def _overlaps(one: dict[str, Any], other: dict[str, Any]) -> bool:
    low, high = IPv4Address(one["start_ip"]), IPv4Address(one["end_ip"])
    return IPv4Address(other["start_ip"]) <= high and low <= IPv4Address(other["end_ip"])


class PortableIpRanges(Aggregate):
    """A region's portable ranges."""

    @event("Opened")
    def __init__(self, region_id: int, id: UUID) -> None:
        self.region_id = region_id
        self.ranges: dict[str, dict[str, Any]] = {}

    @classmethod
    def for_region(cls, region_id: int) -> PortableIpRanges:
        return cls(region_id, id=portable_ranges_id(region_id))

    def add(self, range_id: UUID, terms: dict[str, Any]) -> None:
        for other in self.ranges.values():
            if _overlaps(terms, other):
                raise InvalidParameter(
                    f"Ip range: {terms['start_ip']}-{terms['end_ip']} overlaps with a portable "
                    f"ip range already configured in the region {self.region_id}"
                )
        self._added(range_id=str(range_id), region_id=self.region_id, terms=dict(terms))

    @event("RangeAdded")
    def _added(self, range_id: str, region_id: int, terms: dict[str, Any]) -> None:
        self.ranges[range_id] = terms

    def range_of(self, ip: str) -> UUID | None:
        """The range holding the address, if any."""
        for range_id, terms in self.ranges.items():
            if _overlaps(terms, {"start_ip": ip, "end_ip": ip}):
                return UUID(range_id)
        return None

    def remove(self, range_id: UUID, allocated: int) -> None:
        if str(range_id) not in self.ranges:
            raise NotFound(f"Unable to find portable ip range with id {range_id}")
        if allocated:
            raise ResourceInUse(
                f"Portable ip range {range_id} can not be deleted: {allocated} of its ip "
                "addresses are in use"
            )
        self._removed(
            range_id=str(range_id), region_id=self.region_id, remaining=len(self.ranges) - 1
        )

    @event("RangeRemoved")
    def _removed(self, range_id: str, region_id: int, remaining: int) -> None:
        del self.ranges[range_id]
