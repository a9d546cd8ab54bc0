"""VpcOffering: what a VPC offers its tiers (services and the provider of each), as 4.3 has it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import InvalidParameter
from domain.network_offering import VPC_ROUTER
from domain.service_set_offering import ServiceSetOffering, canonical

# The services a VPC may offer (4.3's VpcManagerImpl): no Firewall, the ACLs stand in for it.
VPC_SERVICES = (
    "Dhcp",
    "Dns",
    "SourceNat",
    "StaticNat",
    "PortForwarding",
    "Lb",
    "UserData",
    "Vpn",
    "NetworkACL",
)
VPC_PROVIDERS = (VPC_ROUTER,)


@dataclass(frozen=True)
class VpcOfferingTerms:
    """`services` maps each service to its providers (VpcVirtualRouter when none is named)."""

    name: str
    display_text: str
    services: Mapping[str, list[str]] = field(default_factory=dict)
    router_offering_id: str | None = None  # the system offering its VPCs' routers start with

    def checked(self) -> dict[str, Any]:
        if not self.name:
            raise InvalidParameter("A VPC offering needs a name")
        if not self.services:
            raise InvalidParameter("A VPC offering needs at least one supported service")
        services: dict[str, list[str]] = {}
        for name, providers in self.services.items():
            service = _service(name)
            services[service] = sorted(
                {
                    canonical(p, VPC_PROVIDERS, "service provider")
                    for p in providers or VPC_PROVIDERS
                }
            )
        return {
            "name": self.name,
            "display_text": self.display_text or self.name,
            "services": services,
            **({"router_offering_id": self.router_offering_id} if self.router_offering_id else {}),
        }


def _service(name: str) -> str:
    for known in VPC_SERVICES:
        if known.lower() == name.strip().lower():
            return known
    raise InvalidParameter(f"Service {name} is not supported by VPC")


class VpcOffering(ServiceSetOffering):
    """A VPC offering; only an enabled one makes new VPCs."""

    KIND = "VPC offering"
    UPDATABLE = frozenset({"name", "display_text"})
    NOT_USABLE = InvalidParameter

    @event("Created")
    def __init__(self, terms: dict[str, Any], state: str, is_default: bool, id: UUID) -> None:
        self._begin(terms, state, is_default)

    IN_USE = "Can't delete VPC offering {name} as it's used by {using} VPC(s)"

    @property
    def router_offering_id(self) -> UUID | None:
        """The system offering its VPCs' routers start with (None: the default one)."""
        chosen = self.terms.get("router_offering_id")
        return UUID(chosen) if chosen else None
