"""Replaying the event log into usage records (read-only), the way the billing run makes them.

One pass over the usage topics folds the events into a `Ledger`; every span it closes is cut
into the periods that have ended by `now` straight away, so memory holds the totals, not the
spans. The periods come from the usage settings in the log (read first: a handful of events).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.utils import get_topic

from billing.decode import FactReader, Partition
from domain.configuration import Configuration
from domain.usage import load_extractors
from domain.usage_ledger import Head, Ledger, Span
from domain.usage_periods import Calendar, Period, PeriodIndex, Totals, flatten
from domain.usage_settings import setting_changed
from stratus.db import Cursor

_Configuration: Any = Configuration
SETTINGS_TOPIC = get_topic(_Configuration.ValueSet)
Progress = Callable[[int, int, int], None]  # position, head, events read
Record = tuple[Period, Head, int]


@dataclass
class Replay:
    """The totals per period and head, and what the replay read to get them."""

    calendar: Calendar
    now: int
    owns: Callable[[str], bool] | None = None  # only these resources' usage (one partition)
    ledger: Ledger = field(init=False)
    index: PeriodIndex | None = None
    totals: Totals = field(default_factory=dict)
    events_read: int = 0

    def __post_init__(self) -> None:
        self.ledger = Ledger(on_closed=self.add, owns=self.owns)

    def add(self, span: Span) -> None:
        index = self.index
        if index is None:
            index = self.index = PeriodIndex(
                self.calendar, self.calendar.day_start(span.start), self.now
            )
        elif span.start < index.origin:
            index.cover(span.start)
        index.add(span, self.totals)

    def finish(self) -> None:
        """Spans still open count up to the end of the last period that has ended."""
        for key in sorted(self.ledger.open):
            self.add(self.ledger.open[key])

    def records(self, first: int | None = None, last: int | None = None) -> list[Record]:
        """Sorted records of the periods within [first, last) (epoch ms; None: unbounded)."""
        if self.index is None:
            return []
        index = self.index
        with no_cycle_collection():
            return self._records(index, first, last)

    def _records(self, index: PeriodIndex, first: int | None, last: int | None) -> list[Record]:
        chosen = [
            (start, head, quantity)
            for start, head, quantity in flatten(self.totals)
            if (first is None or start >= first)
            and (last is None or index.period(start)[1] <= last)
        ]
        return [(index.period(start), head, quantity) for start, head, quantity in chosen]


def replay(
    reader: Callable[[], AbstractContextManager[Cursor]],
    dialect: str,
    now: int,
    *,
    until: int | None = None,
    progress: Progress | None = None,
    page: int = 20000,
    partition: Partition | None = None,
) -> Replay:
    """Every usage total of the log up to position `until` (default: its head) by `now` (of
    the resources of `partition` only, when given: `billing.parallel`)."""
    with no_cycle_collection(), reader() as cursor:
        head = until if until is not None else FactReader(dialect, page=page).head(cursor)
        result = Replay(
            usage_calendar(cursor, dialect, head, page), now, partition and partition.owns
        )
        facts = FactReader(dialect, page=page, partition=partition)
        extractors = load_extractors()
        ledger, after, read, shared = result.ledger, 0, 0, facts.shared
        fields = facts.fields
        while after < head:
            rows, after = facts.rows_after(cursor, after, head)
            for row in rows:
                extractors[row[2]](ledger, fields(row))
            read += (
                len(rows)
                if partition is None or partition.index == 0
                else sum(1 for row in rows if row[2] not in shared)
            )
            if progress is not None:
                progress(after, head, read)
        result.events_read = read
        result.finish()
        return result


def usage_calendar(cursor: Cursor, dialect: str, until: int, page: int = 20000) -> Calendar:
    """The aggregation periods as the usage settings in the log up to `until` make them."""
    settings = Ledger()
    for _, fields in FactReader(dialect, [SETTINGS_TOPIC], page).facts(cursor, 0, until):
        setting_changed(settings, fields)
    return Calendar(settings.settings)


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Millions of small tuples and dicts, none in a cycle: the cyclic collector would only
    rescan them, again and again, as they pile up."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
