"""Commands on VPC offerings, and the default VPC offering 4.3 seeds, made on every start."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome, change
from commands.network_offerings import network_offering_seed_id
from domain.vpc_offering import VPC_SERVICES, VpcOffering, VpcOfferingTerms


@dataclass(frozen=True)
class CreateVpcOffering:
    terms: VpcOfferingTerms
    state: str = "Disabled"  # as 4.3: an operator enables a new offering when it is ready
    offering_id: UUID = field(default_factory=uuid.uuid4)


def create_vpc_offering(store: Any, command: CreateVpcOffering) -> Outcome:
    offering = VpcOffering(command.terms.checked(), command.state, False, id=command.offering_id)
    return Outcome(store.last_position(store.save(offering)), offering.id)


def update_vpc_offering(store: Any, offering_id: UUID, changes: dict[str, Any]) -> Outcome:
    return change(store, VpcOffering, offering_id, lambda o: o.update(changes), what="vpc offering")


def delete_vpc_offering(store: Any, offering_id: UUID, vpcs_using: int) -> Outcome:
    return change(
        store, VpcOffering, offering_id, lambda o: o.delete(vpcs_using), what="vpc offering"
    )


DEFAULT_VPC_OFFERING = VpcOfferingTerms(
    "Default VPC offering",
    "Default VPC offering",
    {service: ["VpcVirtualRouter"] for service in VPC_SERVICES},
)


def vpc_offering_seed_id(name: str) -> UUID:
    return network_offering_seed_id(f"vpc:{name}")


def seed_vpc_offerings(store: Any) -> int:
    """Create the default VPC offering when the log lacks it; its id derives from its name, so
    processes seeding at once write the same aggregate and one wins."""
    offering_id = vpc_offering_seed_id(DEFAULT_VPC_OFFERING.name)

    def attempt() -> int:
        try:
            store.repository.get(offering_id)
        except AggregateNotFoundError:
            terms = DEFAULT_VPC_OFFERING.checked()
            store.save(VpcOffering(terms, "Enabled", True, id=offering_id))
            return 1
        return 0

    result: int = store.run(attempt)
    return result
