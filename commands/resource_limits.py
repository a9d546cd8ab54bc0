"""Commands on resource limits: an account's or a domain's own limit of one resource type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.errors import NotFound
from domain.resource_limits import Ledger, resource_type


@dataclass(frozen=True)
class UpdateResourceLimit:
    owner_id: UUID
    owner_kind: str  # "account" or "domain"
    resource_type: int
    limit: int


def update_resource_limit(store: Any, command: UpdateResourceLimit) -> Outcome:
    """Set the owner's own limit in its ledger, where every request that holds more reads it."""
    kind = resource_type(command.resource_type)

    def attempt() -> Outcome:
        ledger = ledger_of(store, command.owner_id, command.owner_kind)
        ledger.set_limit(kind, command.limit)
        return Outcome(store.last_position(store.save(ledger)), ledger.id)

    result: Outcome = store.run(attempt)
    return result


def ledger_of(store: Any, owner_id: UUID, owner_kind: str) -> Ledger:
    try:
        ledger: Ledger = store.get(Ledger, Ledger.create_id(owner_id), what="resource ledger")
    except NotFound:
        ledger = Ledger(owner_id=owner_id, owner_kind=owner_kind)
    return ledger
