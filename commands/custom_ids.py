"""Giving a resource a custom id: the id is claimed in the log, once and for ever."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome, check_fresh
from domain.custom_ids import CustomId
from domain.given_ids import created


@dataclass(frozen=True)
class GiveCustomId:
    custom_id: UUID
    resource_id: UUID
    resource_type: str


def give_custom_id(store: Any, command: GiveCustomId) -> Outcome:
    """Record that the resource answers to `custom_id`; refused (431) when anything in the log
    ever had that id, checked inside the attempt so a concurrent claim makes the retry see it."""

    def attempt() -> Outcome:
        check_fresh(store, command.custom_id)
        given = created(
            CustomId,
            command.custom_id,
            resource_id=command.resource_id,
            resource_type=command.resource_type,
        )
        return Outcome(store.last_position(store.save(given)), command.resource_id)

    result: Outcome = store.run(attempt)
    return result
