"""Command on a resource's display flag: show it to its end users or hide it from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.errors import NotFound
from domain.resource_display import ResourceDisplay, display_id


@dataclass(frozen=True)
class SetDisplay:
    resource_type: str  # 4.3's name of the kind of resource, as its events and lists name it
    resource_id: UUID
    display: bool


def set_display(store: Any, command: SetDisplay) -> Outcome:
    def attempt() -> Outcome:
        try:
            flag = store.get(ResourceDisplay, display_id(command.resource_id))
        except NotFound:  # the first time the resource's flag is set
            flag = ResourceDisplay(command.resource_type, command.resource_id, command.display)
        flag.set(command.display)
        return Outcome(store.last_position(store.save(flag)), flag.id)

    result: Outcome = store.run(attempt)
    return result
