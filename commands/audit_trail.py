"""Archiving and deleting audit entries: recorded on the owners' audit trails, never erased."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.audit_trail import AuditTrail
from domain.errors import NotFound


@dataclass(frozen=True)
class HideEntries:
    """Archive (or delete) these audit entries, grouped by the account that owns them."""

    entries: dict[UUID, tuple[str, ...]]
    delete: bool = False


def hide_entries(store: Any, command: HideEntries) -> Outcome:
    def attempt() -> Outcome:
        trails = []
        for account_id, entry_ids in command.entries.items():
            trail = _trail(store, account_id)
            if command.delete:
                trail.delete(entry_ids)
            else:
                trail.archive(entry_ids)
            trails.append(trail)
        return Outcome(store.last_position(store.save(*trails)))

    return store.run(attempt)


def _trail(store: Any, account_id: UUID) -> AuditTrail:
    try:
        return store.get(AuditTrail, AuditTrail.create_id(account_id))
    except NotFound:
        return AuditTrail(account_id)
