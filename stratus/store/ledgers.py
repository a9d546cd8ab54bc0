"""The resource ledgers a save carries along: each counted resource the save changes records its
new holding in the ledgers of its account and of the domains above it, and a holding beyond a
limit refuses the whole save (535), so concurrent requests never pass a limit together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.account import Account
from domain.configuration import Configuration, definition
from domain.domains import Domain
from domain.errors import NotFound
from domain.resource_limits import (
    Holding,
    Ledger,
    ResourceType,
    changes_holding,
    former_owners,
    holding,
    limited,
    setting_name,
)

Load = Callable[[type, UUID], Any]


@dataclass
class Owner:
    ledger: Ledger
    whose: str
    limit_of: Callable[[ResourceType], int]


def followed_ledgers(load: Load, aggregates: dict[UUID, Any], events: list[Any]) -> list[Ledger]:
    """The ledgers to save beside `aggregates`, their new holdings recorded (or a 535)."""
    by_aggregate: dict[UUID, list[Any]] = {}
    for e in events:
        by_aggregate.setdefault(e.originator_id, []).append(e)
    changed: dict[UUID, Ledger] = {}
    opened: dict[UUID, Ledger] = {}
    for aggregate in list(aggregates.values()):
        own_events = by_aggregate.get(aggregate.id, [])
        if not changes_holding(aggregate, {type(e).__name__ for e in own_events}):
            continue
        found = holding(aggregate)
        for ledger in _given_back(load, aggregate.id, found, own_events, opened):
            changed[ledger.id] = ledger
        if found is None:
            continue
        checked = limited(aggregate, own_events)
        for owner in _owners(load, found, opened):
            more = owner.ledger.more(aggregate.id, found.amounts)
            if checked:
                owner.ledger.check(more, owner.limit_of, owner.whose)
            if owner.ledger.hold(aggregate.id, found.amounts):
                changed[owner.ledger.id] = owner.ledger
    return list(changed.values())


def _given_back(
    load: Load, resource_id: UUID, found: Holding | None, events: list[Any], opened: dict
) -> list[Ledger]:
    """The ledgers of the owners the resource left, each now holding nothing of it."""
    changed = []
    for account_id, domain_id in former_owners(events):
        if found is not None and found.account_id == account_id:
            continue
        for owner in _owners(load, Holding(account_id, domain_id, {}), opened):
            if owner.ledger.hold(resource_id, {}):
                changed.append(owner.ledger)
    return changed


def _owners(load: Load, found: Holding, opened: dict[UUID, Ledger]) -> list[Owner]:
    """The account's ledger and those of its domain and the domains above (ROOT's excepted: it
    has no limit). A root administrator's resources are neither limited nor held."""
    account = _get(load, Account, found.account_id)
    if account is None or account.is_root_admin:
        return []
    # A project's account takes its default limits from `max.project.*`, as in 4.3.
    kind = "project" if account.is_project else "account"
    mine = _ledger(load, account.id, kind, opened)
    owners = [Owner(mine, f"{kind} {account.name}", _limit_of(load, kind, (mine,)))]
    chain: list[tuple[Ledger, str]] = []
    domain = _get(load, Domain, found.domain_id)
    while domain is not None and not domain.is_root:
        chain.append((_ledger(load, domain.id, "domain", opened), domain.name))
        domain = _get(load, Domain, domain.parent_id) if domain.parent_id else None
    ledgers = tuple(ledger for ledger, _ in chain)
    for place, (ledger, name) in enumerate(chain):
        owners.append(Owner(ledger, f"domain {name}", _limit_of(load, "domain", ledgers[place:])))
    return owners


def _limit_of(
    load: Load, kind_of_owner: str, upward: tuple[Ledger, ...]
) -> Callable[[ResourceType], int]:
    """The limit in force: the owner's own, else (for a domain) the nearest one above it that
    has its own, else the global default."""

    def limit(kind: ResourceType) -> int:
        for ledger in upward:
            own = ledger.own_limit(kind)
            if own is not None:
                return own
        return default_limit(load, kind_of_owner, kind)

    return limit


def default_limit(load: Load, kind_of_owner: str, kind: ResourceType) -> int:
    name = setting_name(kind_of_owner, kind)
    setting = _get(load, Configuration, Configuration.create_id(name))
    value = setting.values.get("global:") if setting is not None else None
    return int(value if value is not None else definition(name).default)


def _ledger(load: Load, owner_id: UUID, kind: str, opened: dict[UUID, Ledger]) -> Ledger:
    if owner_id not in opened:
        opened[owner_id] = _get(load, Ledger, Ledger.create_id(owner_id)) or Ledger(
            owner_id=owner_id, owner_kind=kind
        )
    return opened[owner_id]


def _get(load: Load, cls: type, aggregate_id: UUID) -> Any:
    try:
        return load(cls, aggregate_id)
    except NotFound:
        return None
