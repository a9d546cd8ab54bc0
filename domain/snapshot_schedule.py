"""When a recurring snapshot falls due: 4.3's schedule strings, read in the policy's timezone.

The schedule is "MM" for HOURLY, "MM:HH" for DAILY and "MM:HH:DD" for WEEKLY (DD the day of the
week, 1 Sunday to 7 Saturday) and MONTHLY (DD the day of the month, 1 to 28, as 4.3 allows).
Times are wall-clock times of the timezone: a daily policy at 02:30 fires at 02:30 local time on
both sides of a daylight-saving change; a wall time that a change skips fires at the same
instant shifted forward (02:30 becomes 03:30), and one that a change repeats fires once. An
hourly policy fires every real hour, at the local minute given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidParameter

HOURLY, DAILY, WEEKLY, MONTHLY = "HOURLY", "DAILY", "WEEKLY", "MONTHLY"
INTERVALS = (HOURLY, DAILY, WEEKLY, MONTHLY)
FIELDS = {HOURLY: 1, DAILY: 2, WEEKLY: 3, MONTHLY: 3}
LAST_MONTHLY_DAY = 28
# How far back the latest due time of each interval can lie (a month is at most 31 days; the
# margin covers a daylight-saving change).
LOOK_BACK_DAYS = {DAILY: 2, WEEKLY: 8, MONTHLY: 32}


@dataclass(frozen=True)
class Schedule:
    """A validated recurring schedule: `day` is a weekday (1 Sunday) or a day of the month."""

    interval: str
    minute: int
    hour: int
    day: int
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def latest_due(self, now: datetime) -> datetime:
        """The last time (UTC) at or before `now` when this schedule fell due."""
        now = now.astimezone(UTC).replace(second=0, microsecond=0)
        if self.interval == HOURLY:
            return self._latest_hourly(now)
        local_day = now.astimezone(self.zone).date()
        for back in range(LOOK_BACK_DAYS[self.interval] + 1):
            day = local_day - timedelta(days=back)
            if self._falls_on(day):
                due = self._at(day)
                if due <= now:
                    return due
        raise AssertionError("a schedule always falls due within its look-back")  # pragma: no cover

    def _latest_hourly(self, now: datetime) -> datetime:
        for back in range(60):
            candidate = now - timedelta(minutes=back)
            if candidate.astimezone(self.zone).minute == self.minute:
                return candidate
        raise AssertionError("every hour has each minute")  # pragma: no cover

    def _falls_on(self, day: date) -> bool:
        if self.interval == WEEKLY:
            return day.isoweekday() % 7 + 1 == self.day  # isoweekday: Monday 1 .. Sunday 7
        if self.interval == MONTHLY:
            return day.day == self.day
        return True

    def _at(self, day: date) -> datetime:
        """The local wall time on `day`, as an instant; a skipped wall time moves forward."""
        local = datetime(day.year, day.month, day.day, self.hour, self.minute, tzinfo=self.zone)
        return local.astimezone(UTC)


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(f"Unknown timezone {name}") from None
    return name


def parse_schedule(interval: str, schedule: str, timezone: str) -> Schedule:
    """The schedule of 4.3's `createSnapshotPolicy`, or InvalidParameter saying what is wrong."""
    kind = interval.upper()
    if kind not in INTERVALS:
        raise InvalidParameter(f"Unsupported interval type {interval}")
    parts = schedule.split(":")
    if len(parts) != FIELDS[kind] or not all(p.strip().isdigit() for p in parts):
        raise InvalidParameter(f"Incorrect schedule format {schedule} for interval type {kind}")
    numbers = [int(p) for p in parts] + [0, 0]
    minute, hour, day = numbers[0], numbers[1], numbers[2]
    if minute > 59 or hour > 23:
        raise InvalidParameter(f"Incorrect time in schedule {schedule}")
    if kind == WEEKLY and not 1 <= day <= 7:
        raise InvalidParameter(f"Incorrect day of week {day}: 1 (Sunday) to 7 (Saturday)")
    if kind == MONTHLY and not 1 <= day <= LAST_MONTHLY_DAY:
        raise InvalidParameter(
            f"Incorrect day of month {day}: a monthly schedule runs on day 1 to 28"
        )
    return Schedule(kind, minute, hour, day, check_timezone(timezone))
