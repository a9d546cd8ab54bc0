"""Commands on a VPC's private gateways and static routes, applied by the VPC's router with
its tiers' ACLs (commands.network_acls): Add until the router holds them, then Active.

A private gateway holds its VLAN on the physical network through a claim (as a shared network
does), so no guest network is given that VLAN while the gateway lives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands.network_acls import apply_or_settle, give_up_abandoned
from commands.network_claims import claim_exact, released
from commands.network_rules import Applying, JobSpec
from domain.network_acl import DEFAULT_DENY
from domain.network_claims import ClaimKind
from domain.vpc import PrivateGateway, StaticRoute, Vpc


@dataclass(frozen=True)
class CreatePrivateGateway:
    vpc_id: UUID
    physical_network_id: UUID
    vlan: str
    ip_address: str
    gateway: str
    netmask: str
    job: JobSpec
    acl_id: UUID | None = None
    gateway_id: UUID = field(default_factory=uuid.uuid4)
    source_nat: bool = False  # the tiers' traffic leaves through it with its address


def create_private_gateway(store: Any, command: CreatePrivateGateway) -> Applying:
    def attempt() -> Applying:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        give_up_abandoned(store, vpc)
        claim = claim_exact(
            store,
            ClaimKind.GUEST_VNET,
            command.physical_network_id,
            command.vlan,
            command.gateway_id,
            "vlan",
        )
        gateway = PrivateGateway(
            command.gateway_id,
            command.vlan,
            command.physical_network_id,
            command.ip_address,
            command.gateway,
            command.netmask,
            command.source_nat,
            command.acl_id or DEFAULT_DENY.id,
        )
        key = vpc.add_gateway(gateway)
        result = {"object": "privategateway", "id": str(gateway.id)}
        subject = (gateway.id, None)
        return apply_or_settle(store, vpc, command.job, subject, ((key,), ()), result, claim)

    outcome: Applying = store.run(attempt)
    return outcome


@dataclass(frozen=True)
class DeletePrivateGateway:
    vpc_id: UUID
    gateway_id: UUID
    job: JobSpec


def delete_private_gateway(store: Any, command: DeletePrivateGateway) -> Applying:
    """Revoke the gateway (refused while static routes lead through it); its VLAN is given
    back in the same save."""

    def attempt() -> Applying:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        give_up_abandoned(store, vpc)
        gateway = vpc.gateway(command.gateway_id)
        key = vpc.remove_gateway(gateway.id)
        claim = released(
            store, ClaimKind.GUEST_VNET, gateway.physical_network_id, gateway.vlan, gateway.id
        )
        others = [claim] if claim is not None else []
        subject = (gateway.id, None)
        return apply_or_settle(
            store, vpc, command.job, subject, ((), (key,)), {"success": True}, *others
        )

    outcome: Applying = store.run(attempt)
    return outcome


@dataclass(frozen=True)
class CreateStaticRoute:
    vpc_id: UUID
    gateway_id: UUID
    cidr: str
    job: JobSpec
    route_id: UUID = field(default_factory=uuid.uuid4)


def create_static_route(store: Any, command: CreateStaticRoute) -> Applying:
    def attempt() -> Applying:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        give_up_abandoned(store, vpc)
        key = vpc.add_route(StaticRoute(command.route_id, command.gateway_id, command.cidr))
        result = {"object": "staticroute", "id": str(command.route_id)}
        subject = (command.route_id, None)
        return apply_or_settle(store, vpc, command.job, subject, ((key,), ()), result)

    outcome: Applying = store.run(attempt)
    return outcome


@dataclass(frozen=True)
class DeleteStaticRoute:
    vpc_id: UUID
    route_id: UUID
    job: JobSpec


def delete_static_route(store: Any, command: DeleteStaticRoute) -> Applying:
    def attempt() -> Applying:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        give_up_abandoned(store, vpc)
        key = vpc.remove_route(command.route_id)
        subject = (command.route_id, None)
        return apply_or_settle(store, vpc, command.job, subject, ((), (key,)), {"success": True})

    outcome: Applying = store.run(attempt)
    return outcome
