"""Pure values of network addressing: guest VLAN/VNI pools and IPv4 ranges, and how to walk them.

Pools are walked by *probing*: from a start position, every member once, wrapping around. A
caller that starts each allocation at a different position (derived from what it allocates for)
finds a free member in one or two looks even when thousands are taken, without reading them all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from domain.errors import InvalidParameter


class Isolation:
    VLAN = "VLAN"
    VXLAN = "VXLAN"


# The largest guest id each isolation method can carry (VLAN 4095 is reserved; VNI 2^24 - 1 too).
ISOLATION_LIMITS = {Isolation.VLAN: 4094, Isolation.VXLAN: 16_777_214}
BROADCAST_SCHEMES = {Isolation.VLAN: "vlan", Isolation.VXLAN: "vxlan"}
MAX_RANGE_ADDRESSES = 65_536  # one public range at most a /16: every address becomes a row


def check_isolation(method: str) -> str:
    for known in ISOLATION_LIMITS:
        if known.lower() == method.strip().lower():
            return known
    raise InvalidParameter(f"Invalid isolation method {method}: use VLAN or VXLAN")


@dataclass(frozen=True)
class VnetRanges:
    """The guest VLAN ids or VXLAN VNIs of a physical network: sorted, merged, inclusive ranges."""

    ranges: tuple[tuple[int, int], ...] = ()

    @classmethod
    def parse(cls, text: str, isolation: str) -> VnetRanges:
        """`500-1000` or `500-1000,2000-2100` (or single ids), as CloudStack writes them."""
        limit = ISOLATION_LIMITS[isolation]
        pairs = [_vnet_pair(part.strip(), limit) for part in text.split(",") if part.strip()]
        if not pairs:
            raise InvalidParameter("Please specify a vlan range, e.g. 500-1000")
        return cls(_merged(sorted(pairs)))

    @property
    def size(self) -> int:
        return sum(last - first + 1 for first, last in self.ranges)

    def __contains__(self, vnet: object) -> bool:
        return isinstance(vnet, int) and any(a <= vnet <= b for a, b in self.ranges)

    def at(self, index: int) -> int:
        """The `index`-th id of the pool, counting across its ranges."""
        for first, last in self.ranges:
            span = last - first + 1
            if index < span:
                return first + index
            index -= span
        raise IndexError(index)

    def probe(self, start: int) -> Iterator[int]:
        """Every id once, from position `start` (any integer), wrapping around."""
        size = self.size
        for step in range(size):
            yield self.at((start + step) % size)

    @property
    def text(self) -> str:
        return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in self.ranges)


def _vnet_pair(part: str, limit: int) -> tuple[int, int]:
    bounds = part.split("-")
    if len(bounds) > 2 or not all(b.strip().isdigit() for b in bounds):
        raise InvalidParameter(f"Invalid vlan range {part}: use <start>-<end>, e.g. 500-1000")
    first, last = int(bounds[0]), int(bounds[-1])
    if not 1 <= first <= last <= limit:
        raise InvalidParameter(
            f"Invalid vlan range {part}: ids run from 1 to {limit} and the start comes first"
        )
    return first, last


def _merged(pairs: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for first, last in pairs:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return tuple(merged)


# IPv4 ------------------------------------------------------------------------------------------


def address(text: str, what: str = "ip address") -> IPv4Address:
    try:
        return IPv4Address(text.strip())
    except ValueError:
        raise InvalidParameter(f"Please specify a valid {what}: {text} is not one") from None


def subnet(gateway: str, netmask: str) -> IPv4Network:
    """The network a gateway and netmask describe."""
    gate = address(gateway, "gateway")
    try:
        return IPv4Network(f"{gate}/{netmask.strip()}", strict=False)
    except ValueError:
        raise InvalidParameter(f"Please specify a valid netmask: {netmask} is not one") from None


def cidr(text: str) -> IPv4Network:
    try:
        network = IPv4Network(text.strip())
    except ValueError:
        raise InvalidParameter(f"Please specify a valid CIDR: {text} is not one") from None
    if network.prefixlen > 30:
        raise InvalidParameter(f"CIDR {text} is too small for a guest network (at most /30)")
    return network


@dataclass(frozen=True)
class AddressRange:
    """Inclusive IPv4 range `first`..`last`, with addresses it must never hand out."""

    first: IPv4Address
    last: IPv4Address
    excluded: frozenset[IPv4Address] = frozenset()

    @classmethod
    def within(
        cls, network: IPv4Network, start: str, end: str, excluded: frozenset[IPv4Address]
    ) -> AddressRange:
        """A range inside `network` that avoids its network and broadcast addresses."""
        first, last = address(start, "start ip"), address(end, "end ip")
        if first > last:
            raise InvalidParameter(f"The start ip {first} must not come after the end ip {last}")
        for point in (first, last):
            if point not in network or point in (
                network.network_address,
                network.broadcast_address,
            ):
                raise InvalidParameter(f"Ip address {point} is not a host of {network}")
        return cls(first, last, excluded)

    @classmethod
    def hosts_of(cls, network: IPv4Network, excluded: frozenset[IPv4Address]) -> AddressRange:
        return cls(network.network_address + 1, network.broadcast_address - 1, excluded)

    @property
    def size(self) -> int:
        return int(self.last) - int(self.first) + 1

    def __contains__(self, point: object) -> bool:
        return isinstance(point, IPv4Address) and self.first <= point <= self.last

    def overlaps(self, other: AddressRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def probe(self, start: int) -> Iterator[IPv4Address]:
        """Every address that may be handed out, once, from position `start`, wrapping."""
        size = self.size
        for step in range(size):
            point = self.first + (start + step) % size
            if point not in self.excluded:
                yield point


def check_not_broadcast(network: IPv4Network, point: IPv4Address, what: str) -> None:
    if point not in network or point in (network.network_address, network.broadcast_address):
        raise InvalidParameter(f"The {what} {point} is not a host address of {network}")


def is_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True
