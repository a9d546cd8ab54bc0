"""Which network addresses a user's URL may reach: the internal ranges, and the operator's
allowed internal sites (`secstorage.allowed.internal.sites`, a comma-separated CIDR list).

Shared by the server (which refuses local hosts when a URL is registered) and the adapters
(which check every address they are about to connect to). An address is judged together with
any IPv4 address it carries (IPv4-mapped and -compatible, 6to4, NAT64), so ``::ffff:127.0.0.1``
is as internal as ``127.0.0.1``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
# The spellings inet_aton reads as IPv4: up to four dot-separated decimal, octal or hex parts.
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.IGNORECASE)


def parse_sites(text: str) -> tuple[IPNetwork, ...]:
    """The CIDRs of a comma-separated list; ValueError naming an entry that is not one, or one
    that would allow every address (4.3: "0.0.0.0 is not a valid site")."""
    sites = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not a CIDR") from None
        if network.prefixlen == 0:
            raise ValueError(f"{entry!r} would allow every address: it is not a valid site")
        sites.append(network)
    return tuple(sites)


def forms(address: IPAddress) -> tuple[IPAddress, ...]:
    """The address and the IPv4 address it carries, if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return (address,)
    carried = address.ipv4_mapped or address.sixtofour
    if carried is None and (address in _NAT64 or address in _COMPATIBLE):
        carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return (address,) if carried is None else (address, carried)


def _internal_one(address: IPAddress) -> bool:
    site_local = isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or site_local
    )


def is_internal(address: IPAddress) -> bool:
    """Loopback, link-local, private (RFC 1918, ULA), shared, unspecified, multicast, reserved
    or otherwise not global, in any of its forms: what a fetch may not reach unless allowed."""
    return any(_internal_one(form) for form in forms(address))


def is_local(address: IPAddress) -> bool:
    """Loopback, link-local, unspecified or multicast, in any of its forms: the hosts 4.3
    refuses in a URL when it is registered ("Illegal host specified in url")."""
    return any(
        form.is_loopback or form.is_link_local or form.is_unspecified or form.is_multicast
        for form in forms(address)
    )


def is_allowed(address: IPAddress, sites: Iterable[IPNetwork]) -> bool:
    """Whether the address, in any of its forms, is inside one of the allowed sites."""
    return any(form in site for form in forms(address) for site in sites)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host spells without any lookup: an IPv4 or IPv6 literal, also in
    the shortened, decimal, octal and hex forms resolvers accept (``127.1``, ``2130706433``,
    ``0x7f.1``); None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC_HOST.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
    except OSError:
        return None


def is_local_name(host: str) -> bool:
    """``localhost`` and its subdomains, which always name the loopback (RFC 6761)."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")
