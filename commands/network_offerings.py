"""Commands on network offerings, and CloudStack's default offerings seeded on every start."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome, change
from commands.balancer_limits import default_max_connections
from domain.network_offering import BalancerLimits, NetworkOffering, OfferingTerms

_SEED_NAMESPACE = UUID("2f7c9b1e-5d48-4a63-8e0f-1c6b3a9d7e52")
_ROUTER = ["VirtualRouter"]


@dataclass(frozen=True)
class CreateNetworkOffering:
    terms: OfferingTerms
    state: str = "Disabled"  # as CloudStack: an operator enables a new offering when ready
    offering_id: UUID = field(default_factory=uuid.uuid4)


def create_network_offering(store: Any, command: CreateNetworkOffering) -> Outcome:
    offering = NetworkOffering(
        command.terms.checked(), command.state, False, id=command.offering_id
    )
    return Outcome(store.last_position(store.save(offering)), offering.id)


def update_network_offering(store: Any, offering_id: UUID, changes: dict[str, Any]) -> Outcome:
    return change(
        store, NetworkOffering, offering_id, lambda o: o.update(changes), what="network offering"
    )


def delete_network_offering(store: Any, offering_id: UUID, networks_using: int) -> Outcome:
    return change(
        store,
        NetworkOffering,
        offering_id,
        lambda o: o.delete(networks_using),
        what="network offering",
    )


# ---- defaults --------------------------------------------------------------------------

_ISOLATED_SERVICES: tuple[str, ...] = (
    "Dhcp",
    "Dns",
    "UserData",
    "Firewall",
    "Lb",
    "PortForwarding",
)
_ISOLATED_SERVICES += ("SourceNat", "StaticNat", "Vpn")
_VPC_ROUTER = ["VpcVirtualRouter"]
_VPC_TIER_SERVICES = (
    "Dhcp",
    "Dns",
    "UserData",
    "SourceNat",
    "StaticNat",
    "PortForwarding",
    "Lb",
    "NetworkACL",
    "Vpn",
)

# 4.3's tier offering with internal load balancing; it names Gateway too, which Stratus's tier
# offerings leave out (a tier's gateway is its VPC router's, always).
_INTERNAL_LB_TIER_SERVICES = ("Dhcp", "Dns", "UserData", "NetworkACL", "SourceNat")

DEFAULT_NETWORK_OFFERINGS = (
    OfferingTerms(
        "DefaultIsolatedNetworkOfferingWithSourceNatService",
        "Offering for Isolated networks with Source Nat service enabled",
        "Isolated",
        {service: _ROUTER for service in _ISOLATED_SERVICES},
        availability="Required",
    ),
    OfferingTerms(
        "DefaultIsolatedNetworkOffering",
        "Offering for Isolated networks with no Source Nat service",
        "Isolated",
        {service: _ROUTER for service in ("Dhcp", "Dns", "UserData")},
    ),
    OfferingTerms(
        "DefaultSharedNetworkOffering",
        "Offering for Shared networks",
        "Shared",
        {service: _ROUTER for service in ("Dhcp", "Dns", "UserData")},
    ),
    OfferingTerms(
        "DefaultIsolatedNetworkOfferingForVpcNetworks",
        "Offering for Isolated VPC networks with Source Nat service enabled",
        "Isolated",
        {service: _VPC_ROUTER for service in _VPC_TIER_SERVICES},
    ),
    OfferingTerms(
        "DefaultIsolatedNetworkOfferingForVpcNetworksNoLB",
        "Offering for Isolated VPC networks with Source Nat service enabled and LB service "
        "Disabled",
        "Isolated",
        {service: _VPC_ROUTER for service in _VPC_TIER_SERVICES if service != "Lb"},
    ),
    OfferingTerms(
        "DefaultIsolatedNetworkOfferingForVpcNetworksWithInternalLB",
        "Offering for Isolated VPC networks with Internal Lb support",
        "Isolated",
        {
            **{service: _VPC_ROUTER for service in _INTERNAL_LB_TIER_SERVICES},
            "Lb": ["InternalLbVm"],
        },
    ),
)


def network_offering_seed_id(name: str) -> UUID:
    """The fixed id of a default offering, so seeding twice finds the first one."""
    return uuid5(_SEED_NAMESPACE, name)


def seed_network_offerings(store: Any) -> int:
    """Create the default network offerings missing from the log; returns how many.

    Ids derive from names, so two processes seeding at once write the same aggregates and the
    store lets one through and the other finds them on its retry.
    """
    return sum(_seed(store, terms) for terms in DEFAULT_NETWORK_OFFERINGS)


def _seed(store: Any, terms: OfferingTerms) -> int:
    offering_id = network_offering_seed_id(terms.name)
    if "Lb" in terms.services:  # as a created one, the limit in force when it is made
        terms = replace(terms, balancing=BalancerLimits(default_max_connections(store)))

    def attempt() -> int:
        try:
            store.repository.get(offering_id)
        except AggregateNotFoundError:
            store.save(NetworkOffering(terms.checked(), "Enabled", True, id=offering_id))
            return 1
        return 0

    result: int = store.run(attempt)
    return result
