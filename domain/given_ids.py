"""Aggregates created with an id given by another system (a provisioning system's UUID)."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


def created(kind: type[A], given_id: UUID | None, **fields: Any) -> A:
    """A new `kind` made from `fields`, with `given_id` as its id when one is given. Its
    `Created` event is the one every `kind` records, so the log reads the same either way."""
    if given_id is None:
        return kind(**fields)
    made: A = kind._create(event_class=kind.Created, id=given_id, **fields)  # type: ignore[attr-defined]
    return made
