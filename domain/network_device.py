"""NetworkDevice: an external network device registered with the cloud (a load balancer, a
firewall, an SDN controller, a Cisco VNMC or ASA 1000v, a Nexus VSM, a traffic monitor).

One aggregate for every kind, as CloudStack 4.3 keeps them as hosts with details: the kind says
which network service provider it serves and which of the URL's options it cannot go without;
the device keeps its address, the options parsed from its URL, its credentials (the password a
`Secret`), its state, capacity and dedication, and the guest networks placed on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, InsufficientCapacity, InvalidParameter, InvalidState
from domain.values import Secret
from domain.vm import HostAccess

# 4.3's `default.external.loadbalancer.capacity` and `default.external.firewall.capacity`.
DEFAULT_CAPACITY = 50
DEVICE_STATES = ("Enabled", "Disabled")


@dataclass(frozen=True)
class DeviceKind:
    """A kind of device as 4.3 names it (its `NetworkDevice`), the provider it serves, its role
    (which answers and rules apply) and the URL options its resource refuses to go without."""

    name: str
    provider: str
    role: str  # "lb", "firewall", "controller", "vnmc", "asa", "vsm", "monitor"
    needs: tuple[str, ...] = ()

    @property
    def adapter(self) -> str:
        """The kind of adapter that drives devices of this kind on the bus (beside the
        hypervisors' kinds): `netscaler`, `paloalto`, or the provider's name in lower case for
        the providers no adapter applies rules for yet."""
        return ADAPTERS.get(self.provider, self.provider.lower())

    @property
    def capacity_option(self) -> str:
        return "fwdevicecapacity" if self.role == "firewall" else "lbdevicecapacity"

    @property
    def dedicated_option(self) -> str:
        return "fwdevicededicated" if self.role == "firewall" else "lbdevicededicated"


_INTERFACES = ("publicinterface", "privateinterface")
# Providers whose devices have an adapter that applies a network's rules on them.
ADAPTERS: Mapping[str, str] = {"Netscaler": "netscaler", "PaloAlto": "paloalto"}
KINDS: Mapping[str, DeviceKind] = {
    k.name: k
    for k in (
        DeviceKind("F5BigIpLoadBalancer", "F5BigIp", "lb", _INTERFACES),
        DeviceKind("NetscalerMPXLoadBalancer", "Netscaler", "lb", _INTERFACES),
        DeviceKind("NetscalerVPXLoadBalancer", "Netscaler", "lb", _INTERFACES),
        DeviceKind("NetscalerSDXLoadBalancer", "Netscaler", "lb"),
        DeviceKind("JuniperSRXFirewall", "JuniperSRX", "firewall", _INTERFACES),
        DeviceKind(
            "PaloAltoFirewall",
            "PaloAlto",
            "firewall",
            (*_INTERFACES, "publicnetwork", "privatenetwork", "pavr"),
        ),
        DeviceKind("NiciraNvp", "NiciraNvp", "controller"),
        DeviceKind("BigSwitchVns", "BigSwitchVns", "controller"),
        DeviceKind("CiscoVnmc", "CiscoVnmc", "vnmc"),
        DeviceKind("CiscoAsa1000v", "CiscoVnmc", "asa"),
        DeviceKind("CiscoNexusVSM", "", "vsm"),
        DeviceKind("TrafficMonitor", "", "monitor"),
    )
}


def device_kind(name: str, allowed: Iterable[str], message: str) -> DeviceKind:
    """The kind named `name` (any case) among `allowed`; refused with `message` otherwise."""
    for known in allowed:
        if known.lower() == (name or "").strip().lower():
            return KINDS[known]
    raise InvalidParameter(message)


def parse_device_url(url: str) -> tuple[str, dict[str, str]]:
    """The device's address and its options, as 4.3 reads them from the URL: the host, and
    the query's name=value pairs (names in lower case; the first of a repeated name wins)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError as bad:
        raise InvalidParameter(f"Invalid device URL: {bad}") from None
    if not parts.scheme or not host:
        raise InvalidParameter("Invalid device URL: it names no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidParameter(
            "Invalid device URL: give the credentials as username and password, not in the URL"
        )
    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        options.setdefault(name.lower(), value)
    return host, options


def _long(text: str | None) -> int:
    """4.3's NumbersUtil.parseLong: a number, or 0 for anything else."""
    try:
        return int(text or 0)
    except ValueError:
        return 0


@dataclass(frozen=True)
class DeviceSpec:
    """What a device is registered with."""

    kind: str
    zone_id: UUID
    host: str
    physical_network_id: UUID | None = None
    cluster_id: UUID | None = None
    url: str = ""
    options: dict[str, str] = field(default_factory=dict)
    username: str = ""
    password: Secret | None = None

    @classmethod
    def from_url(cls, kind: DeviceKind, zone_id: UUID, url: str, **rest: Any) -> DeviceSpec:
        """A device reached at `url` (its host and options parsed as 4.3 does); refused as 4.3's
        resources refuse it when an option it needs is missing."""
        host, options = parse_device_url(url)
        for needed in kind.needs:
            if not options.get(needed):
                raise DomainError(f"Unable to find {needed} in the URL of the {kind.name} device")
        return cls(kind.name, zone_id, host, url=url, options=options, **rest)

    @property
    def device_kind(self) -> DeviceKind:
        return KINDS[self.kind]

    def capacity(self) -> int:
        return _long(self.options.get(self.device_kind.capacity_option)) or DEFAULT_CAPACITY

    def dedicated(self) -> bool:
        return self.options.get(self.device_kind.dedicated_option, "").lower() == "true"

    def inline(self) -> bool:
        return self.options.get("inline", "").lower() == "true"

    def fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "zone_id": self.zone_id,
            "physical_network_id": self.physical_network_id,
            "cluster_id": self.cluster_id,
            "host": self.host,
            "url": self.url,
            "options": dict(self.options),
            "username": self.username,
            "password": self.password,
            "capacity": self.capacity(),
            "dedicated": self.dedicated(),
            "inline": self.inline(),
        }


@dataclass(frozen=True)
class DeviceChange:
    """What configure* may change (None: unchanged)."""

    capacity: int | None = None
    dedicated: bool | None = None
    inline: bool | None = None
    pod_ids: tuple[UUID, ...] | None = None


def check_provider(providers: Iterable[Mapping[str, Any]], name: str, physical: str) -> None:
    """A device is added to a physical network that has its provider, not shut down (4.3)."""
    states = [p["state"] for p in providers if p["name"] == name]
    if not states:
        raise DomainError(
            f"Network Service Provider: {name} is not enabled in the physical network: "
            f"{physical} to add this device"
        )
    if states[0] == "Shutdown":
        raise DomainError(
            f"Network Service Provider: {name} is in shutdown state in the physical network: "
            f"{physical} to add this device"
        )


class NetworkDevice(Aggregate):
    """One registered external device and the guest networks placed on it."""

    @event("Added")
    def __init__(
        self,
        id: UUID,
        kind: str,
        zone_id: UUID,
        physical_network_id: UUID | None,
        cluster_id: UUID | None,
        host: str,
        url: str,
        options: dict[str, str],
        username: str,
        password: Secret | None,
        capacity: int,
        dedicated: bool,
        inline: bool,
    ) -> None:
        self.kind, self.zone_id, self.host = kind, zone_id, host
        self.physical_network_id, self.cluster_id = physical_network_id, cluster_id
        self.url, self.options = url, dict(options)
        self.username, self.password = username, password
        self.capacity, self.dedicated, self.inline = capacity, dedicated, inline
        self.state = "Enabled"  # as 4.3 records a new device
        self.pod_ids: list[str] = []
        self.networks: set[str] = set()
        self.held_alone: str | None = None  # the network that holds the device alone
        self.removed = False

    @property
    def device_kind(self) -> DeviceKind:
        return KINDS[self.kind]

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"The {self.kind} device {self.host} has been deleted")

    def configure(self, change: DeviceChange) -> None:
        """Change capacity, dedication, inline mode or pods as 4.3's configure* does: not below
        the networks already placed, and not to dedicated (nor another mode) while it has any.
        Configuring a device enables it."""
        self._check_live()
        used = len(self.networks)
        if change.capacity is not None and change.capacity < 0:
            raise InvalidParameter("The device capacity cannot be negative")
        if change.capacity and change.capacity < used:
            raise DomainError(
                f"There are more number of networks already using this {self.kind} device "
                "than configured capacity"
            )
        if used and change.dedicated:
            raise DomainError(
                f"There are networks already using this {self.kind} device to make it dedicated"
            )
        if used and change.inline is not None and change.inline != self.inline:
            raise DomainError(f"There are networks using this {self.kind} device in its mode")
        self._configured(
            capacity=DEFAULT_CAPACITY if change.capacity == 0 else change.capacity,
            dedicated=change.dedicated,
            inline=change.inline,
            pod_ids=None if change.pod_ids is None else [str(p) for p in change.pod_ids],
        )

    @event("Configured")
    def _configured(
        self,
        capacity: int | None,
        dedicated: bool | None,
        inline: bool | None,
        pod_ids: list[str] | None,
    ) -> None:
        if capacity is not None:
            self.capacity = capacity
        if dedicated is not None:
            self.dedicated = dedicated
        if inline is not None:
            self.inline = inline
        if pod_ids is not None:
            self.pod_ids = list(pod_ids)
        self.state = "Enabled"

    def set_state(self, state: str) -> None:
        """Enable or disable the device (a Nexus VSM's enable and disable)."""
        self._check_live()
        if state not in DEVICE_STATES:
            raise InvalidParameter(f"Invalid device state {state}")
        if state != self.state:
            self._state_changed(state=state)

    @event("StateChanged")
    def _state_changed(self, state: str) -> None:
        self.state = state

    def place_network(self, network_id: UUID, dedicated: bool = False) -> None:
        """A guest network implemented on this device, as 4.3 allocates one: a network whose
        offering wants a device of its own (`dedicated`) only on a device that serves no
        network, and it then serves that one alone; one whose offering shares devices only
        on a device not dedicated to such networks, within its capacity."""
        self._check_live()
        if str(network_id) in self.networks:
            return
        if self.state != "Enabled":
            raise InvalidState(f"The {self.kind} device {self.host} is {self.state}")
        if self.dedicated and not dedicated:
            raise InsufficientCapacity(
                f"The {self.kind} device {self.host} is dedicated to one network at a time"
            )
        full = len(self.networks) >= self.capacity or self.held_alone is not None
        if full or (dedicated and self.networks):
            raise InsufficientCapacity(f"The {self.kind} device {self.host} has no capacity left")
        self._network_placed(network_id=str(network_id), dedicated=dedicated)

    @event("NetworkPlaced")
    def _network_placed(self, network_id: str, dedicated: bool = False) -> None:
        self.networks.add(network_id)
        if dedicated:
            self.held_alone = network_id

    def release_network(self, network_id: UUID) -> None:
        if str(network_id) in self.networks:
            self._network_released(network_id=str(network_id))

    @event("NetworkReleased")
    def _network_released(self, network_id: str) -> None:
        self.networks.discard(network_id)
        if self.held_alone == network_id:
            self.held_alone = None

    def access(self) -> HostAccess:
        """How its adapter reaches and logs into it (the device stands where a host would)."""
        return HostAccess(
            self.id, self.url, self.username, self.password or Secret(""), self.device_kind.adapter
        )

    def remove(self) -> None:
        """Unregister the device; refused while guest networks are placed on it (4.3)."""
        self._check_live()
        if self.networks:
            raise DomainError(
                f"Delete can not be done as there are networks using this {self.kind} device"
            )
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True

    def claims(self) -> list[tuple[str, str]]:
        """What the device holds alone, as (key, what): one controller, VNMC or traffic
        monitor per physical network (zone), one GSLB provider, one ASA or VSM per address."""
        return device_claims(
            self.kind, self.zone_id, self.physical_network_id, self.host, self.options
        )


def device_claims(
    kind: str, zone_id: UUID, physical_id: UUID | None, host: str, options: Mapping[str, str]
) -> list[tuple[str, str]]:
    role = KINDS[kind].role
    found: list[tuple[str, str]] = []
    if role in ("controller", "vnmc"):
        found.append(
            (f"{physical_id}:{kind}", f"A {kind} device on physical network {physical_id}")
        )
    if role == "monitor":
        found.append((f"{zone_id}:{kind}", f"A traffic monitor in zone {zone_id}"))
    if role == "asa":
        found.append((f"{physical_id}:{kind}:{host}", f"An ASA 1000v appliance at {host}"))
    if role == "vsm":  # one cluster per VSM
        found.append((f"{kind}:{host}", f"A Cisco Nexus VSM at {host}"))
    if options.get("gslbprovider", "").lower() == "true":
        found.append(
            (f"{physical_id}:gslb", f"A GSLB service provider on physical network {physical_id}")
        )
    return found
