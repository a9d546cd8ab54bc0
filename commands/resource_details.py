"""Commands on resource details: add (or overwrite) keys of a resource, remove them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.errors import NotFound
from domain.resource_details import ResourceDetails, details_id


@dataclass(frozen=True)
class AddResourceDetails:
    resource_type: str
    resource_id: UUID
    account_id: UUID  # the resource's owner: users list the details of what they own
    domain_id: UUID
    details: dict[str, str] = field(default_factory=dict)
    display: bool = True


def add_details(store: Any, command: AddResourceDetails) -> Outcome:
    def attempt() -> Outcome:
        try:
            details = store.get(
                ResourceDetails, details_id(command.resource_type, command.resource_id)
            )
        except NotFound:  # the resource's first details
            details = ResourceDetails(
                command.resource_type, command.resource_id, command.account_id, command.domain_id
            )
        details.add(command.details, command.display)
        return Outcome(store.last_position(store.save(details)), details.id)

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class RemoveResourceDetails:
    resource_type: str
    resource_id: UUID
    key: str | None = None  # None: every key


def remove_details(store: Any, command: RemoveResourceDetails) -> Outcome:
    def attempt() -> Outcome:
        try:
            details = store.get(
                ResourceDetails, details_id(command.resource_type, command.resource_id)
            )
        except NotFound:  # nothing was ever added: nothing to remove
            return Outcome(0, None)
        details.remove(command.key)
        return Outcome(store.last_position(store.save(details)), details.id)

    result: Outcome = store.run(attempt)
    return result
