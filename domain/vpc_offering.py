"""VpcOffering: what a VPC offers its tiers (services and the provider of each), as 4.3 has it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.network_offering import OFFERING_STATES, VPC_ROUTER, canonical

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
UPDATABLE = frozenset({"name", "display_text", "state"})


@dataclass(frozen=True)
class VpcOfferingTerms:
    """`services` maps each service to its providers (VpcVirtualRouter when none is named)."""

    name: str
    display_text: str
    services: Mapping[str, list[str]] = field(default_factory=dict)

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
        }


def _service(name: str) -> str:
    for known in VPC_SERVICES:
        if known.lower() == name.strip().lower():
            return known
    raise InvalidParameter(f"Service {name} is not supported by VPC")


class VpcOffering(Aggregate):
    """A VPC offering; only an enabled one makes new VPCs."""

    @event("Created")
    def __init__(self, terms: dict[str, Any], state: str, is_default: bool, id: UUID) -> None:
        self.terms = dict(terms)
        self.state = canonical(state, OFFERING_STATES, "state")
        self.is_default = is_default
        self.removed = False

    @property
    def name(self) -> str:
        return str(self.terms["name"])

    @property
    def services(self) -> dict[str, list[str]]:
        return dict(self.terms["services"])

    def check_usable(self) -> None:
        if self.removed:
            raise InvalidState(f"VPC offering {self.name} has been deleted")
        if self.state != "Enabled":
            raise InvalidParameter(f"VPC offering {self.name} is not enabled")

    def update(self, changes: dict[str, Any]) -> None:
        if self.removed:
            raise InvalidState(f"VPC offering {self.name} has been deleted")
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidParameter(f"Cannot update {', '.join(sorted(unknown))} of a VPC offering")
        if "state" in changes:
            changes = {**changes, "state": canonical(changes["state"], OFFERING_STATES, "state")}
        if changes:
            self._updated(changes=dict(changes))

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        self.state = changes.get("state", self.state)
        self.terms = {**self.terms, **{k: v for k, v in changes.items() if k != "state"}}

    def delete(self, vpcs_using: int) -> None:
        if self.removed:
            raise InvalidState(f"VPC offering {self.name} has already been deleted")
        if self.is_default:
            raise InvalidParameter("Default VPC offering can't be deleted")
        if vpcs_using:
            raise ResourceInUse(
                f"Can't delete VPC offering {self.name} as it's used by {vpcs_using} VPC(s)"
            )
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed = True
