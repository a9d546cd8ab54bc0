"""The account cleanup's order and retries, over fakes of the read models and the commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from entrypoint.account_cleanup import AccountCleanup
from projections.account_leftovers import Leftover, first_steps


def _leftover(account: str, step: int, command: str, ident: str) -> Leftover:
    return Leftover(account, step, command, (("id", ident),))


def test_each_account_goes_step_by_step() -> None:
    found = [
        _leftover("a", 2, "deleteNetwork", "n1"),
        _leftover("a", 0, "destroyVirtualMachine", "v1"),
        _leftover("b", 2, "deleteNetwork", "n2"),
        _leftover("b", 4, "deleteTemplate", "t1"),
    ]
    assert [f.params[0][1] for f in first_steps(found)] == ["v1", "n2"]


def test_a_leftover_is_tried_at_once_and_again_only_after_the_interval() -> None:
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    left = [_leftover("a", 0, "destroyVirtualMachine", "v1")]
    tried: list[str] = []

    def remove(leftover: Leftover) -> None:
        tried.append(leftover.command)
        raise RuntimeError("the host did not answer")

    cleanup = AccountCleanup(lambda: 60, lambda: list(left), remove, now=lambda: clock[0])
    assert len(cleanup.pass_once()) == 1
    clock[0] += timedelta(seconds=30)
    assert cleanup.pass_once() == []  # refused a moment ago: not yet
    clock[0] += timedelta(seconds=30)
    assert len(cleanup.pass_once()) == 1
    left.clear()
    assert cleanup.pass_once() == [] and tried == ["destroyVirtualMachine"] * 2


def test_a_disabled_accounts_stops_are_retried_only_after_an_interval() -> None:
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    marked = Leftover("a", 0, "disableAccount", (("id", "a"), ("lock", "false")), deferred=True)
    left = [marked]
    tried: list[Leftover] = []
    cleanup = AccountCleanup(lambda: 60, lambda: list(left), tried.append, now=lambda: clock[0])
    assert cleanup.pass_once() == []  # its disabling just failed: not again at once
    clock[0] += timedelta(seconds=59)
    assert cleanup.pass_once() == []
    clock[0] += timedelta(seconds=1)
    assert cleanup.pass_once() == [marked] and tried == [marked]
