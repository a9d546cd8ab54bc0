"""A shared network's IPv6 plan, as 4.3 takes it: a /64 (the only size 4.3 supports), its
gateway, and the range VMs are given addresses from.

4.3 gives IPv6 to shared networks of advanced zones only, beside their IPv4 plan. A VM's address
is the one asked for, checked to be in the range, or a free one found by probing the range from
a position the VM's id gives, so VMs deployed at once look in different places; 4.3 picks at
random, and a /64 range is too large to walk from its start.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from ipaddress import IPv6Address, IPv6Network

from domain.errors import InvalidParameter

PREFIX = 64  # 4.3: "The cidr size of IPv6 network must be 64 bits"


def ipv6_address(text: str, what: str) -> IPv6Address:
    try:
        return IPv6Address(text.strip())
    except ValueError:
        raise InvalidParameter(f"Invalid format for the {what} parameter") from None


@dataclass(frozen=True)
class Ipv6Plan:
    """Canonical (compressed) texts of a network's IPv6 CIDR, gateway and address range."""

    ip6_cidr: str
    ip6_gateway: str
    start_ipv6: str
    end_ipv6: str

    @classmethod
    def checked(
        cls, ip6_cidr: str | None, ip6_gateway: str | None, start: str | None, end: str | None
    ) -> Ipv6Plan:
        """The plan 4.3 would accept, or its refusal: start (end defaults to it), gateway and
        CIDR all given, all in the CIDR, and the CIDR a /64."""
        if not start:
            raise InvalidParameter("startIPv6 is required when IPv6 is given for a network")
        first = ipv6_address(start, "startIPv6")
        last = ipv6_address(end, "endIPv6") if end else first
        if not (ip6_gateway and ip6_cidr):
            raise InvalidParameter(
                "ip6Gateway and ip6Cidr should be defined when startIPv6/endIPv6 are passed in"
            )
        gateway = ipv6_address(ip6_gateway, "ip6Gateway")
        try:
            network = IPv6Network(ip6_cidr.strip(), strict=False)
        except ValueError:
            raise InvalidParameter("Invalid ip6cidr") from None
        for value, name in ((gateway, "ip6Gateway"), (first, "startIPv6"), (last, "endIPv6")):
            if value not in network:
                raise InvalidParameter(f"{name} is not in ip6cidr indicated network!")
        if network.prefixlen != PREFIX:
            raise InvalidParameter("The cidr size of IPv6 network must be 64 bits!")
        if last < first:
            raise InvalidParameter("The endIPv6 must be greater than or equal to the startIPv6")
        if first == last == gateway:
            raise InvalidParameter("The IPv6 range holds only the gateway")
        return cls(str(network), str(gateway), str(first), str(last))

    def facts(self) -> dict[str, str]:
        return asdict(self)

    @property
    def span(self) -> tuple[str, str]:
        return self.start_ipv6, self.end_ipv6

    def holds(self, text: str) -> bool:
        """Whether `text` is an address VMs may be given: in the range, not the gateway."""
        value = ipv6_address(text, "ip6address")
        first, last = IPv6Address(self.start_ipv6), IPv6Address(self.end_ipv6)
        return first <= value <= last and value != IPv6Address(self.ip6_gateway)

    def probe(self, start: int) -> Iterator[str]:
        """The addresses of the range from position `start` (any integer) on, wrapping around,
        never the gateway; lazily, as a range may hold 2^64 of them."""
        first, last = int(IPv6Address(self.start_ipv6)), int(IPv6Address(self.end_ipv6))
        size, gateway = last - first + 1, IPv6Address(self.ip6_gateway)
        for step in range(size):
            candidate = IPv6Address(first + (start + step) % size)
            if candidate != gateway:
                yield str(candidate)


@dataclass(frozen=True)
class Ipv6Pool:
    """Where a network's VMs get IPv6 addresses: its /64 and gateway, and the ranges in it
    (the one it was created with and those added later, `createVlanIpRange`)."""

    ip6_cidr: str
    ip6_gateway: str
    spans: tuple[tuple[str, str], ...]

    def holds(self, text: str) -> bool:
        """Whether `text` is an address VMs may be given: in a range, not the gateway."""
        value = ipv6_address(text, "ip6address")
        inside = any(IPv6Address(a) <= value <= IPv6Address(b) for a, b in self.spans)
        return inside and value != IPv6Address(self.ip6_gateway)

    def overlaps(self, start: str, end: str) -> bool:
        first, last = IPv6Address(start), IPv6Address(end)
        return any(first <= IPv6Address(b) and IPv6Address(a) <= last for a, b in self.spans)

    def probe(self, start: int) -> Iterator[str]:
        """The addresses of the ranges from position `start` on, wrapping around, never the
        gateway; lazily."""
        bounds = [(int(IPv6Address(a)), int(IPv6Address(b))) for a, b in self.spans]
        total, gateway = sum(b - a + 1 for a, b in bounds), IPv6Address(self.ip6_gateway)
        for step in range(total):
            index = (start + step) % total
            for first, last in bounds:
                if index <= last - first:
                    candidate = IPv6Address(first + index)
                    if candidate != gateway:
                        yield str(candidate)
                    break
                index -= last - first + 1
