"""Command handlers: load aggregates, call one domain method, save. One module per family."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from uuid import UUID

from domain.errors import InvalidParameter, NotFound


@dataclass(frozen=True)
class Outcome:
    """What a command leaves behind: the log position to wait for, and what it created."""

    position: int
    id: UUID | None = None


def change(
    store: Any, kind: type, aggregate_id: UUID, mutate: Callable[[Any], Any], *, what: str = ""
) -> Outcome:
    """The commonest command: load one aggregate, call one domain method, save (with retries)."""

    def attempt() -> Outcome:
        aggregate = store.get(kind, aggregate_id, what=what or kind.__name__.lower())
        mutate(aggregate)
        return Outcome(store.last_position(store.save(aggregate)), aggregate.id)

    result: Outcome = store.run(attempt)
    return result


def change_singleton(store: Any, kind: Any, mutate: Callable[[Any], Any], *, what: str) -> Outcome:
    """Change the one aggregate of a kind the cloud has (its id from `kind.create_id()`),
    started on first use: load it or start it, call one domain method, save (with retries)."""

    def attempt() -> Outcome:
        try:
            aggregate = store.get(kind, kind.create_id(), what=what)
        except NotFound:
            aggregate = kind()
        mutate(aggregate)
        return Outcome(store.last_position(store.save(aggregate)), aggregate.id)

    result: Outcome = store.run(attempt)
    return result


def id_taken(store: Any, aggregate_id: UUID) -> bool:
    """Whether anything in the cloud, now or ever, has `aggregate_id` (an id given from outside
    for a new aggregate must be new: the log keeps every id it was given)."""
    return bool(store.recorder.select_events(aggregate_id, limit=1))


def check_fresh(store: Any, given_id: UUID | None) -> None:
    """Refuse an id given for a new aggregate that the cloud has had; checked inside the
    command's attempt, so a retry after a concurrent save of that id sees it taken."""
    if given_id is not None and id_taken(store, given_id):
        raise InvalidParameter(
            f"UUID: {given_id} already exists so can't create/update with custom id"
        )


def families() -> list[ModuleType]:
    """Every module of the command layer, in name order: where the result consumer and the
    outbox relay find each family's `RESULT_HANDLERS`, `FOLLOW_UPS` and `OUTBOX_ROUTES`."""
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    ]
