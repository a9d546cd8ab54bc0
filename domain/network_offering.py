"""NetworkOffering: what kind of guest network tenants may create and which services it offers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import InvalidParameter
from domain.network_providers import EXTERNAL_PROVIDER_SERVICES
from domain.service_set_offering import ServiceSetOffering, canonical

GUEST_TYPES = ("Isolated", "Shared")
# The services a guest network may offer, spelled as CloudStack's Network.Service names.
SERVICES = (
    "Dhcp",
    "Dns",
    "SourceNat",
    "StaticNat",
    "PortForwarding",
    "Firewall",
    "Lb",
    "UserData",
    "Vpn",
    "NetworkACL",
    "Gateway",
    "Connectivity",
)
VPC_ROUTER = "VpcVirtualRouter"
INTERNAL_LB_VM = "InternalLbVm"  # balances inside a VPC tier (its Lb service only)
# The providers of external devices (domain.network_device) an offering may name for the
# services each offers in 4.3: a network of such an offering is placed on one of its devices.
DEVICE_PROVIDERS = tuple(EXTERNAL_PROVIDER_SERVICES)
PROVIDERS = ("VirtualRouter", VPC_ROUTER, INTERNAL_LB_VM, *DEVICE_PROVIDERS)
SOURCE_NAT = "SourceNat"
LB_ISOLATIONS = ("dedicated", "shared")
NETWORK_ACL = "NetworkACL"
# Services a VPC tier may not offer: the VPC's ACLs stand in for a tier's firewall (as 4.3).
NOT_IN_VPC = ("Firewall",)


@dataclass(frozen=True)
class BalancerLimits:
    """What an offering's networks' load balancers allow: at most `max_connections` at once
    (None: the router's default) and HTTP keep-alive, or closing after each request."""

    max_connections: int | None = None
    keep_alive: bool = False

    def terms(self) -> dict[str, Any]:
        if self.max_connections is not None and self.max_connections < 1:
            raise InvalidParameter("maxconnections must be a positive number")
        return {"max_connections": self.max_connections, "keep_alive": self.keep_alive}


@dataclass(frozen=True)
class OfferingTerms:
    """What a network offering promises; `services` maps each service to its providers."""

    name: str
    display_text: str
    guest_type: str
    services: Mapping[str, list[str]] = field(default_factory=dict)
    specify_vlan: bool = False
    specify_ip_ranges: bool = False
    conserve_mode: bool = True
    availability: str = "Optional"
    network_rate: int | None = None
    tags: str = ""
    egress_default_policy: bool = False  # True: guests may send anything egress rules allow not
    lb_isolation: str = ""  # the Lb service's SupportedLBIsolation: dedicated (4.3's default)
    balancing: BalancerLimits = field(default_factory=BalancerLimits)
    is_persistent: bool = False  # its networks are implemented when created, not at a first VM
    router_offering_id: str | None = None  # the system offering its routers start with
    details: Mapping[str, str] = field(default_factory=dict)

    def checked(self) -> dict[str, Any]:
        """The terms as event data, validated and in canonical spellings."""
        if not self.name:
            raise InvalidParameter("A network offering needs a name")
        guest_type = canonical(self.guest_type, GUEST_TYPES, "guest ip type")
        named = {p for providers in self.services.values() for p in providers or ()}
        for_vpc = any(canonical(p, PROVIDERS, "service provider") == VPC_ROUTER for p in named)
        default = [VPC_ROUTER] if for_vpc else ["VirtualRouter"]
        services = {
            canonical(name, SERVICES, "service"): sorted(
                {canonical(p, PROVIDERS, "service provider") for p in providers or default}
            )
            for name, providers in self.services.items()
        }
        _check_vpc_services(services, guest_type, for_vpc)
        _check_device_services(services)
        if guest_type == "Shared" and SOURCE_NAT in services:
            raise InvalidParameter("SourceNat service is not supported by Shared networks")
        isolation = ""
        if self.lb_isolation:
            isolation = canonical(self.lb_isolation, LB_ISOLATIONS, "SupportedLBIsolation")
            if "Lb" not in services:
                raise InvalidParameter(
                    "Capability SupportedLBIsolation is of the Lb service, which the offering "
                    "does not provide"
                )
        if self.is_persistent and guest_type == "Shared":
            raise InvalidParameter(
                "isPersistent should be false if network offering's type is Shared"
            )
        return {
            "lb_isolation": isolation,
            **self.balancing.terms(),
            "is_persistent": self.is_persistent,
            "router_offering_id": self.router_offering_id,
            "details": checked_details(self.details, services),
            "name": self.name,
            "display_text": self.display_text or self.name,
            "guest_type": guest_type,
            "services": services,
            "specify_vlan": self.specify_vlan or guest_type == "Shared",
            "specify_ip_ranges": self.specify_ip_ranges or guest_type == "Shared",
            "conserve_mode": self.conserve_mode,
            "availability": canonical(self.availability, ("Optional", "Required"), "availability"),
            "network_rate": self.network_rate,
            "tags": self.tags,
            "egress_default_policy": self.egress_default_policy,
            "for_vpc": for_vpc,
        }


# The details 4.3 takes on a network offering (NetworkOffering.Detail): which of the Lb
# service's providers balances each scheme; InternalLbVm alone balances inside a network.
DETAILS = ("InternalLbProvider", "PublicLbProvider")


def checked_details(
    details: Mapping[str, str], services: Mapping[str, list[str]]
) -> dict[str, str]:
    """The details in canonical spellings, each naming a provider of the offering's Lb service
    that balances that detail's scheme (4.3's checks and texts)."""
    found: dict[str, str] = {}
    for key, value in details.items():
        detail = next((d for d in DETAILS if d.lower() == key.strip().lower()), None)
        if detail is None:
            raise InvalidParameter(f"Unsupported detail {key}")
        provider = next(
            (p for p in services.get("Lb", ()) if p.lower() == str(value).strip().lower()), None
        )
        if provider is None:
            raise InvalidParameter(
                f"Invalid value {value} for the detail {detail}. The provider is not supported "
                "by the network offering"
            )
        if (provider == INTERNAL_LB_VM) != (detail == "InternalLbProvider"):
            scheme = "Internal" if detail == "InternalLbProvider" else "Public"
            raise InvalidParameter(
                f"Provider {provider} does not support the Lb scheme {scheme} ({detail})"
            )
        found[detail] = provider
    return found


def _check_device_services(services: Mapping[str, list[str]]) -> None:
    """A device provider is named only for the services it offers in 4.3."""
    for name, providers in sorted(services.items()):
        for provider in providers:
            offered = EXTERNAL_PROVIDER_SERVICES.get(provider)
            if offered is not None and name not in offered:
                raise InvalidParameter(f"Provider {provider} doesn't support service {name}")


def _check_vpc_services(services: Mapping[str, list[str]], guest_type: str, for_vpc: bool) -> None:
    """4.3 makes an offering for VPC tiers of the VpcVirtualRouter provider: all of its
    services by that provider (Lb may be InternalLbVm's instead), isolated, without Firewall;
    NetworkACL and InternalLbVm only for such tiers."""
    for name, providers in services.items():
        if INTERNAL_LB_VM in providers and (name != "Lb" or providers != [INTERNAL_LB_VM]):
            raise InvalidParameter(
                f"Provider {INTERNAL_LB_VM} supports only the Lb service, and alone"
            )
    if not for_vpc:
        if INTERNAL_LB_VM in services.get("Lb", ()):
            raise InvalidParameter(
                f"Provider {INTERNAL_LB_VM} balances only inside VPC tiers (internal load "
                "balancing is supported on VPC networks only)"
            )
        if NETWORK_ACL in services:
            raise InvalidParameter(
                "Service NetworkACL is supported only by the VpcVirtualRouter provider (VPC tiers)"
            )
        return
    if guest_type != "Isolated":
        raise InvalidParameter("Only Isolated network offerings can be used for VPC tiers")
    for name, providers in services.items():
        if providers != [VPC_ROUTER] and providers != [INTERNAL_LB_VM]:
            raise InvalidParameter(
                f"Service {name} of a VPC tier offering must be provided by {VPC_ROUTER}"
            )
        if name in NOT_IN_VPC:
            raise InvalidParameter(f"Service {name} is not supported in VPC")


class NetworkOffering(ServiceSetOffering):
    """A network offering; a disabled one can no longer be used for new networks."""

    KIND = "network offering"
    UPDATABLE = frozenset(
        {"name", "display_text", "availability", "max_connections", "keep_alive", "sort_key"}
    )

    @property
    def guest_type(self) -> str:
        return str(self.terms["guest_type"])

    @property
    def egress_allow(self) -> bool:
        """The egress default of its networks: allow (True) or deny; offerings recorded before
        it was kept deny, as CloudStack's seeded ones do."""
        return bool(self.terms.get("egress_default_policy", False))

    @property
    def for_vpc(self) -> bool:
        """An offering of VPC tiers (its services are the VPC router's)."""
        return bool(self.terms.get("for_vpc", False))

    @property
    def internal_lb(self) -> bool:
        """Its Lb service balances inside the tier (scheme Internal), by InternalLbVm."""
        return self.services.get("Lb") == [INTERNAL_LB_VM]

    def device_providers(self) -> dict[str, list[str]]:
        """The device providers it names, each with the services it provides."""
        found: dict[str, list[str]] = {}
        for service, providers in sorted(self.terms["services"].items()):
            for provider in providers:
                if provider in DEVICE_PROVIDERS:
                    found.setdefault(provider, []).append(service)
        return found

    @property
    def dedicated_lb(self) -> bool:
        """A network of it takes a load balancer device of its own (4.3's default), unless
        the offering's Lb capability SupportedLBIsolation is shared."""
        return self.terms.get("lb_isolation") != "shared"

    def provider_of(self, service: str) -> str | None:
        """The device provider of `service`, when a device provides it."""
        for provider in self.terms["services"].get(service, ()):
            if provider in DEVICE_PROVIDERS:
                return str(provider)
        return None

    @property
    def balancer_limits(self) -> BalancerLimits:
        """Its load balancers' connection limit and keep-alive (offerings recorded before
        they were kept: the router's defaults)."""
        return BalancerLimits(self.terms.get("max_connections"), bool(self.terms.get("keep_alive")))

    @property
    def router_offering_id(self) -> UUID | None:
        """The system offering its networks' routers start with (None: the default one)."""
        chosen = self.terms.get("router_offering_id")
        return UUID(chosen) if chosen else None

    def update(self, changes: dict[str, Any]) -> None:
        """As every offering's update; a connection limit must be a positive number."""
        if changes.get("max_connections") is not None:
            BalancerLimits(changes["max_connections"]).terms()
        super().update(changes)

    def offers(self, service: str) -> bool:
        return service in self.terms["services"]

    @event("Created")
    def __init__(self, terms: dict[str, Any], state: str, is_default: bool, id: UUID) -> None:
        self._begin(terms, state, is_default)

    IN_USE = "Network offering {name} is used by {using} network(s)"
