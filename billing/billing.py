"""The billing run: folds new usage facts into the stored ledger and closes ended periods.

Each transaction takes the billing row's lock, reads one page of usage facts after the stored
position, writes the ledger's changes and the new position; once it has reached the head of
the log it also closes every period that has ended by the clock, writing its records. So a
run stopped anywhere resumes after its last commit, and no record is ever written twice (the
records' primary key makes that a rule, not a hope).

Late facts (an event whose time falls in a period already closed: a slow commit, a clock
behind, a setting written with an older time) reopen billing from the period they fall in:
its records and the later ones are withdrawn and made again from the ledger, so the stored
records always equal a fresh replay of the same log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from billing.decode import FactReader
from domain.usage import load_extractors
from domain.usage_ledger import Ledger
from domain.usage_periods import Calendar, PeriodIndex, Totals, flatten, to_ms
from projections.usage import (
    BillingState,
    delete_records_from,
    load_ledger,
    lock_state,
    note_error,
    prune_spans,
    save_ledger,
    save_state,
    spans_during,
    write_records,
)
from stratus.db import Cursor, Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ALERT_TYPE, ALERT_NAME = 20, "ALERT.USAGE.RESULT"
PERIODS_PER_TRANSACTION = 31


@dataclass
class RunResult:
    events: int = 0
    periods: int = 0
    records: int = 0
    reopened: int = 0


def system_clock() -> datetime:
    return datetime.now(UTC)


class BillingRun:
    """One installation's billing: `run_once` (also generateUsageRecords) and the loop."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = system_clock,
        alert: Callable[[str], None] | None = None,
        page: int = 20000,
        interval: float = 5.0,
        stall_after: timedelta = timedelta(minutes=15),
    ) -> None:
        self.db, self.clock, self.alert = db, clock, alert or (lambda text: None)
        self.reader = FactReader(db.dialect, page=page)
        self.extractors = load_extractors()
        self.interval, self.stall_after = interval, stall_after
        self._cached: tuple[int, Ledger] | None = None  # (position, ledger) of the last commit
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.last_ok: datetime | None = None
        self._started_at = clock()
        self.failure: str | None = None
        self._stall_alerted = False

    # One run -------------------------------------------------------------------------

    def run_once(self, until: datetime | None = None, fail_after: int | None = None) -> RunResult:
        """Read the log to its head, then close the periods ended by now (and by `until`).

        `fail_after` (tests) raises after that many committed transactions: a killed run.
        """
        limit = to_ms(self.clock())
        if until is not None:
            limit = min(limit, to_ms(until))
        result, commits = RunResult(), 0
        with self._lock:
            while True:
                if fail_after is not None and commits >= fail_after:
                    raise RuntimeError("billing run interrupted")
                try:
                    done = self._step(limit, result)
                except BaseException:
                    self._cached = None  # the ledger in memory may hold what rolled back
                    raise
                commits += 1
                if done:
                    return result

    def _step(self, limit: int, result: RunResult) -> bool:
        with self.db.transaction() as cursor:
            state = lock_state(cursor)
            ledger = self._ledger(cursor, state)
            head = self.reader.head(cursor)
            batch, reached = self.reader.page_after(cursor, state.position, head)
            for topic, fields in batch:
                self.extractors[topic](ledger, fields)
            result.events += len(batch)
            state.position = max(reached, state.position)
            self._note_late(ledger, state)
            save_ledger(cursor, ledger)
            done = reached >= head
            if done:
                done = self._close(cursor, state, ledger, limit, result)
                state.last_success = self.clock().isoformat()
                state.last_error = None
            save_state(cursor, state)
        self._cached = (state.position, ledger)
        return done

    def _ledger(self, cursor: Cursor, state: BillingState) -> Ledger:
        if self._cached is not None and self._cached[0] == state.position:
            return self._cached[1]
        return load_ledger(cursor)  # first run, or another process advanced billing

    def _note_late(self, ledger: Ledger, state: BillingState) -> None:
        if ledger.first is not None and (state.origin_ms is None or ledger.first < state.origin_ms):
            calendar = Calendar(ledger.settings)
            if state.origin_ms is not None:
                state.reopen_from_ms = _earliest(state.reopen_from_ms, ledger.first)
            state.origin_ms = calendar.day_start(ledger.first)
        billed = state.billed_until_ms
        if ledger.earliest is not None and billed is not None and ledger.earliest < billed:
            state.reopen_from_ms = _earliest(state.reopen_from_ms, ledger.earliest)

    def _close(
        self, cursor: Cursor, state: BillingState, ledger: Ledger, limit: int, result: RunResult
    ) -> bool:
        """Close up to a month of ended periods; True when none is left to close."""
        if state.origin_ms is None:
            return True
        calendar = Calendar(ledger.settings)
        if state.reopen_from_ms is not None:
            result.reopened += self._reopen(cursor, state, calendar)
        start = state.billed_until_ms if state.billed_until_ms is not None else state.origin_ms
        periods = calendar.periods(start, limit)[:PERIODS_PER_TRANSACTION]
        if not periods:
            state.billed_until_ms = start
            return True
        index, totals = PeriodIndex.of(calendar, periods), Totals()
        for span in spans_during(cursor, periods[0][0], periods[-1][1]):
            index.add(span, totals)
        records = [(index.period(start), head, used) for start, head, used in flatten(totals)]
        result.records += write_records(cursor, records)
        result.periods += len(periods)
        state.billed_until_ms = periods[-1][1]
        return len(periods) < PERIODS_PER_TRANSACTION

    def _reopen(self, cursor: Cursor, state: BillingState, calendar: Calendar) -> int:
        """Withdraw the records from the period holding the earliest late fact onwards."""
        assert state.origin_ms is not None and state.reopen_from_ms is not None
        late = max(state.reopen_from_ms, state.raw_horizon_ms or state.origin_ms)
        state.reopen_from_ms = None
        if state.billed_until_ms is None or late >= state.billed_until_ms:
            return 0
        before = calendar.periods(state.origin_ms, late)
        restart = before[-1][1] if before else state.origin_ms
        withdrawn = delete_records_from(cursor, restart)
        log.info(
            "usage: late facts reopen billing from %s (%d records withdrawn)",
            datetime.fromtimestamp(restart / 1000, UTC).isoformat(),
            withdrawn,
        )
        state.billed_until_ms = restart
        return 1

    # Raw usage -----------------------------------------------------------------------

    def remove_raw(self, days: int) -> int:
        """Prune closed spans older than `days` that no period still to be closed needs."""
        cutoff = to_ms(self.clock() - timedelta(days=days))
        with self._lock, self.db.transaction() as cursor:
            state = lock_state(cursor)
            if state.billed_until_ms is None or state.origin_ms is None:
                return 0
            calendar = Calendar(load_ledger(cursor).settings)
            before = calendar.periods(state.origin_ms, min(cutoff, state.billed_until_ms))
            if not before:
                return 0
            horizon = before[-1][1]
            removed = prune_spans(cursor, horizon)
            state.raw_horizon_ms = max(horizon, state.raw_horizon_ms or horizon)
            save_state(cursor, state)
        self._cached = None
        return removed

    # The loop and its watchdog ---------------------------------------------------------

    def tick(self) -> None:
        """One run as the loop does it: a failure is logged and alerted, never fatal."""
        try:
            self.run_once()
        except Exception as error:  # a process boundary: keep the loop alive and say so
            self._failed(error)
            return
        self.last_ok, self.failure, self._stall_alerted = self.clock(), None, False

    def _failed(self, error: Exception) -> None:
        text = f"Usage billing run failed: {type(error).__name__}: {error}"
        log.exception("usage billing run failed; it will be retried")
        if self.failure != text:
            self.failure = text
            self._raise(text)
        try:
            with self.db.transaction() as cursor:
                note_error(cursor, text)
        except Exception:  # the database itself may be what failed
            log.warning("could not record the billing failure")

    def check_stall(self) -> bool:
        """Alert (once per episode) when no run has succeeded for `stall_after`."""
        now = self.clock()
        since = self.last_ok or self._started_at
        if now - since < self.stall_after or self._stall_alerted:
            return False
        self._stall_alerted = True
        self._raise(f"Usage billing has not completed a run since {since.isoformat()}")
        return True

    def _raise(self, text: str) -> None:
        try:
            self.alert(text)
        except Exception:
            log.exception("could not raise the usage alert: %s", text)

    def start(self) -> None:
        self._stop.clear()
        self._started_at = self.clock()
        for target, name in ((self._loop, "usage-billing"), (self._watch, "usage-watchdog")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval)

    def _watch(self) -> None:
        while not self._stop.wait(min(self.interval, 30.0)):
            self.check_stall()


def _earliest(current: int | None, candidate: int) -> int:
    return candidate if current is None else min(current, candidate)


def store_alert(store: Any) -> Callable[[str], None]:
    """Raise ALERT.USAGE.RESULT through the Alert aggregate, as the billing process."""

    def alert(text: str) -> None:
        from commands.alerts import RaiseAlert, raise_alert
        from stratus.store.audit import acting

        with acting(command="usage-billing"):
            raise_alert(store, RaiseAlert(ALERT_TYPE, ALERT_NAME, text))

    return alert
