"""Commands on configuration values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome
from domain.configuration import CLOUD_IDENTIFIER, GLOBAL, Configuration, definition


@dataclass(frozen=True)
class UpdateConfiguration:
    name: str
    value: str
    scope: str = GLOBAL
    scope_id: UUID | None = None


def update_configuration(store: Any, command: UpdateConfiguration) -> Outcome:
    definition(command.name)  # refuse unknown names before anything is written

    def attempt() -> Outcome:
        try:
            setting = store.repository.get(Configuration.create_id(command.name))
        except AggregateNotFoundError:
            setting = Configuration(command.name)
        setting.set(command.value, command.scope, command.scope_id)
        return Outcome(store.last_position(store.save(setting)), setting.id)

    return store.run(attempt)


def seed_cloud_identifier(store: Any) -> None:
    """Give the cloud its identifier at its first start (getCloudIdentifier answers it); one
    made before stays, whichever process starts first."""

    def attempt() -> Outcome:
        try:
            store.repository.get(Configuration.create_id(CLOUD_IDENTIFIER))
            return Outcome(0, None)
        except AggregateNotFoundError:
            setting = Configuration(CLOUD_IDENTIFIER)
        setting.set(str(uuid4()))
        return Outcome(store.last_position(store.save(setting)), setting.id)

    store.run(attempt)
