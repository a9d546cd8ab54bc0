"""Aggregation periods and cutting spans into them (pure).

Periods tile time from local midnight of the first usage: each is `range` minutes long in the
usage time zone, a run of them restarts at every local midnight (so daily and hourly ranges
line up with the calendar, and a period never spans two days, even across DST), and the range
and zone are those in effect at the period's start. A setting changed mid-period applies from
the next period on. All instants are epoch milliseconds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.configuration import DEFINITIONS
from domain.usage_ledger import Head, Span
from domain.usage_settings import RANGE, TIMEZONE

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

Period = tuple[int, int, str]  # start, end (exclusive), time zone name


def to_ms(moment: datetime) -> int:
    return (moment - EPOCH) // _MS


def from_ms(ms: int, zone: Any = UTC) -> datetime:
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(zone)


class Calendar:
    """The usage settings as they changed over time, and the periods they make."""

    def __init__(self, settings: Iterable[tuple[int, str, str]] = ()) -> None:
        self.changes = sorted(settings, key=lambda change: change[0])  # stable: log order
        self._at = [change[0] for change in self.changes]

    def settings_at(self, at: int) -> tuple[int, str]:
        """(range in minutes, zone name) in effect at `at`."""
        values = {RANGE: DEFINITIONS[RANGE].default, TIMEZONE: DEFINITIONS[TIMEZONE].default}
        for _, name, value in self.changes[: bisect_right(self._at, at)]:
            values[name] = value
        return max(int(values[RANGE]), 1), values[TIMEZONE]

    def day_start(self, at: int) -> int:
        """Local midnight at or before `at`, in the zone in effect then."""
        zone = ZoneInfo(self.settings_at(at)[1])
        day = from_ms(at, zone).date()
        return to_ms(datetime.combine(day, time(), tzinfo=zone))

    def period_from(self, start: int) -> Period:
        """The period that starts at `start`."""
        minutes, zone_name = self.settings_at(start)
        zone = ZoneInfo(zone_name)
        day = from_ms(start, zone).date()
        midnight = to_ms(datetime.combine(day, time(), tzinfo=zone))
        next_midnight = to_ms(datetime.combine(day + timedelta(days=1), time(), tzinfo=zone))
        step = minutes * 60_000
        end = midnight + ((start - midnight) // step + 1) * step
        return start, min(end, next_midnight), zone_name

    def periods(self, origin: int, until: int) -> list[Period]:
        """Consecutive periods from `origin` whose ends are not after `until`."""
        found: list[Period] = []
        start = origin
        while True:
            period = self.period_from(start)
            if period[1] > until:
                return found
            found.append(period)
            start = period[1]


Totals = dict[Head, dict[int, int]]  # head: {period start: milliseconds or bytes}


class PeriodIndex:
    """Consecutive periods that have ended by `until`, found by bisection.

    A replay learns where usage begins as it reads; a span older than the first period
    extends the index backwards (periods restart at local midnight, so the later ones stay
    the same).
    """

    def __init__(self, calendar: Calendar, origin: int, until: int) -> None:
        self.calendar, self.until = calendar, until
        self.periods = calendar.periods(origin, until)
        self.origin = origin
        self._reindex()

    @classmethod
    def of(cls, calendar: Calendar, periods: list[Period]) -> PeriodIndex:
        index = cls.__new__(cls)
        index.calendar, index.periods = calendar, list(periods)
        index.origin = periods[0][0] if periods else 0
        index.until = periods[-1][1] if periods else 0
        index._reindex()
        return index

    def _reindex(self) -> None:
        self.starts = [period[0] for period in self.periods]
        self.ends = [period[1] for period in self.periods]
        self.last = self.ends[-1] if self.ends else self.origin

    def cover(self, at: int) -> None:
        """Make sure periods start no later than local midnight before `at`."""
        if at >= self.origin:
            return
        origin = self.calendar.day_start(at)
        earlier = self.calendar.periods(origin, min(self.origin, self.until))
        self.periods = earlier + self.periods
        self.origin = origin
        self._reindex()

    def add(self, span: Span, totals: Totals) -> None:
        """Add the span's overlap with each period (or its amount, in the period it is in)."""
        starts, ends, start = self.starts, self.ends, span.start
        index = bisect_right(starts, start) - 1
        per_period = totals.get(span.head)
        if per_period is None:
            per_period = totals[span.head] = {}
        if span.amount is not None:
            if index >= 0 and start < ends[index]:
                begin = starts[index]
                per_period[begin] = per_period.get(begin, 0) + span.amount
            return
        end = self.last if span.end is None else min(span.end, self.last)
        index = max(index, 0)
        count = len(starts)
        while index < count and starts[index] < end:
            begin, finish = starts[index], ends[index]
            used = (end if end < finish else finish) - (start if start > begin else begin)
            if used > 0:
                per_period[begin] = per_period.get(begin, 0) + used
            index += 1

    def period(self, start: int) -> Period:
        return self.periods[bisect_right(self.starts, start) - 1]


def flatten(totals: Totals) -> list[tuple[int, Head, int]]:
    """(period start, head, quantity) of every non-empty total, in record order: by period,
    then type, resource, sub-resource, terms and owner."""
    rank = {head: n for n, head in enumerate(sorted(totals, key=head_sort_key))}
    found = [
        (start, head, used)
        for head, per_period in totals.items()
        for start, used in per_period.items()
        if used
    ]
    found.sort(key=lambda item: (item[0], rank[item[1]]))
    return found


def head_sort_key(head: Head) -> tuple[Any, ...]:
    return (head[0], head[1], head[2], repr(head[7]), repr(head[3:7]))
