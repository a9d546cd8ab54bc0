"""Locking an account, given-when-then on the aggregate, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.account import Account, AccountState, AccountType
from domain.errors import InvalidState


def _account() -> Account:
    return Account("tenant", uuid4(), AccountType.USER, "")


def test_locking_an_enabled_account_records_it_locked() -> None:
    account = _account()
    account.lock()
    (locked,) = [e for e in account.collect_events() if isinstance(e, Account.Disabled)]
    assert locked.state == AccountState.LOCKED and account.state == AccountState.LOCKED


def test_locking_a_locked_account_records_nothing() -> None:
    account = _account()
    account.lock()
    account.collect_events()
    account.lock()
    assert account.collect_events() == [] and account.state == AccountState.LOCKED


def test_a_disabled_account_is_not_locked() -> None:
    account = _account()
    account.disable(lock=False)
    with pytest.raises(InvalidState, match="only an enabled one locks"):
        account.lock()
    assert account.state == AccountState.DISABLED


def test_a_removed_account_is_not_locked() -> None:
    account = _account()
    account.remove()
    with pytest.raises(InvalidState):
        account.lock()


def test_enabling_a_locked_account_unlocks_it() -> None:
    account = _account()
    account.lock()
    account.enable()
    assert account.state == AccountState.ENABLED
