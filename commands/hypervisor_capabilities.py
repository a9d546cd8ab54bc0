"""Commands on hypervisor capabilities: seed 4.3's rows once, change a row's limits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome
from domain.hypervisor_capabilities import HypervisorCapabilities, seeded_rows

CAPABILITIES_ID = HypervisorCapabilities.create_id([])


def seed_hypervisor_capabilities(store: Any) -> bool:
    """Record 4.3's rows when the log has none yet (two processes seeding at once write the
    same aggregate: one wins, the other finds it on its retry)."""

    def attempt() -> bool:
        try:
            store.repository.get(CAPABILITIES_ID)
        except AggregateNotFoundError:
            store.save(HypervisorCapabilities(seeded_rows()))
            return True
        return False

    created: bool = store.run(attempt)
    return created


def update_capabilities(
    store: Any, row_id: UUID, max_guests: int | None, security_groups: bool | None
) -> Outcome:
    def attempt() -> Outcome:
        try:
            capabilities = store.repository.get(CAPABILITIES_ID)
        except AggregateNotFoundError:
            capabilities = HypervisorCapabilities(seeded_rows())
        capabilities.update(row_id, max_guests, security_groups)
        return Outcome(store.last_position(store.save(capabilities)), row_id)

    result: Outcome = store.run(attempt)
    return result
