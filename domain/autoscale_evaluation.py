"""What the scaler measures and decides, as pure functions: a counter's rate over a policy's
duration from the disk readings Stratus collects, whether a policy's conditions hold, and
whether a group scales up, down or not at all within its bounds and quiet times.

A reading is cumulative within its epoch (domain/statistics.py). A volume's rate over the
window [now - duration, now] is the counter's growth from the last reading at or before the
window's start to the last reading, divided by the duration: readings are recorded only when
a counter moved, so the last one still tells the counters now. A volume with no reading
before the window, or one in another epoch (the VM booted since), has no measure for the
window; a VM's rate is the sum over its measured volumes; a group's is the mean over its
measured VMs. With no measure at all a condition does not hold either way: the scaler does
not act on what it cannot see.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from domain.autoscale import GroupState

# The counters of source `hypervisor`, by their value, at their index in a disk reading
# (domain.statistics.DISK_COUNTERS: io_read, io_write, bytes_read, bytes_write).
MEASURED = {
    "vm.disk.read.ops": 0,
    "vm.disk.write.ops": 1,
    "vm.disk.read.bytes": 2,
    "vm.disk.write.bytes": 3,
}

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GT": operator.gt,
    "GE": operator.ge,
    "LT": operator.lt,
    "LE": operator.le,
    "EQ": operator.eq,
}


def measurable(source: str, value: str) -> bool:
    """Whether Stratus measures this counter (4.3's snmp and netscaler ones it cannot)."""
    return source == "hypervisor" and value in MEASURED


@dataclass(frozen=True)
class Reading:
    """One volume's counters as read at `at_ms`, in an epoch."""

    at_ms: int
    epoch: str
    counters: tuple[int, ...]


def volume_rate(
    readings: Sequence[Reading], index: int, now_ms: int, window_ms: int
) -> float | None:
    """Per second, over the window ending now; None when the readings cannot tell."""
    if window_ms <= 0 or not readings:
        return None
    ordered = sorted(readings, key=lambda r: r.at_ms)
    last = ordered[-1]
    start = now_ms - window_ms
    before = [r for r in ordered if r.at_ms <= start]
    if not before or before[-1].epoch != last.epoch:
        return None
    grown = last.counters[index] - before[-1].counters[index]
    return max(grown, 0) * 1000 / window_ms


def vm_rate(
    volumes: Iterable[Sequence[Reading]], index: int, now_ms: int, window_ms: int
) -> float | None:
    rates = [volume_rate(r, index, now_ms, window_ms) for r in volumes]
    measured = [rate for rate in rates if rate is not None]
    return sum(measured) if measured else None


def group_rate(
    vms: Iterable[Iterable[Sequence[Reading]]], index: int, now_ms: int, window_ms: int
) -> float | None:
    rates = [vm_rate(volumes, index, now_ms, window_ms) for volumes in vms]
    measured = [rate for rate in rates if rate is not None]
    return sum(measured) / len(measured) if measured else None


@dataclass(frozen=True)
class Check:
    """One condition as the scaler weighs it."""

    counter_value: str
    operator: str
    threshold: float


@dataclass(frozen=True)
class PolicyView:
    action: str
    duration: int  # seconds
    quiet_time: int  # seconds
    checks: tuple[Check, ...]


def holds(policy: PolicyView, measure: Callable[[str, int], float | None]) -> bool:
    """All conditions hold over the policy's duration (`measure(counter, window_ms)`); a
    policy with a condition nothing measures never holds."""
    if not policy.checks:
        return False
    for check in policy.checks:
        value = measure(check.counter_value, policy.duration * 1000)
        if value is None or not COMPARE[check.operator](value, check.threshold):
            return False
    return True


@dataclass(frozen=True)
class GroupView:
    state: str
    active: int
    minimum: int
    maximum: int
    last_scaled: dict[str, int]  # action -> ms


def quiet(group: GroupView, policy: PolicyView, now_ms: int) -> bool:
    """Within the quiet time after the group last scaled the policy's way."""
    last = group.last_scaled.get(policy.action)
    return last is not None and now_ms - last < policy.quiet_time * 1000


def decide(
    group: GroupView,
    policies: Sequence[PolicyView],
    measure: Callable[[str, int], float | None],
    now_ms: int,
) -> tuple[str, bool] | None:
    """What the group does now: ("scaleup" or "scaledown", whether a policy asked for it), or
    None. Below its minimum it grows regardless of policies; at its maximum it does not grow,
    at its minimum it does not shrink; a policy in its quiet time is not weighed."""
    if group.state != GroupState.ENABLED:
        return None
    if group.active < group.minimum:
        return ("scaleup", False)
    if group.active > group.maximum:
        return ("scaledown", False)
    for action, allowed in (
        ("scaleup", group.active < group.maximum),
        ("scaledown", group.active > group.minimum),
    ):
        if not allowed:
            continue
        for policy in policies:
            weighed = policy.action == action and not quiet(group, policy, now_ms)
            if weighed and holds(policy, measure):
                return (action, True)
    return None
