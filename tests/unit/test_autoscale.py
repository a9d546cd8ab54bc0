"""Autoscale without I/O: a counter's rate over a policy's duration from disk readings, whether
a policy's conditions hold, the group's bounds and quiet times, and the aggregates' rules
(bounds as 4.3 checks them, states, nothing in use deleted)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.autoscale import (
    AutoScaleVmGroup,
    Condition,
    Counter,
    GroupBounds,
    GroupState,
    ProfileSpec,
    check_timing,
)
from domain.autoscale_evaluation import (
    Check,
    GroupView,
    PolicyView,
    Reading,
    decide,
    group_rate,
    holds,
    measurable,
    vm_rate,
    volume_rate,
)
from domain.errors import InvalidParameter, InvalidState, ResourceInUse

NOW = 1_000_000
BYTES_READ = 2


def reading(at_s: float, bytes_read: int, epoch: str = "h/1") -> Reading:
    return Reading(int(NOW - at_s * 1000), epoch, (0, 0, bytes_read, 0))


# Rates --------------------------------------------------------------------------------------


def test_a_volume_rate_is_the_growth_since_the_window_began_per_second() -> None:
    readings = [reading(30, 1000), reading(12, 2000), reading(5, 5000), reading(1, 7000)]
    # the window is the last 10 s: from 2000 (read 12 s ago) to 7000 now
    assert volume_rate(readings, BYTES_READ, NOW, 10_000) == 500.0


def test_an_idle_volume_reads_zero_from_its_last_reading() -> None:
    # counters that did not move make no reading: the last one still tells them
    assert volume_rate([reading(100, 4096)], BYTES_READ, NOW, 10_000) == 0.0


def test_a_volume_without_a_reading_before_the_window_has_no_measure() -> None:
    assert volume_rate([reading(5, 1000), reading(1, 9000)], BYTES_READ, NOW, 10_000) is None
    assert volume_rate([], BYTES_READ, NOW, 10_000) is None


def test_a_volume_read_in_another_epoch_since_has_no_measure() -> None:
    readings = [reading(20, 50_000, "h/1"), reading(2, 100, "h/2")]  # the VM booted again
    assert volume_rate(readings, BYTES_READ, NOW, 10_000) is None


def test_a_vm_sums_its_volumes_and_a_group_averages_its_measured_vms() -> None:
    busy = [[reading(20, 0), reading(1, 10_000)], [reading(20, 0), reading(1, 10_000)]]
    idle = [[reading(20, 500)]]
    unknown = [[reading(1, 99)]]
    assert vm_rate(busy, BYTES_READ, NOW, 10_000) == 2000.0
    assert group_rate([busy, idle, unknown], BYTES_READ, NOW, 10_000) == 1000.0
    assert group_rate([unknown], BYTES_READ, NOW, 10_000) is None


def test_only_the_hypervisor_disk_counters_are_measured() -> None:
    assert measurable("hypervisor", "vm.disk.read.bytes")
    assert not measurable("hypervisor", "cpu")
    assert not measurable("snmp", "1.3.6.1.4.1.2021.11.9.0")
    assert not measurable("netscaler", "RESPTIME")


# Policies and decisions ---------------------------------------------------------------------


def policy(action: str, operator: str, threshold: float, quiet: int = 60) -> PolicyView:
    return PolicyView(action, 10, quiet, (Check("vm.disk.read.bytes", operator, threshold),))


def measured(value: float | None):
    return lambda counter, window_ms: value


UP, DOWN = policy("scaleup", "GT", 1000), policy("scaledown", "LT", 100)


def group(active: int, last: dict[str, int] | None = None, minimum: int = 1) -> GroupView:
    return GroupView(GroupState.ENABLED, active, minimum, 3, last or {})


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("GT", 5, False),
        ("GT", 6, True),
        ("GE", 5, True),
        ("LT", 4, True),
        ("LE", 5, True),
        ("EQ", 5, True),
        ("EQ", 6, False),
    ],
)
def test_a_condition_compares_the_rate_with_its_threshold(
    operator: str, value: float, expected: bool
) -> None:
    assert holds(policy("scaleup", operator, 5), measured(value)) is expected


def test_a_policy_holds_only_when_all_its_conditions_do_and_each_is_measured() -> None:
    both = PolicyView(
        "scaleup",
        10,
        0,
        (Check("vm.disk.read.bytes", "GT", 10), Check("vm.disk.write.bytes", "GT", 10)),
    )
    rates = {"vm.disk.read.bytes": 50.0, "vm.disk.write.bytes": 5.0}
    assert not holds(both, lambda counter, window: rates[counter])
    rates["vm.disk.write.bytes"] = 20.0
    assert holds(both, lambda counter, window: rates[counter])
    assert not holds(policy("scaleup", "LT", 10), measured(None))  # nothing measured
    assert not holds(PolicyView("scaleup", 10, 0, ()), measured(1.0))


def test_a_group_below_its_minimum_grows_whatever_the_policies_say() -> None:
    assert decide(group(0), [DOWN], measured(0.0), NOW) == ("scaleup", False)


def test_a_group_scales_up_when_a_scale_up_policy_holds_and_down_when_a_scale_down_one_does() -> (
    None
):
    assert decide(group(1), [UP, DOWN], measured(5000.0), NOW) == ("scaleup", True)
    assert decide(group(2), [UP, DOWN], measured(10.0), NOW) == ("scaledown", True)
    assert decide(group(2), [UP, DOWN], measured(500.0), NOW) is None
    assert decide(group(2), [UP, DOWN], measured(None), NOW) is None


def test_a_group_stays_within_its_bounds() -> None:
    assert decide(group(3), [UP], measured(5000.0), NOW) is None  # at its maximum
    assert decide(group(1), [DOWN], measured(0.0), NOW) is None  # at its minimum
    assert decide(group(4), [], measured(None), NOW) == ("scaledown", False)  # over it


def test_a_policy_is_not_weighed_in_its_quiet_time() -> None:
    just_now = {"scaleup": NOW - 30_000}
    assert decide(group(1, just_now), [UP], measured(5000.0), NOW) is None
    long_ago = {"scaleup": NOW - 61_000}
    assert decide(group(1, long_ago), [UP], measured(5000.0), NOW) == ("scaleup", True)
    # scaling up does not quieten scaling down
    assert decide(group(2, just_now), [DOWN], measured(0.0), NOW) == ("scaledown", True)


def test_a_disabled_group_does_nothing() -> None:
    view = GroupView(GroupState.DISABLED, 0, 2, 3, {})
    assert decide(view, [UP], measured(5000.0), NOW) is None


# Aggregates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minimum", "maximum", "interval", "text"),
    [
        (-1, 2, 30, "minmembers is an invalid value: -1"),
        (1, -2, 30, "maxmembers is an invalid value: -2"),
        (3, 2, 30, "minmembers (3)cannot be greater than maxmembers (2)"),
        (1, 2, -5, "interval is an invalid value: -5"),
    ],
)
def test_bounds_are_checked_as_4_3_checks_them(
    minimum: int, maximum: int, interval: int, text: str
) -> None:
    with pytest.raises(InvalidParameter, match=text.replace("(", r"\(").replace(")", r"\)")):
        GroupBounds(minimum, maximum, interval)


def test_durations_quiet_times_and_grace_periods_are_not_negative() -> None:
    with pytest.raises(InvalidParameter, match="duration is an invalid value: -1"):
        check_timing(-1, 0)
    with pytest.raises(InvalidParameter, match="quiettime is an invalid value: -1"):
        check_timing(0, -1)
    with pytest.raises(InvalidParameter, match="Destroy Vm Grace Period cannot be less than 0"):
        ProfileSpec(uuid4(), uuid4(), uuid4(), "", -1, uuid4())


def _group() -> AutoScaleVmGroup:
    return AutoScaleVmGroup(
        uuid4(), uuid4(), uuid4(), uuid4(), uuid4(), uuid4(), uuid4(), 1, 3, 30, (uuid4(),), ()
    )


def test_a_group_is_enabled_when_made_and_changes_bounds_only_when_disabled() -> None:
    made = _group()
    assert made.state == GroupState.ENABLED
    with pytest.raises(InvalidParameter, match="only when it is in disabled state"):
        made.update(GroupBounds(2, 3, 30), made.scale_up, made.scale_down)
    with pytest.raises(InvalidParameter, match="Only a AutoScale Vm Group which is in Disabled"):
        made.enable()
    made.disable()
    made.update(GroupBounds(2, 4, 60), made.scale_up, made.scale_down)
    assert made.bounds == GroupBounds(2, 4, 60)
    with pytest.raises(InvalidParameter, match="Only a AutoScale Vm Group which is in Enabled"):
        made.disable()
    made.revoke()
    with pytest.raises(InvalidState):
        made.enable()


def test_members_join_drain_and_leave_and_only_an_enabled_group_scales() -> None:
    made = _group()
    vm, other = uuid4(), uuid4()
    made.joined(vm)
    made.joined(other)
    made.drain(vm, 5000)
    assert made.active == [str(other)] and made.members[str(vm)] == 5000
    with pytest.raises(InvalidState):
        made.drain(vm, 6000)
    made.left(vm)
    assert list(made.members) == [str(other)]
    made.scaled("scaleup", 1234)
    assert made.last_scaled == {"scaleup": 1234}
    made.disable()
    with pytest.raises(InvalidState):
        made.scaled("scaleup", 2000)


def test_a_counter_or_condition_in_use_cannot_be_deleted() -> None:
    counter = Counter(uuid4(), "reads", "hypervisor", "vm.disk.read.bytes")
    condition = Condition(uuid4(), uuid4(), uuid4(), counter.id, "GT", 10)
    counter.use(condition.id)
    with pytest.raises(ResourceInUse, match="Counter is in use"):
        counter.remove("Counter is in use.")
    counter.release(condition.id)
    counter.remove("Counter is in use.")
    with pytest.raises(InvalidParameter, match="Unable to find Counter"):
        counter.use(uuid4())
