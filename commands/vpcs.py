"""Commands on VPCs: create, update, restart and delete, and the tier side of a guest network
(joining its VPC when it is created, leaving it when it is deleted).

A VPC's virtual router is a `SystemVm` like a network's (commands.routers); its id derives from
the VPC's (`router_id_for(vpc id)`), so "does this VPC have a router" is the store's answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome, change
from commands.network_claims import ALLOCATION_ATTEMPTS
from commands.network_public_ips import (
    Acquire,
    PublicPool,
    acquire_public_ip,
    released_with_network,
)
from commands.routers import current_router
from commands.site_to_site_vpn import gateway_gone_with_vpc
from domain.errors import InvalidParameter, PermissionDenied
from domain.network import Network
from domain.network_acl import DEFAULT_DENY
from domain.network_offering import NetworkOffering
from domain.network_public_ip import PublicIp
from domain.system_vm import SystemVm
from domain.vpc import Tier, Vpc, vpc_cidr
from domain.vpc_offering import VpcOffering


@dataclass(frozen=True)
class CreateVpc:
    name: str
    display_text: str
    zone_id: UUID
    offering_id: UUID
    account_id: UUID
    domain_id: UUID
    cidr: str
    network_domain: str
    vpc_id: UUID = field(default_factory=uuid.uuid4)


def create_vpc(store: Any, command: CreateVpc) -> Outcome:
    def attempt() -> Outcome:
        offering = store.get(VpcOffering, command.offering_id, what="vpc offering")
        offering.check_usable()
        vpc = Vpc(
            command.name,
            command.display_text or command.name,
            command.zone_id,
            offering.id,
            command.account_id,
            command.domain_id,
            vpc_cidr(command.cidr),
            command.network_domain,
            offering.services,
            id=command.vpc_id,
        )
        return Outcome(store.last_position(store.save(vpc)), vpc.id)

    result: Outcome = store.run(attempt)
    return result


def update_vpc(store: Any, vpc_id: UUID, changes: dict[str, Any]) -> Outcome:
    return change(store, Vpc, vpc_id, lambda v: v.update(changes), what="vpc")


def restart_vpc(store: Any, vpc_id: UUID) -> Outcome:
    return change(store, Vpc, vpc_id, lambda v: v.restart(), what="vpc")


def delete_vpc(store: Any, vpc_id: UUID, public_ips: Sequence[UUID] = ()) -> Outcome:
    """Delete the VPC (refused while it has tiers) with its ACL lists, giving back its public
    addresses (`public_ips`, read by the caller, and its source NAT one) in the same save."""

    def attempt() -> Outcome:
        vpc: Vpc = store.get(Vpc, vpc_id, what="vpc")
        vpc.delete()
        wanted = list(dict.fromkeys(public_ips))
        source = vpc.source_nat_address
        if source is not None and source[0] not in wanted:
            wanted.append(source[0])
        released = released_with_network(store, wanted, vpc=True)
        gateway = gateway_gone_with_vpc(store, vpc.id)
        return Outcome(store.last_position(store.save(vpc, *released, *gateway)), vpc.id)

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class VpcSourceNat:
    """The VPC's source NAT address, taken from `pool` when it has none yet."""

    vpc_id: UUID
    pool: PublicPool


def ensure_source_nat(store: Any, command: VpcSourceNat) -> Outcome:
    """Give a starting VPC its source NAT address (once; 533 when the zone has none free)."""

    def attempt() -> Outcome:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        vpc.check_live()
        if vpc.source_nat_address is not None:
            return Outcome(0, vpc.source_nat_address[0])
        request = Acquire(
            vpc.zone_id, vpc.account_id, vpc.domain_id, None, command.pool, True, vpc_id=vpc.id
        )
        public: PublicIp = acquire_public_ip(store, request, seed=vpc.id)
        vpc.take_source_nat(public.id, public.address)
        return Outcome(store.last_position(store.save(vpc, public)), public.id)

    result: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return result


def vpc_router(store: Any, vpc_id: UUID) -> SystemVm | None:
    """The VPC's router that is not destroyed, if any."""
    return current_router(store, vpc_id)


# Tiers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierRequest:
    """What makes a new guest network a tier: its VPC, its ACL list (default_deny when none is
    named, as 4.3) and how many tiers a VPC may have (`vpc.max.networks`)."""

    vpc_id: UUID
    acl_id: UUID | None = None
    max_tiers: int = 3


def join_vpc(store: Any, network: Network, request: TierRequest) -> Vpc:
    """Check the new network against its VPC and record it as a tier of it (on both)."""
    vpc: Vpc = store.get(Vpc, request.vpc_id, what="vpc")
    vpc.check_live()
    if vpc.zone_id != network.zone_id:
        raise InvalidParameter(f"Network {network.name} must be in the zone of VPC {vpc.name}")
    if vpc.account_id != network.account_id:
        raise PermissionDenied(
            f"VPC {vpc.name} owner is different from the owner of network {network.name}"
        )
    offering: NetworkOffering = store.get(
        NetworkOffering, network.offering_id, what="network offering"
    )
    if not offering.for_vpc:
        raise InvalidParameter(f"Network offering {offering.name} can't be used for VPC networks")
    for service in offering.services:
        if service not in vpc.services:
            raise InvalidParameter(
                f"Service {service} of network offering {offering.name} is not supported by "
                f"VPC {vpc.name}"
            )
    acl_id = request.acl_id or DEFAULT_DENY.id
    tier = Tier(network.id, network.name, network.addressing.cidr, acl_id)
    vpc.add_tier(tier, request.max_tiers)
    network.join_vpc(vpc.id, acl_id)
    return vpc


def leave_vpc(store: Any, network: Network) -> list[Any]:
    """A deleted tier leaves its VPC (saved with the network)."""
    if network.vpc_id is None:
        return []
    vpc: Vpc = store.get(Vpc, network.vpc_id, what="vpc")
    vpc.remove_tier(network.id)
    return [vpc] if vpc.pending_events else []
