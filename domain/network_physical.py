"""PhysicalNetwork: a zone's network fabric, its isolation method and its pool of guest ids,
the traffic types it carries and the service providers (and their router elements) on it.

The aggregate keeps only its terms (name, isolation, ranges, state, traffic, providers): which
ids are taken lives in one `Claim` per id (domain.network_claims), so it never grows with the
networks it carries and concurrent allocations do not contend on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.network_addressing import VnetRanges, check_isolation
from domain.network_providers import (
    ELEMENT_PROVIDERS,
    ELEMENT_TYPES,
    INDIVIDUAL_SERVICES,
    INTERNAL_LB_VM,
    PROVIDER_SERVICES,
    Labels,
    canonical_in,
    check_provider_name,
    check_provider_state,
    check_services,
    check_traffic_type,
    default_element_id,
    default_provider_id,
)

PHYSICAL_STATES = ("Enabled", "Disabled")
BROADCAST_RANGES = {"Advanced": "ZONE", "Basic": "POD"}  # the one 4.3 allows per zone type
DEFAULT_SPEED = "1G"


def broadcast_domain_range(given: str | None, zone_network_type: str) -> str:
    """4.3's broadcast domain range: ZONE in an advanced zone, POD in a basic one; the default
    is the one the zone allows, anything else is refused with 4.3's text."""
    allowed = BROADCAST_RANGES.get(zone_network_type, "ZONE")
    if not given:
        return allowed
    wanted = given.strip().upper()
    if wanted not in ("ZONE", "POD"):
        raise InvalidParameter(
            f"Unable to resolve broadcastDomainRange '{given}' to a supported value {{Pod or Zone}}"
        )
    if wanted != allowed:
        raise InvalidParameter(
            "Broadcast domain range can be set to ZONE only in Advanced zone"
            if allowed == "ZONE"
            else "Broadcast domain range can be set to Pod only in Basic zone"
        )
    return wanted


def physical_tags(tags: list[str] | None) -> str:
    """The physical network's tag: 4.3 takes at most one."""
    given = [t.strip() for t in tags or () if t.strip()]
    if len(given) > 1:
        raise InvalidParameter("Only one tag can be specified for a physical network at this time")
    return given[0] if given else ""


def default_providers(physical_network_id: UUID, state: str) -> list[dict[str, Any]]:
    """The providers 4.3 puts on every new physical network (Disabled); a physical network
    recorded before providers were kept had them working, so replay gives it them Enabled."""
    return [
        {
            "id": str(default_provider_id(physical_network_id, name)),
            "name": name,
            "state": state,
            "services": list(services),
        }
        for name, services in PROVIDER_SERVICES.items()
    ]


def default_elements(physical_network_id: UUID, enabled: bool) -> list[dict[str, Any]]:
    """The elements of the default VirtualRouter, VpcVirtualRouter and InternalLbVm providers."""
    return [
        {
            "id": str(default_element_id(physical_network_id, name)),
            "provider_id": str(default_provider_id(physical_network_id, name)),
            "enabled": enabled,
        }
        for name in ELEMENT_PROVIDERS
    ]


@dataclass(frozen=True)
class PhysicalOptions:
    """What createPhysicalNetwork may name besides its fabric: checked by
    `PhysicalNetwork.create`, except the broadcast domain range, which needs the zone
    (`broadcast_domain_range`)."""

    speed: str | None = None
    tags: list[str] | None = None
    domain_id: UUID | None = None
    broadcast_domain_range: str = "ZONE"


def _check_state(state: str) -> str:
    for known in PHYSICAL_STATES:
        if known.lower() == state.strip().lower():
            return known
    raise InvalidParameter(f"Invalid state {state}: use Enabled or Disabled")


class PhysicalNetwork(Aggregate):
    """A zone's physical network; guest networks take their VLAN or VNI from its ranges."""

    @event("Created")
    def __init__(
        self,
        zone_id: UUID,
        name: str,
        isolation: str,
        vnet_ranges: list[list[int]],
        speed: str,
        tags: str,
        id: UUID,
        providers: list[dict[str, Any]] | None = None,
        elements: list[dict[str, Any]] | None = None,
        domain_id: UUID | None = None,
        broadcast_domain_range: str = "ZONE",
    ) -> None:
        if not name:
            raise InvalidParameter("A physical network needs a name")
        self.zone_id, self.name = zone_id, name
        self.domain_id = domain_id  # dedicated to a domain's subtree; None: every domain's
        self.broadcast_domain_range = broadcast_domain_range
        self.isolation = check_isolation(isolation)
        self.vnets = VnetRanges(tuple((a, b) for a, b in vnet_ranges))
        self.speed, self.tags = speed, tags
        self.state = "Disabled"  # as CloudStack: enabled once the operator has set it up
        self.removed = False
        legacy = providers is None
        self.providers: dict[str, dict[str, Any]] = {
            p["id"]: dict(p) for p in providers or default_providers(id, "Enabled")
        }
        self.elements: dict[str, dict[str, Any]] = {
            x["id"]: dict(x) for x in (default_elements(id, True) if legacy else elements or ())
        }
        self.traffic: dict[str, dict[str, Any]] = {}

    @classmethod
    def create(
        cls,
        physical_network_id: UUID,
        zone_id: UUID,
        name: str,
        isolation: str,
        vlan: str | None,
        options: PhysicalOptions = PhysicalOptions(),
    ) -> PhysicalNetwork:
        """A new physical network; `vlan` is CloudStack's range text ("500-1000,2000-2100")."""
        method = check_isolation(isolation)
        ranges = VnetRanges.parse(vlan, method).ranges if vlan else ()
        pairs = [list(pair) for pair in ranges]
        return cls(
            zone_id,
            name,
            method,
            pairs,
            options.speed or DEFAULT_SPEED,
            physical_tags(options.tags),
            id=physical_network_id,
            providers=default_providers(physical_network_id, "Disabled"),
            elements=default_elements(physical_network_id, False),
            domain_id=options.domain_id,
            broadcast_domain_range=options.broadcast_domain_range,
        )

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"Physical network {self.name} has been deleted")

    def check_allocatable(self) -> None:
        """Guest ids are handed out only from an enabled network that has some."""
        self._check_live()
        if self.state != "Enabled":
            raise InvalidState(f"Physical network {self.name} is {self.state}; enable it first")
        if not self.vnets.size:
            raise InvalidState(f"Physical network {self.name} has no vlan range for guests")

    def broadcast_uri(self, vnet: int) -> str:
        scheme = "vxlan" if self.isolation == "VXLAN" else "vlan"
        return f"{scheme}://{vnet}"

    def update(
        self,
        vlan: str | None,
        state: str | None,
        in_use: Iterable[int],
        speed: str | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Change the guest ranges, the state, the speed or the tag; ids held by networks must
        stay in range."""
        self._check_live()
        changes: dict[str, Any] = {}
        if speed:
            changes["speed"] = speed
        if tags is not None:
            changes["tags"] = physical_tags(tags)
        if vlan is not None:
            ranges = VnetRanges.parse(vlan, self.isolation)
            stranded = sorted(v for v in in_use if v not in ranges)
            if stranded:
                raise ResourceInUse(
                    f"Unable to remove vlan range: ids {', '.join(map(str, stranded[:10]))} are "
                    "in use by guest networks"
                )
            changes["vnet_ranges"] = [list(pair) for pair in ranges.ranges]
        if state is not None:
            changes["state"] = _check_state(state)
        if changes:
            self._updated(changes=changes)

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        if "vnet_ranges" in changes:
            self.vnets = VnetRanges(tuple((a, b) for a, b in changes["vnet_ranges"]))
        self.state = changes.get("state", self.state)
        self.speed = changes.get("speed", self.speed)
        self.tags = changes.get("tags", self.tags)

    def delete(self, networks_using: int) -> None:
        self._check_live()
        if networks_using:
            raise ResourceInUse(
                f"Physical network {self.name} still carries {networks_using} guest network(s); "
                "delete them first"
            )
        self._deleted(zone_id=self.zone_id)

    @event("Deleted")
    def _deleted(self, zone_id: UUID) -> None:
        self.removed = True

    # Traffic types ----------------------------------------------------------------------------

    def add_traffic_type(
        self,
        traffic_type_id: UUID,
        traffic_type: str,
        labels: Labels,
        vlan: str | None = None,
        isolation: str | None = None,
    ) -> None:
        """Carry a kind of traffic, once per physical network."""
        self._check_live()
        kind = check_traffic_type(traffic_type)
        if any(t["traffic_type"] == kind for t in self.traffic.values()):
            raise InvalidParameter(
                f"Physical network {self.name} already carries the traffic type {kind}"
            )
        self._traffic_added(
            traffic_type_id=str(traffic_type_id),
            traffic_type=kind,
            labels=labels.given(),
            vlan=vlan or "",
            isolation=isolation or "",
        )

    @event("TrafficTypeAdded")
    def _traffic_added(
        self,
        traffic_type_id: str,
        traffic_type: str,
        labels: dict[str, str],
        vlan: str,
        isolation: str,
    ) -> None:
        self.traffic[traffic_type_id] = {
            "traffic_type": traffic_type,
            "labels": dict(labels),
            "vlan": vlan,
            "isolation": isolation,
        }

    def traffic_type(self, traffic_type_id: UUID) -> dict[str, Any]:
        self._check_live()
        found = self.traffic.get(str(traffic_type_id))
        if found is None:
            raise InvalidParameter(f"Unable to find traffic type with id {traffic_type_id}")
        return found

    def update_traffic_type(self, traffic_type_id: UUID, labels: Labels) -> None:
        self.traffic_type(traffic_type_id)
        if labels.given():
            self._traffic_updated(traffic_type_id=str(traffic_type_id), labels=labels.given())

    @event("TrafficTypeUpdated")
    def _traffic_updated(self, traffic_type_id: str, labels: dict[str, str]) -> None:
        self.traffic[traffic_type_id]["labels"].update(labels)

    def delete_traffic_type(self, traffic_type_id: UUID, users: int) -> None:
        """Drop a traffic type; refused while networks or ranges of that traffic use it."""
        kind = self.traffic_type(traffic_type_id)["traffic_type"]
        if users:
            raise ResourceInUse(
                f"Unable to delete {kind} traffic of physical network {self.name}: "
                f"{users} {kind.lower()} network(s) or range(s) still use it"
            )
        self._traffic_deleted(traffic_type_id=str(traffic_type_id))

    @event("TrafficTypeDeleted")
    def _traffic_deleted(self, traffic_type_id: str) -> None:
        self.traffic.pop(traffic_type_id, None)

    # Service providers ------------------------------------------------------------------------

    def add_provider(self, provider_id: UUID, name: str, services: list[str] | None) -> None:
        """A provider, Disabled until the operator enables it; once per physical network."""
        self._check_live()
        known = check_provider_name(name)
        if any(p["name"] == known for p in self.providers.values()):
            raise InvalidParameter(
                f"The {known} provider already exists on physical network {self.name}"
            )
        self._provider_added(
            provider_id=str(provider_id), name=known, services=check_services(known, services)
        )

    @event("ProviderAdded")
    def _provider_added(self, provider_id: str, name: str, services: list[str]) -> None:
        self.providers[provider_id] = {
            "id": provider_id,
            "name": name,
            "state": "Disabled",
            "services": list(services),
        }

    def provider(self, provider_id: UUID) -> dict[str, Any]:
        self._check_live()
        found = self.providers.get(str(provider_id))
        if found is None:
            raise InvalidParameter(f"Unable to find network service provider with id {provider_id}")
        return found

    def update_provider(
        self, provider_id: UUID, state: str | None, services: list[str] | None
    ) -> None:
        """Change a provider's state or services; a router provider is enabled only once its
        router element is (as 4.3: the element is configured first)."""
        found = self.provider(provider_id)
        changes: dict[str, Any] = {}
        if services is not None:
            if found["name"] not in INDIVIDUAL_SERVICES:
                raise InvalidParameter(f"The services of provider {found['name']} cannot be chosen")
            changes["services"] = check_services(found["name"], services)
        if state is not None:
            changes["state"] = check_provider_state(state)
            if changes["state"] == "Enabled" and not self._ready(str(provider_id), found["name"]):
                how = (
                    "internal load balancer element first (configureInternalLoadBalancerElement)"
                    if found["name"] == INTERNAL_LB_VM
                    else "virtual router element first (configureVirtualRouterElement)"
                )
                raise InvalidState(
                    f"Provider {found['name']} is not ready, cannot enable it: enable its {how}"
                )
        if changes:
            self._provider_updated(provider_id=str(provider_id), changes=changes)

    def _ready(self, provider_id: str, name: str) -> bool:
        if name not in ELEMENT_PROVIDERS:
            return True
        return any(x["provider_id"] == provider_id and x["enabled"] for x in self.elements.values())

    @event("ProviderUpdated")
    def _provider_updated(self, provider_id: str, changes: dict[str, Any]) -> None:
        self.providers[provider_id].update(changes)

    def delete_provider(self, provider_id: UUID, networks_using: int) -> None:
        found = self.provider(provider_id)
        if networks_using:
            raise ResourceInUse(
                f"Provider {found['name']} still serves {networks_using} guest network(s) on "
                f"physical network {self.name}; delete them first"
            )
        self._provider_deleted(provider_id=str(provider_id))

    @event("ProviderDeleted")
    def _provider_deleted(self, provider_id: str) -> None:
        self.providers.pop(provider_id, None)
        for element_id in [k for k, x in self.elements.items() if x["provider_id"] == provider_id]:
            del self.elements[element_id]

    def check_providers_ready(self, needed: dict[str, list[str]]) -> None:
        """Refuse to implement a network unless every provider its services need is Enabled
        here (`needed`: service → providers), naming the first one that is not."""
        self._check_live()
        for service, names in sorted(needed.items()):
            for name in names:
                states = [p["state"] for p in self.providers.values() if p["name"] == name]
                if not states or states[0] != "Enabled":
                    raise InvalidState(
                        f"Service provider {name} (for {service}) either does not exist or is "
                        f"not enabled in physical network {self.name}"
                    )

    # Router elements --------------------------------------------------------------------------

    def create_router_element(
        self, element_id: UUID, provider_id: UUID, provider_type: str | None
    ) -> None:
        found = self.provider(provider_id)
        wanted = ELEMENT_TYPES[
            canonical_in(
                provider_type or "VirtualRouter",
                ELEMENT_TYPES,
                f"Invalid provider type {provider_type}: use VirtualRouter or VPCVirtualRouter",
            )
        ]
        if found["name"] != wanted:
            raise InvalidParameter(
                f"Provider {found['name']} cannot have a router element of type {wanted}"
            )
        if any(x["provider_id"] == str(provider_id) for x in self.elements.values()):
            raise InvalidParameter(f"Provider {found['name']} already has a router element")
        self._element_created(element_id=str(element_id), provider_id=str(provider_id))

    def create_internal_lb_element(self, element_id: UUID, provider_id: UUID) -> None:
        """The element of an InternalLbVm provider added to the network (one per provider)."""
        found = self.provider(provider_id)
        if found["name"] != INTERNAL_LB_VM:
            raise InvalidParameter(
                f"Provider {found['name']} cannot have an internal load balancer element"
            )
        if any(x["provider_id"] == str(provider_id) for x in self.elements.values()):
            raise InvalidParameter(
                f"Provider {found['name']} already has an internal load balancer element"
            )
        self._element_created(element_id=str(element_id), provider_id=str(provider_id))

    @event("RouterElementCreated")
    def _element_created(self, element_id: str, provider_id: str) -> None:
        self.elements[element_id] = {
            "id": element_id,
            "provider_id": provider_id,
            "enabled": False,
        }

    def configure_router_element(self, element_id: UUID, enabled: bool) -> None:
        self._check_live()
        if str(element_id) not in self.elements:
            raise InvalidParameter(f"Unable to find virtual router element with id {element_id}")
        if self.elements[str(element_id)]["enabled"] != enabled:
            self._element_configured(element_id=str(element_id), enabled=enabled)

    @event("RouterElementConfigured")
    def _element_configured(self, element_id: str, enabled: bool) -> None:
        self.elements[element_id]["enabled"] = enabled
