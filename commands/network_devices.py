"""Commands on external network devices: add (to a physical network that has the device's
provider, checked on the PhysicalNetwork aggregate), configure, enable or disable, delete.

What a device holds alone (one controller per physical network, one traffic monitor per zone,
one GSLB provider, an ASA's address) is held by a name claim, so two adds cannot both win.

A network whose offering names a device provider is placed on one of its devices when it is
created, and the kinds of rule that provider serves are applied by that device's adapter
(`device_target`) instead of the network's router."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome, change
from commands.names import claimed, released
from domain.errors import InsufficientCapacity, InvalidParameter, InvalidState
from domain.network import Network
from domain.network_device import DeviceChange, DeviceSpec, NetworkDevice, check_provider
from domain.network_offering import NetworkOffering
from domain.network_physical import PhysicalNetwork
from domain.network_rule_checks import RuleKind
from domain.network_rules import ApplyTarget

CLAIM = "network-device"
WHAT = "network device"


@dataclass(frozen=True)
class AddDevice:
    device_id: UUID
    spec: DeviceSpec


def add_device(store: Any, command: AddDevice) -> Outcome:
    spec = command.spec

    def attempt() -> Outcome:
        provider = spec.device_kind.provider
        if spec.physical_network_id is not None and provider:
            physical: PhysicalNetwork = store.get(
                PhysicalNetwork, spec.physical_network_id, what="physical network"
            )
            if physical.removed:
                raise InvalidParameter(f"Could not find physical network with ID: {physical.id}")
            check_provider(physical.providers.values(), provider, str(physical.id))
        device = NetworkDevice(command.device_id, **spec.fields())
        claims = [claimed(store, CLAIM, key, device.id, what) for key, what in device.claims()]
        return Outcome(store.last_position(store.save(device, *claims)), device.id)

    result: Outcome = store.run(attempt)
    return result


def configure_device(store: Any, device_id: UUID, wanted: DeviceChange) -> Outcome:
    return change(store, NetworkDevice, device_id, lambda d: d.configure(wanted), what=WHAT)


def set_device_state(store: Any, device_id: UUID, state: str) -> Outcome:
    return change(store, NetworkDevice, device_id, lambda d: d.set_state(state), what=WHAT)


def delete_device(store: Any, device_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        device: NetworkDevice = store.get(NetworkDevice, device_id, what=WHAT)
        device.remove()
        freed = [c for key, _ in device.claims() if (c := released(store, CLAIM, key))]
        return Outcome(store.last_position(store.save(device, *freed)), device.id)

    result: Outcome = store.run(attempt)
    return result


# Guest networks on devices -------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceCandidates:
    """The devices of one provider that may take a new network, in the order to try them (the
    caller read them from the read model: its physical network's, Enabled, freest first)."""

    provider: str
    device_ids: tuple[UUID, ...]


def place_on_devices(
    store: Any,
    network: Network,
    offering: NetworkOffering,
    physical: PhysicalNetwork,
    candidates: tuple[DeviceCandidates, ...],
) -> list[NetworkDevice]:
    """Place a new network on a device of each device provider its offering names, as 4.3
    allocates one when it implements the network: every such provider Enabled in the
    physical network, a device with room (never one dedicated to a network) for each. Returns
    the devices to save with the network."""
    wanted = offering.device_providers()
    if not wanted:
        return []
    physical.check_providers_ready({s: [p] for p, services in wanted.items() for s in services})
    given = {c.provider: c.device_ids for c in candidates}
    placed: dict[str, NetworkDevice] = {}
    for provider in sorted(wanted):
        alone = offering.dedicated_lb and "Lb" in wanted[provider]
        found = given.get(provider, ())
        device = _first_with_room(store, network, (provider, alone), physical, found)
        if device is None:
            raise InsufficientCapacity(
                f"Unable to find a {provider} device with free capacity in physical network "
                f"{physical.name} to implement network {network.name}"
            )
        placed[provider] = device
    network.place_on_devices({p: d.id for p, d in placed.items()})
    return list(placed.values())


def _first_with_room(
    store: Any,
    network: Network,
    wanted: tuple[str, bool],
    physical: PhysicalNetwork,
    device_ids: tuple[UUID, ...],
) -> NetworkDevice | None:
    """The first device of `wanted` (a provider, and whether the network takes a device of
    its own) that takes the network."""
    provider, alone = wanted
    for device_id in device_ids:
        device: NetworkDevice = store.get(NetworkDevice, device_id, what=WHAT)
        usable = device.device_kind.provider == provider and not device.removed
        if not usable or device.physical_network_id != physical.id:
            continue
        try:
            device.place_network(network.id, dedicated=alone)
        except (InsufficientCapacity, InvalidState):
            continue
        return device
    return None


def released_devices(store: Any, network: Network) -> list[NetworkDevice]:
    """A deleted network leaves the devices it was placed on (saved with it)."""
    freed = []
    for device_id in sorted(network.devices.values()):
        device: NetworkDevice = store.get(NetworkDevice, UUID(device_id), what=WHAT)
        device.release_network(network.id)
        if device.pending_events:
            freed.append(device)
    return freed


# Which applier holds which rules ------------------------------------------------------------

# The service of a network offering each kind of rule belongs to (CloudStack's names).
SERVICE_OF_KIND = {
    RuleKind.PORT_FORWARDING: "PortForwarding",
    RuleKind.FIREWALL: "Firewall",
    RuleKind.LOAD_BALANCING: "Lb",
    RuleKind.STATIC_NAT: "StaticNat",
    RuleKind.IP_FORWARDING: "StaticNat",
    RuleKind.EGRESS: "Firewall",
}
NO_KIND = "-"  # the kinds of an applier that holds none: every rule is on devices


def device_kinds(store: Any, network: Network) -> dict[str, tuple[str, ...]]:
    """The device providers that hold rules of the network, each with its kinds of rule."""
    if not network.devices:
        return {}
    offering: NetworkOffering = store.get(
        NetworkOffering, network.offering_id, what="network offering"
    )
    found: dict[str, list[str]] = {}
    for kind, service in SERVICE_OF_KIND.items():
        provider = offering.provider_of(service)
        if provider is not None and provider in network.devices:
            found.setdefault(provider, []).append(kind)
    return {p: tuple(kinds) for p, kinds in found.items()}


def router_kinds(store: Any, network: Network) -> tuple[str, ...]:
    """The kinds of rule the network's router holds (empty: every kind)."""
    held = {k for kinds in device_kinds(store, network).values() for k in kinds}
    if not held:
        return ()
    return tuple(k for k in SERVICE_OF_KIND if k not in held) or (NO_KIND,)


def device_target(store: Any, network: Network, kind: str | None) -> ApplyTarget | None:
    """The device that holds the network's rules of `kind`, if a device does."""
    for provider, kinds in device_kinds(store, network).items():
        if kind is None or kind in kinds:
            return _device_target(store, network, provider, kinds)
    return None


def device_targets(store: Any, network: Network) -> list[ApplyTarget]:
    """Every device that holds rules of the network."""
    return [
        _device_target(store, network, provider, kinds)
        for provider, kinds in sorted(device_kinds(store, network).items())
    ]


def _device_target(
    store: Any, network: Network, provider: str, kinds: tuple[str, ...]
) -> ApplyTarget:
    device: NetworkDevice = store.get(NetworkDevice, UUID(network.devices[provider]), what=WHAT)
    offering: NetworkOffering = store.get(
        NetworkOffering, network.offering_id, what="network offering"
    )
    serves = offering.provider_of("SourceNat") == provider and not network.removed
    source_nat = network.source_nat_ip if serves else None  # a deleted network's goes too
    facts = {
        "network_id": str(network.id),
        "cidr": network.addressing.cidr,
        "gateway": network.addressing.gateway,
        "vlan": network.vnet,
        "source_nat": source_nat,
        "options": dict(device.options),
    }
    return ApplyTarget(device.id, f"network-{network.id}", device.access(), kinds, facts)
