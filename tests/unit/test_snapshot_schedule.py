"""When a snapshot policy falls due: 4.3's schedule strings read in the policy's timezone,
across daylight-saving changes and month and year ends; and a policy takes each due time once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState
from domain.snapshot_policy import SnapshotPolicy, check_max_snaps, scheduled_snapshot_id
from domain.snapshot_schedule import parse_schedule


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_an_hourly_schedule_falls_due_at_its_minute_of_every_hour() -> None:
    plan = parse_schedule("hourly", "15", "UTC")
    assert plan.latest_due(utc(2026, 5, 1, 10, 14, 59)) == utc(2026, 5, 1, 9, 15)
    assert plan.latest_due(utc(2026, 5, 1, 10, 15, 30)) == utc(2026, 5, 1, 10, 15)


def test_an_hourly_schedule_counts_the_minute_in_a_half_hour_timezone() -> None:
    plan = parse_schedule("HOURLY", "0", "Asia/Kolkata")  # UTC+05:30
    assert plan.latest_due(utc(2026, 5, 1, 10, 45)) == utc(2026, 5, 1, 10, 30)


def test_an_hourly_schedule_fires_every_real_hour_through_the_autumn_change() -> None:
    plan = parse_schedule("HOURLY", "30", "America/New_York")
    # 1 November 2026: 01:00-02:00 EDT, then 01:00-02:00 EST again (05:00-07:00 UTC)
    dues = {plan.latest_due(utc(2026, 11, 1, 4, 31) + timedelta(hours=h)) for h in range(4)}
    assert dues == {utc(2026, 11, 1, h, 30) for h in (4, 5, 6, 7)}


def test_a_daily_schedule_keeps_its_wall_time_across_the_spring_change() -> None:
    plan = parse_schedule("DAILY", "00:03", "Europe/Berlin")
    assert plan.latest_due(utc(2026, 3, 28, 12)) == utc(2026, 3, 28, 2)  # CET, UTC+1
    assert plan.latest_due(utc(2026, 3, 29, 12)) == utc(2026, 3, 29, 1)  # CEST, UTC+2


def test_a_wall_time_the_spring_change_skips_fires_an_hour_later_that_day() -> None:
    plan = parse_schedule("DAILY", "30:02", "America/New_York")
    # 8 March 2026 has no 02:30 in New York: it fires at 03:30 EDT (07:30 UTC)
    assert plan.latest_due(utc(2026, 3, 8, 12)) == utc(2026, 3, 8, 7, 30)
    assert plan.latest_due(utc(2026, 3, 8, 7, 29)) == utc(2026, 3, 7, 7, 30)


def test_a_wall_time_the_autumn_change_repeats_fires_once() -> None:
    plan = parse_schedule("DAILY", "30:01", "America/New_York")
    first = plan.latest_due(utc(2026, 11, 1, 5, 31))  # 01:30 EDT
    assert first == utc(2026, 11, 1, 5, 30)
    assert plan.latest_due(utc(2026, 11, 1, 6, 31)) == first  # 01:30 EST is not a second run


def test_a_weekly_schedule_counts_days_from_sunday() -> None:
    plan = parse_schedule("WEEKLY", "00:12:1", "UTC")  # Sundays at noon
    # Wednesday 6 May 2026 -> Sunday 3 May
    assert plan.latest_due(utc(2026, 5, 6, 9)) == utc(2026, 5, 3, 12)
    saturday = parse_schedule("WEEKLY", "00:12:7", "UTC")
    assert saturday.latest_due(utc(2026, 5, 6, 9)) == utc(2026, 5, 2, 12)


def test_a_monthly_schedule_reaches_back_over_a_month_and_a_year_end() -> None:
    plan = parse_schedule("MONTHLY", "00:23:28", "UTC")
    assert plan.latest_due(utc(2027, 1, 3)) == utc(2026, 12, 28, 23)
    assert plan.latest_due(utc(2026, 3, 27)) == utc(2026, 2, 28, 23)  # February's 28th


def test_a_monthly_schedule_on_the_local_28th_may_fall_in_the_next_utc_month() -> None:
    plan = parse_schedule("MONTHLY", "30:22:28", "America/Los_Angeles")  # PST, UTC-8
    # 28 February 22:30 in Los Angeles is 1 March 06:30 UTC: not yet due at 1 March 00:00 UTC
    assert plan.latest_due(utc(2026, 3, 1)) == utc(2026, 1, 29, 6, 30)
    assert plan.latest_due(utc(2026, 3, 1, 7)) == utc(2026, 3, 1, 6, 30)


@pytest.mark.parametrize(
    ("interval", "schedule", "timezone"),
    [
        ("YEARLY", "0", "UTC"),
        ("HOURLY", "60", "UTC"),
        ("HOURLY", "10:02", "UTC"),
        ("DAILY", "10", "UTC"),
        ("DAILY", "10:24", "UTC"),
        ("DAILY", "aa:bb", "UTC"),
        ("WEEKLY", "0:10:8", "UTC"),
        ("WEEKLY", "0:10:0", "UTC"),
        ("MONTHLY", "0:10:29", "UTC"),
        ("DAILY", "0:10", "Mars/Olympus_Mons"),
        ("DAILY", "0:10", "../etc/passwd"),
    ],
)
def test_a_malformed_schedule_is_refused(interval: str, schedule: str, timezone: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_schedule(interval, schedule, timezone)


@pytest.mark.parametrize("max_snaps", [0, -1, 9])
def test_maxsnaps_is_between_one_and_eight(max_snaps: int) -> None:
    with pytest.raises(InvalidParameter):
        check_max_snaps(max_snaps, "DAILY")


def _policy(defined_at: datetime, max_snaps: int = 2) -> SnapshotPolicy:
    return SnapshotPolicy(
        uuid4(), uuid4(), uuid4(), uuid4(), "HOURLY", "0", "UTC", max_snaps, defined_at
    )


def test_a_policy_takes_each_due_time_once_and_none_from_before_it_was_defined() -> None:
    policy = _policy(utc(2026, 5, 1, 10, 30))
    assert not policy.is_due(utc(2026, 5, 1, 10))
    first = scheduled_snapshot_id(policy.id, utc(2026, 5, 1, 11))
    policy.record_taken(utc(2026, 5, 1, 11), first)
    with pytest.raises(InvalidState):
        policy.record_taken(utc(2026, 5, 1, 11), first)
    assert policy.is_due(utc(2026, 5, 1, 12))


def test_a_policy_names_its_oldest_snapshots_beyond_its_maximum() -> None:
    policy = _policy(utc(2026, 5, 1), max_snaps=2)
    taken = []
    for hour in (1, 2, 3):
        due = utc(2026, 5, 1, hour)
        taken.append(scheduled_snapshot_id(policy.id, due))
        policy.record_taken(due, taken[-1])
    assert policy.beyond_max() == taken[:1]
    policy.let_go(taken[:1])
    assert (policy.beyond_max(), policy.taken) == ([], taken[1:])


def test_a_deleted_policy_takes_nothing_until_it_is_defined_again_and_prunes_nothing_old() -> None:
    policy = _policy(utc(2026, 5, 1), max_snaps=1)
    for hour in (1, 2):
        policy.record_taken(utc(2026, 5, 1, hour), uuid4())
    policy.delete()
    assert policy.beyond_max() == []
    assert not policy.is_due(utc(2026, 5, 1, 5))
    policy.redefine("0", "UTC", 3, utc(2026, 5, 1, 6, 1))
    assert not policy.is_due(utc(2026, 5, 1, 6))
    assert policy.is_due(utc(2026, 5, 1, 7))


def _row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": str(uuid4()),
        "interval_type": "HOURLY",
        "schedule": "0",
        "timezone": "UTC",
        "max_snaps": 2,
        "defined_at": utc(2026, 5, 1, 9, 30).isoformat(),
        "last_due": None,
        "held": 0,
    }
    return row | changes


def test_a_scheduler_pass_takes_what_is_due_prunes_what_is_over_and_survives_errors() -> None:
    from domain.errors import NotFound
    from entrypoint.snapshot_scheduler import SnapshotScheduler

    due, done, over, gone = (
        _row(),
        _row(last_due=utc(2026, 5, 1, 12).isoformat()),
        _row(last_due=utc(2026, 5, 1, 12).isoformat(), held=3),
        _row(),
    )
    asked, pruned = [], []

    def take(policy_id, at):  # type: ignore[no-untyped-def]
        if str(policy_id) == gone["id"]:
            raise NotFound("Unable to find snapshot policy")
        asked.append((str(policy_id), at))
        return uuid4()

    scheduler = SnapshotScheduler(
        lambda: [due, done, over, gone],
        take,
        lambda policy_id: pruned.append(str(policy_id)),
        now=lambda: utc(2026, 5, 1, 12, 10),
    )
    taken = scheduler.pass_once()
    assert asked == [(due["id"], utc(2026, 5, 1, 12))]
    assert [str(p) for p, _ in taken] == [due["id"]]
    assert pruned == [over["id"]]
