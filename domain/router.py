"""Virtual routers: what makes a `SystemVm` a router — its id per network, its version against
the minimum, the daemons it monitors — and `RouterUpgrade`, which reboots routers onto the
current template a bounded number at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

_NAMESPACE = UUID("5b0f3d2e-8a41-4c6e-9f57-2d7e1c9b4a10")
UNKNOWN = "UNKNOWN"
MIN_VERSION = "4.3.0"
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*")

# Network services a router provides → the daemon that provides them (CloudStack 4.3's
# monitoring_services): ssh is always watched, the others only when a network uses them.
SERVICE_DAEMONS = {"Dhcp": "dnsmasq", "Dns": "dnsmasq", "Lb": "haproxy", "UserData": "apache2"}
ALWAYS_MONITORED = ("ssh",)
DAEMONS = frozenset({"dnsmasq", "haproxy", "ssh", "apache2"})
DEFAULT_NETWORK_SERVICES = ("Dhcp", "Dns", "UserData")


def router_id_for(network_id: UUID, after: UUID | None = None) -> UUID:
    """The router of a network has an id derived from it, so two commands ensuring a router
    for one network write the same aggregate and only one succeeds. A destroyed router's
    successor derives from it (`after`), so the chain stays deterministic."""
    key = f"network:{network_id}" if after is None else f"network:{network_id}:after:{after}"
    return uuid5(_NAMESPACE, key)


def monitored_daemons(network_services: Iterable[str]) -> tuple[str, ...]:
    """The daemons a router watches for networks using these services (unknown ones refused)."""
    daemons = set(ALWAYS_MONITORED)
    for service in network_services:
        if service in SERVICE_DAEMONS:
            daemons.add(SERVICE_DAEMONS[service])
        elif service not in (
            "SourceNat",
            "StaticNat",
            "PortForwarding",
            "Firewall",
            "Vpn",
            "NetworkACL",
            "Gateway",  # the router is the network's gateway (or a device is): no daemon
            "Connectivity",  # an SDN controller's overlay, no service of the router
        ):
            raise InvalidParameter(f"A virtual router does not provide the service {service}")
    return tuple(sorted(daemons))


def trim_version(reported: str | None) -> str | None:
    """The version in what a router reports: "Cloudstack Release 4.3.0 Tue …" or "4.3.0"."""
    if not reported:
        return None
    words = reported.split()
    candidate = words[2] if len(words) > 2 else words[0]
    return candidate if _VERSION.fullmatch(candidate) else "0"


def version_key(version: str | None) -> str:
    """A text that sorts as versions compare dot-wise; unknown sorts before every version."""
    if not version or not _VERSION.fullmatch(version):
        return ""
    return ".".join(f"{int(part):06d}" for part in [*version.split("."), "0", "0", "0"][:4])


def requires_upgrade(version: str | None, minimum: str) -> bool:
    """Below the minimum, or unknown: CloudStack asks for an upgrade of such a router."""
    return version_key(version) < version_key(minimum)


@dataclass(frozen=True)
class UpgradeTurn:
    """One router's place in an upgrade: its job and the template it is to run."""

    upgrade_id: UUID
    router_id: UUID
    job_id: UUID
    template_id: UUID
    template_name: str


class RouterUpgrade(Aggregate):
    """One `upgradeRouterTemplate`: which routers, in which order, how many at once.

    The routers form `parallelism` lanes (a router follows the one `parallelism` places before
    it); each router records the next of its lane, and the result of its turn starts that one.
    So at most `parallelism` routers are upgraded at once, a restarted server loses no place,
    and no record shared by all the routers is rewritten at every turn.
    """

    @event("Planned")
    def __init__(self, routers: tuple[tuple[UUID, UUID, UUID, str], ...], parallelism: int) -> None:
        """`routers`: (router id, job id, template id, template name) in the order to go."""
        if parallelism < 1:
            raise InvalidParameter("The upgrade parallelism must be at least 1")
        self.routers = tuple(routers)
        self.parallelism = parallelism

    def turns(self) -> list[UpgradeTurn]:
        return [UpgradeTurn(self.id, *turn) for turn in self.routers]

    def next_in_lane(self, index: int) -> UUID | None:
        """The router that follows the `index`-th one in its lane."""
        following = index + self.parallelism
        return self.routers[following][0] if following < len(self.routers) else None

    @property
    def heads(self) -> list[UUID]:
        """The first router of every lane: they start at once."""
        return [turn[0] for turn in self.routers[: self.parallelism]]
