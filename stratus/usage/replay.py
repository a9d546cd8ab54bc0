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

from domain.configuration import Configuration
from domain.usage import load_extractors
from domain.usage_ledger import Head, Ledger, Span
from domain.usage_periods import Calendar, Period, PeriodIndex, Totals, flatten
from domain.usage_settings import setting_changed
from stratus.db import Cursor
from stratus.usage.decode import FactReader

_Configuration: Any = Configuration
SETTINGS_TOPIC = get_topic(_Configuration.ValueSet)
Progress = Callable[[int, int, int], None]  # position, head, events read
Record = tuple[Period, Head, int]


@dataclass
class Replay:
    """The totals per period and head, and what the replay read to get them."""

    calendar: Calendar
    now: int
    ledger: Ledger = field(init=False)
    index: PeriodIndex | None = None
    totals: Totals = field(default_factory=dict)
    events_read: int = 0

    def __post_init__(self) -> None:
        self.ledger = Ledger(on_closed=self.add)

    def add(self, span: Span) -> None:
        if self.index is None:
            self.index = PeriodIndex(self.calendar, self.calendar.day_start(span.start), self.now)
        else:
            self.index.cover(span.start)
        self.index.add(span, self.totals)

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
) -> Replay:
    """Every usage total of the log up to position `until` (default: its head) by `now`."""
    facts = FactReader(dialect, page=page)
    extractors = load_extractors()
    with no_cycle_collection():
        return _replay(reader, facts, extractors, now, until, progress, page)


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


def _replay(
    reader: Callable[[], AbstractContextManager[Cursor]],
    facts: FactReader,
    extractors: dict[str, Any],
    now: int,
    until: int | None,
    progress: Progress | None,
    page: int,
) -> Replay:
    dialect = facts.dialect
    with reader() as cursor:
        head = until if until is not None else facts.head(cursor)
        settings = Ledger()
        for _, fields in FactReader(dialect, [SETTINGS_TOPIC], page).facts(cursor, 0, head):
            setting_changed(settings, fields)
        result = Replay(Calendar(settings.settings), now)
        ledger, after, read = result.ledger, 0, 0
        while after < head:
            batch, after = facts.page_after(cursor, after, head)
            for topic, fields in batch:
                extractors[topic](ledger, fields)
            read += len(batch)
            if progress is not None:
                progress(after, head, read)
    result.events_read = read
    result.finish()
    return result
