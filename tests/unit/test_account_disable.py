"""What a disabling stopped, recorded on the account: given-when-then on the aggregate."""

from __future__ import annotations

from uuid import uuid4

from domain.account import Account, AccountType


def _disabled() -> Account:
    account = Account("tenant", uuid4(), AccountType.USER, "")
    account.disable(lock=False)
    account.collect_events()
    return account


def test_stops_that_did_not_all_succeed_mark_the_account_once() -> None:
    account = _disabled()
    account.record_stops(complete=False)
    account.record_stops(complete=False)
    (marked,) = account.collect_events()
    assert isinstance(marked, Account.CleanupMarked) and marked.required is True
    assert account.needs_cleanup


def test_stops_that_all_succeeded_record_nothing_on_an_unmarked_account() -> None:
    account = _disabled()
    account.record_stops(complete=True)
    assert account.collect_events() == [] and not account.needs_cleanup


def test_a_later_complete_disabling_or_an_enabling_clears_the_mark() -> None:
    account = _disabled()
    account.record_stops(complete=False)
    account.record_stops(complete=True)
    assert not account.needs_cleanup
    account.record_stops(complete=False)
    account.enable()
    assert not account.needs_cleanup
    assert [type(e).__name__ for e in account.collect_events()] == [
        "CleanupMarked",
        "CleanupMarked",
        "CleanupMarked",
        "Enabled",
        "CleanupMarked",
    ]
