"""Commands on what a physical network carries: traffic types, service providers and their
router elements. Each is one change of the PhysicalNetwork aggregate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome, change
from domain.network_physical import PhysicalNetwork
from domain.network_providers import Labels

WHAT = "physical network"


@dataclass(frozen=True)
class AddTrafficType:
    physical_network_id: UUID
    traffic_type: str
    labels: Labels = field(default_factory=Labels)
    vlan: str | None = None
    isolation: str | None = None
    traffic_type_id: UUID = field(default_factory=uuid.uuid4)


def add_traffic_type(store: Any, command: AddTrafficType) -> Outcome:
    outcome = change(
        store,
        PhysicalNetwork,
        command.physical_network_id,
        lambda p: p.add_traffic_type(
            command.traffic_type_id,
            command.traffic_type,
            command.labels,
            command.vlan,
            command.isolation,
        ),
        what=WHAT,
    )
    return Outcome(outcome.position, command.traffic_type_id)


def update_traffic_type(
    store: Any, physical_network_id: UUID, traffic_type_id: UUID, labels: Labels
) -> Outcome:
    return change(
        store,
        PhysicalNetwork,
        physical_network_id,
        lambda p: p.update_traffic_type(traffic_type_id, labels),
        what=WHAT,
    )


def delete_traffic_type(
    store: Any, physical_network_id: UUID, traffic_type_id: UUID, users: int
) -> Outcome:
    return change(
        store,
        PhysicalNetwork,
        physical_network_id,
        lambda p: p.delete_traffic_type(traffic_type_id, users),
        what=WHAT,
    )


@dataclass(frozen=True)
class AddProvider:
    physical_network_id: UUID
    name: str
    services: list[str] | None = None
    provider_id: UUID = field(default_factory=uuid.uuid4)


def add_provider(store: Any, command: AddProvider) -> Outcome:
    outcome = change(
        store,
        PhysicalNetwork,
        command.physical_network_id,
        lambda p: p.add_provider(command.provider_id, command.name, command.services),
        what=WHAT,
    )
    return Outcome(outcome.position, command.provider_id)


@dataclass(frozen=True)
class UpdateProvider:
    physical_network_id: UUID
    provider_id: UUID
    state: str | None = None
    services: list[str] | None = None


def update_provider(store: Any, command: UpdateProvider) -> Outcome:
    return change(
        store,
        PhysicalNetwork,
        command.physical_network_id,
        lambda p: p.update_provider(command.provider_id, command.state, command.services),
        what=WHAT,
    )


def delete_provider(
    store: Any, physical_network_id: UUID, provider_id: UUID, networks_using: int
) -> Outcome:
    return change(
        store,
        PhysicalNetwork,
        physical_network_id,
        lambda p: p.delete_provider(provider_id, networks_using),
        what=WHAT,
    )


@dataclass(frozen=True)
class CreateRouterElement:
    physical_network_id: UUID
    provider_id: UUID
    provider_type: str | None = None
    element_id: UUID = field(default_factory=uuid.uuid4)


def create_router_element(store: Any, command: CreateRouterElement) -> Outcome:
    outcome = change(
        store,
        PhysicalNetwork,
        command.physical_network_id,
        lambda p: p.create_router_element(
            command.element_id, command.provider_id, command.provider_type
        ),
        what=WHAT,
    )
    return Outcome(outcome.position, command.element_id)


def create_internal_lb_element(store: Any, command: CreateRouterElement) -> Outcome:
    """The element of an InternalLbVm provider (`provider_type` is not used)."""
    outcome = change(
        store,
        PhysicalNetwork,
        command.physical_network_id,
        lambda p: p.create_internal_lb_element(command.element_id, command.provider_id),
        what=WHAT,
    )
    return Outcome(outcome.position, command.element_id)


def configure_router_element(
    store: Any, physical_network_id: UUID, element_id: UUID, enabled: bool
) -> Outcome:
    return change(
        store,
        PhysicalNetwork,
        physical_network_id,
        lambda p: p.configure_router_element(element_id, enabled),
        what=WHAT,
    )
