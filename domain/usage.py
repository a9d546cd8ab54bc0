"""Usage of virtual machines, computed from their lifecycle events alone (pure, no I/O).

A VM's events carry its compute shape and their own timestamps, so folding them in log order
gives the intervals in which it was allocated (deploy to destroy) and running (start to stop);
cutting those intervals at aggregation periods aligned to the day in the usage time zone gives
CloudStack's usage records: one per resource, shape and type in each period, charged for the
overlap only. The same events always give the same records, in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID

from domain.vm import Compute, VirtualMachine

# The event classes made by @event exist only at run time, where mypy cannot see them.
_Vm: Any = VirtualMachine

RUNNING_VM = 1
ALLOCATED_VM = 2
MS_PER_HOUR = 3_600_000

USAGE_TYPES: tuple[tuple[int, str], ...] = (
    (1, "Running Vm Usage"),
    (2, "Allocated Vm Usage"),
    (3, "IP Address Usage"),
    (4, "Network Usage (Bytes Sent)"),
    (5, "Network Usage (Bytes Received)"),
    (6, "Volume Usage"),
    (7, "Template Usage"),
    (8, "ISO Usage"),
    (9, "Snapshot Usage"),
    (10, "Security Group Usage"),
    (11, "Load Balancer Usage"),
    (12, "Port Forwarding Usage"),
    (13, "Network Offering Usage"),
    (14, "VPN users usage"),
    (21, "VM Disk usage(I/O Read)"),
    (22, "VM Disk usage(I/O Write)"),
    (23, "VM Disk usage(Bytes Read)"),
    (24, "VM Disk usage(Bytes Write)"),
    (25, "VM Snapshot storage usage"),
)

# The events that matter to usage; every other VM event is ignored.
VM_USAGE_EVENTS: tuple[type, ...] = (
    _Vm.Deployed,
    _Vm.Started,
    _Vm.Stopped,
    _Vm.Scaled,
    _Vm.Destroyed,
    _Vm.Expunged,
    _Vm.Recovered,
)


@dataclass(frozen=True)
class VmIdentity:
    """Who owns a VM and where it lives: what every record of it names."""

    vm_id: UUID
    name: str
    account_id: UUID
    domain_id: UUID
    zone_id: UUID


@dataclass(frozen=True)
class Interval:
    """A span in which a VM was allocated or running with one shape; `end` None means still."""

    usage_type: int
    vm: VmIdentity
    compute: Compute
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class Period:
    """One aggregation period, [start, end), in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class UsageRecord:
    """What one VM used of one type with one shape in one period, in milliseconds."""

    usage_type: int
    vm: VmIdentity
    compute: Compute
    period: Period
    milliseconds: int

    @property
    def hours(self) -> Decimal:
        return Decimal(self.milliseconds) / MS_PER_HOUR

    def sort_key(self) -> tuple[Any, ...]:
        shape = self.compute
        return (
            self.period.start,
            self.usage_type,
            str(self.vm.vm_id),
            str(shape.offering_id),
            str(shape.template_id),
            shape.cpu_number,
            shape.cpu_speed,
            shape.memory,
        )


class _VmUsage:
    """The open intervals of one VM while its events are folded."""

    def __init__(self, vm: VmIdentity, compute: Compute) -> None:
        self.vm, self.compute = vm, compute
        self.open: dict[int, Interval] = {}
        self.closed: list[Interval] = []

    def open_interval(self, usage_type: int, at: datetime) -> None:
        self.close(usage_type, at)
        self.open[usage_type] = Interval(usage_type, self.vm, self.compute, at)

    def close(self, usage_type: int, at: datetime) -> None:
        interval = self.open.pop(usage_type, None)
        if interval is not None and at > interval.start:
            self.closed.append(replace(interval, end=at))

    def reshape(self, compute: Compute, at: datetime) -> None:
        """A new shape splits whatever is open: before it the old shape, after it the new."""
        self.compute = compute
        for usage_type in sorted(self.open):
            self.open_interval(usage_type, at)

    def apply(self, event: Any) -> None:
        at: datetime = event.timestamp
        if isinstance(event, _Vm.Started):
            self.open_interval(RUNNING_VM, at)
        elif isinstance(event, _Vm.Stopped):
            self.close(RUNNING_VM, at)
        elif isinstance(event, _Vm.Scaled):
            self.reshape(Compute.from_facts(event.compute), at)
        elif isinstance(event, _Vm.Destroyed | _Vm.Expunged):
            self.close(RUNNING_VM, at)
            self.close(ALLOCATED_VM, at)
        elif isinstance(event, _Vm.Recovered):
            self.open_interval(ALLOCATED_VM, at)

    def intervals(self) -> list[Interval]:
        return self.closed + [self.open[kind] for kind in sorted(self.open)]


def _identity(event: Any) -> VmIdentity:
    return VmIdentity(
        event.originator_id,
        event.name,
        event.owner_account_id,
        event.owner_domain_id,
        event.zone_id,
    )


def vm_intervals(events: Iterable[Any]) -> list[Interval]:
    """The allocated and running intervals of every VM, from its events in log order."""
    vms: dict[UUID, _VmUsage] = {}
    for event in events:
        if isinstance(event, _Vm.Deployed):
            usage = _VmUsage(_identity(event), Compute.from_facts(event.compute))
            vms[event.originator_id] = usage
            usage.open_interval(ALLOCATED_VM, event.timestamp)
        elif event.originator_id in vms:
            vms[event.originator_id].apply(event)
    return [interval for usage in vms.values() for interval in usage.intervals()]


def periods(first: date, last: date, range_minutes: int, zone: tzinfo) -> list[Period]:
    """Periods of `range_minutes` from midnight of `first` to the end of `last`, in `zone`.

    Each day starts a new run of periods at its own midnight (a period never spans two
    days), so daily and hourly ranges line up with the calendar even across DST changes.
    """
    if range_minutes < 1:
        raise ValueError("the aggregation range must be at least one minute")
    step, found = timedelta(minutes=range_minutes), list[Period]()
    day = first
    while day <= last:
        found.extend(_day_periods(day, step, zone))
        day += timedelta(days=1)
    return found


def _day_periods(day: date, step: timedelta, zone: tzinfo) -> Iterator[Period]:
    # Bounds are kept in UTC: Python compares and subtracts datetimes that share a tzinfo by
    # their wall clocks, which would make a DST day 24 hours long.
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    while start < midnight:
        end = min(start + step, midnight)
        yield Period(start, end)
        start = end


def _overlap_ms(interval: Interval, period: Period, now: datetime) -> int:
    end = interval.end if interval.end is not None else now
    start = max(interval.start.astimezone(UTC), period.start)
    stop = min(end.astimezone(UTC), period.end)
    if stop <= start:
        return 0
    return (stop - start) // timedelta(milliseconds=1)


def usage_records(
    intervals: Iterable[Interval], chosen: Iterable[Period], now: datetime
) -> list[UsageRecord]:
    """One record per VM, type and shape in each period, summing the overlaps; sorted.

    Open intervals count up to `now`; callers pass only periods that have ended.
    """
    spans = list(intervals)
    totals: dict[tuple[Any, ...], UsageRecord] = {}
    for period in chosen:
        for interval in spans:
            used = _overlap_ms(interval, period, now)
            if not used:
                continue
            key = (period, interval.usage_type, interval.vm, interval.compute)
            earlier = totals.get(key)
            total = used + (earlier.milliseconds if earlier else 0)
            record = UsageRecord(interval.usage_type, interval.vm, interval.compute, period, total)
            totals[key] = record
    return sorted(totals.values(), key=UsageRecord.sort_key)


def hours_text(hours: Decimal) -> str:
    """Hours as Java's DecimalFormat("#.######") prints them (half-even, no leading zero).

    The usage server's pattern has no mandatory integer digit, so half an hour is ".5": the
    same string CloudStack clients already parse.
    """
    rounded = hours.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
    text = format(rounded, "f").rstrip("0").rstrip(".")
    if text.startswith("0."):
        text = text[1:]
    return text or "0"
