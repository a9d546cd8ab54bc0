"""The ledgers a save carries along (stratus/store/ledgers.py), on aggregates kept in memory:
which ledgers a new VM is held in, which limit is in force for each, and who is not limited."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.account import Account, AccountType
from domain.configuration import Configuration
from domain.domains import Domain
from domain.errors import NotFound, ResourceAllocationFailed
from domain.resource_limits import Ledger, ResourceType
from domain.vm import VirtualMachine
from stratus.store.ledgers import followed_ledgers
from tests.unit.test_vm import shape


class Memory:
    """Aggregates by id, loaded as the store would (NotFound when absent)."""

    def __init__(self) -> None:
        self.kept: dict[UUID, Any] = {}

    def keep(self, *aggregates: Any) -> None:
        for aggregate in aggregates:
            aggregate.collect_events()
            self.kept[aggregate.id] = aggregate

    def load(self, cls: type, aggregate_id: UUID) -> Any:
        if aggregate_id not in self.kept:
            raise NotFound(f"no {cls.__name__}")
        return self.kept[aggregate_id]

    def save(self, *aggregates: Any) -> list[Ledger]:
        """What `EventStore.save` does with the ledgers: follow, then keep everything."""
        events = [e for a in aggregates for e in a.collect_events()]
        ledgers = followed_ledgers(self.load, {a.id: a for a in aggregates}, events)
        self.keep(*aggregates, *ledgers)
        return ledgers


def _tree(memory: Memory, account_type: int = AccountType.USER) -> tuple[Account, Domain, Domain]:
    root = Domain("ROOT", None, "/", "")
    team = Domain("team", root.id, "/team/", "")
    squad = Domain("squad", team.id, "/team/squad/", "")
    account = Account("alice", squad.id, account_type, "")
    memory.keep(root, team, squad, account)
    return account, team, squad


def _vm(account: Account) -> VirtualMachine:
    return VirtualMachine(
        uuid4(), "vm", "vm", "i-vm", account.id, account.domain_id, uuid4(), "", shape().facts()
    )


def _limit(memory: Memory, owner: UUID, kind: str, kind_of_owner: str, limit: int) -> None:
    try:
        ledger = memory.load(Ledger, Ledger.create_id(owner))
    except NotFound:
        ledger = Ledger(owner_id=owner, owner_kind=kind_of_owner)
    ledger.set_limit(ResourceType[kind], limit)
    memory.keep(ledger)


def test_a_vm_is_held_by_its_account_and_every_domain_above_but_root() -> None:
    memory = Memory()
    account, team, squad = _tree(memory)
    ledgers = memory.save(_vm(account))
    assert {ledger.owner_id for ledger in ledgers} == {account.id, squad.id, team.id}
    assert all(ledger.count(ResourceType.INSTANCE) == 1 for ledger in ledgers)


def test_a_domain_without_a_limit_takes_the_nearest_one_above() -> None:
    memory = Memory()
    account, team, _squad = _tree(memory)
    _limit(memory, team.id, "INSTANCE", "domain", 1)
    memory.save(_vm(account))
    with pytest.raises(ResourceAllocationFailed, match="domain squad"):
        memory.save(_vm(account))


def test_an_account_without_a_limit_takes_the_setting() -> None:
    memory = Memory()
    account, _team, _squad = _tree(memory)
    setting = Configuration("max.account.user.vms")
    setting.set("1")
    memory.keep(setting)
    memory.save(_vm(account))
    with pytest.raises(ResourceAllocationFailed, match="account alice"):
        memory.save(_vm(account))


def test_a_root_administrators_resources_are_neither_limited_nor_held() -> None:
    memory = Memory()
    account, team, _squad = _tree(memory, AccountType.ROOT_ADMIN)
    _limit(memory, team.id, "INSTANCE", "domain", 0)
    assert memory.save(_vm(account)) == []


def test_a_destroyed_vm_gives_back_what_it_held() -> None:
    memory = Memory()
    account, _team, _squad = _tree(memory)
    _limit(memory, account.id, "INSTANCE", "account", 1)
    first = _vm(account)
    memory.save(first)
    first.destroy("r1", None, False, None)
    memory.save(first)
    assert memory.load(Ledger, Ledger.create_id(account.id)).count(ResourceType.INSTANCE) == 0
    memory.save(_vm(account))
