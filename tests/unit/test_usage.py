"""VM usage from lifecycle events: running and allocated hours per aggregation period."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.usage import (
    ALLOCATED_VM,
    RUNNING_VM,
    hours_text,
    periods,
    usage_records,
    vm_intervals,
)
from domain.vm import VirtualMachine
from stratus.usage.replay import LogFacts, records_between, render
from tests.support.usage_scenario import (
    BERLIN,
    CUSTOM,
    DB_SMALL,
    EXPECTED,
    WEB_A,
    VmScript,
    scenario,
)

LATER = datetime(2026, 2, 1, tzinfo=UTC)


def _facts(events: list, zone: str = "Europe/Berlin", minutes: int = 1440) -> LogFacts:
    facts = LogFacts(vm_events=events)
    facts.settings.update(
        {"usage.aggregation.timezone": zone, "usage.stats.job.aggregation.range": str(minutes)}
    )
    return facts


def test_daily_records_equal_the_hand_computed_hours_in_the_usage_zone() -> None:
    records = records_between(_facts(scenario()), date(2026, 1, 9), date(2026, 1, 13), LATER)
    got = {
        (
            r.period.start.astimezone(BERLIN).date().isoformat(),
            r.usage_type,
            r.vm.name,
            r.compute.offering_id,
            r.compute.cpu_number,
        ): hours_text(r.hours)
        for r in records
    }
    assert got == EXPECTED


def test_a_record_prints_as_cloudstack_with_custom_values_only_for_custom_offerings() -> None:
    facts = _facts(scenario())
    facts.accounts[scenario()[0].owner_account_id] = "acme"
    items = [
        render(r, facts) for r in records_between(facts, date(2026, 1, 11), LATER.date(), LATER)
    ]
    web = next(i for i in items if i["name"] == "web" and i["rawusage"] == "2.5")
    assert web["usagetype"] == RUNNING_VM
    assert web["usage"] == "2.5 Hrs"
    assert web["account"] == "acme"
    assert web["startdate"] == "2026-01-11'T'00:00:00+01:00"
    assert web["enddate"] == "2026-01-11'T'23:59:59+01:00"
    assert (web["cpunumber"], web["cpuspeed"], web["memory"]) == (2, 1000, 2048)
    assert web["offeringid"] == str(CUSTOM) and web["type"] == "KVM"
    assert web["description"].startswith("web running time (ServiceOffering: ")
    db = next(i for i in items if i["name"] == "db" and i["usagetype"] == ALLOCATED_VM)
    assert "cpunumber" not in db
    assert db["description"].startswith("db allocated (ServiceOffering: ")


def test_hourly_periods_charge_only_the_overlap() -> None:
    vm = (
        VmScript("hourly")
        .deploy("2026-01-15 10:20", WEB_A)
        .then(VirtualMachine.Started, "2026-01-15 10:20", WEB_A, host_id=None)
        .then(VirtualMachine.Stopped, "2026-01-15 11:10", WEB_A)
    )
    chosen = periods(date(2026, 1, 15), date(2026, 1, 15), 60, BERLIN)
    running = [
        (r.period.start.astimezone(BERLIN).hour, hours_text(r.hours))
        for r in usage_records(vm_intervals(vm.events), chosen, LATER)
        if r.usage_type == RUNNING_VM
    ]
    assert len(chosen) == 24
    assert running == [(10, ".666667"), (11, ".166667")]


def test_a_daily_period_on_a_dst_night_is_as_long_as_the_day() -> None:
    vm = VmScript("dst").deploy("2026-03-28 12:00", DB_SMALL)
    chosen = periods(date(2026, 3, 29), date(2026, 3, 29), 1440, BERLIN)
    records = usage_records(vm_intervals(vm.events), chosen, LATER.replace(month=5))
    assert [hours_text(r.hours) for r in records] == ["23"]


def test_a_still_running_vm_is_charged_only_for_periods_that_have_ended() -> None:
    vm = (
        VmScript("busy")
        .deploy("2026-01-15 00:00", DB_SMALL)
        .then(VirtualMachine.Started, "2026-01-15 06:00", DB_SMALL, host_id=None)
    )
    now = datetime(2026, 1, 16, 12, 0, tzinfo=BERLIN)
    records = records_between(_facts(vm.events), date(2026, 1, 15), date(2026, 1, 16), now)
    assert {(r.usage_type, hours_text(r.hours)) for r in records} == {
        (ALLOCATED_VM, "24"),
        (RUNNING_VM, "18"),
    }


def test_a_recovered_vm_is_allocated_again_from_its_recovery() -> None:
    vm = (
        VmScript("back")
        .deploy("2026-01-15 00:00", DB_SMALL)
        .then(VirtualMachine.Destroyed, "2026-01-15 06:00", DB_SMALL)
        .then(VirtualMachine.Recovered, "2026-01-15 18:00", DB_SMALL)
    )
    chosen = periods(date(2026, 1, 15), date(2026, 1, 15), 1440, BERLIN)
    records = usage_records(vm_intervals(vm.events), chosen, LATER)
    assert [(r.usage_type, hours_text(r.hours)) for r in records] == [(ALLOCATED_VM, "12")]


def test_hours_print_as_javas_decimal_format() -> None:
    assert hours_text(Decimal(0)) == "0"
    assert hours_text(Decimal(24)) == "24"
    assert hours_text(Decimal("0.5")) == ".5"
    assert hours_text(Decimal(1) / 3) == ".333333"
    assert hours_text(Decimal("2.0000005")) == "2"


def test_periods_are_aligned_to_midnight_in_the_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    (period,) = periods(date(2026, 1, 1), date(2026, 1, 1), 1440, tokyo)
    assert period.start.astimezone(UTC) == datetime(2025, 12, 31, 15, 0, tzinfo=UTC)
