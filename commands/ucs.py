"""Commands on UCS managers: adding one with the blades it has (its url held by a name claim, so
one manager is added once), associating a profile to a blade, removing one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.names import claimed, released
from domain.ucs import UcsManager
from domain.values import Secret

URL_CLAIM = "ucs-manager-url"


@dataclass(frozen=True)
class AddUcsManager:
    manager_id: UUID
    zone_id: UUID
    name: str
    url: str
    username: str
    password: Secret
    blades: dict[str, str]  # blade id -> dn


def add_ucs_manager(store: Any, command: AddUcsManager) -> Outcome:
    def attempt() -> Outcome:
        claim = claimed(
            store,
            URL_CLAIM,
            command.url,
            command.manager_id,
            f"The UCS manager with url {command.url}",
        )
        manager = UcsManager(
            command.manager_id,
            command.zone_id,
            command.name,
            command.url,
            command.username,
            command.password,
            command.blades,
        )
        return Outcome(store.last_position(store.save(manager, claim)), manager.id)

    result: Outcome = store.run(attempt)
    return result


def manager(store: Any, manager_id: UUID) -> UcsManager:
    found: UcsManager = store.get(UcsManager, manager_id, what="UCS manager")
    return found


@dataclass(frozen=True)
class AssociateProfile:
    manager_id: UUID
    blade_id: UUID
    profile_dn: str


def associate_profile(store: Any, command: AssociateProfile) -> Outcome:
    def attempt() -> Outcome:
        found = manager(store, command.manager_id)
        found.associate(command.blade_id, command.profile_dn)
        return Outcome(store.last_position(store.save(found)), found.id)

    result: Outcome = store.run(attempt)
    return result


def remove_ucs_manager(store: Any, manager_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        found = manager(store, manager_id)
        found.remove()
        claim = released(store, URL_CLAIM, found.url)
        saved = store.save(found, *([claim] if claim else []))
        return Outcome(store.last_position(saved), found.id)

    result: Outcome = store.run(attempt)
    return result
