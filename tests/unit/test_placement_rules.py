"""Placement's rules in the domain: data disk limits, planners' names, dedication claims."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.capacity import HostCapacity
from domain.dedication import Dedication, GuestVlanDedications, Owner, parse_vlan_range
from domain.errors import InvalidParameter
from domain.network_addressing import VnetRanges
from domain.planners import (
    FIRST_FIT,
    IMPLICIT_DEDICATION,
    USER_DISPERSING,
    check_planner,
    planner_for,
)
from domain.volume import DeviceSlots


def test_a_vm_at_its_data_disk_limit_takes_no_more() -> None:
    slots = DeviceSlots(uuid4())
    for _ in range(2):
        slots.check_room(set(), 2)
        slots.take(uuid4(), None, set())
    with pytest.raises(InvalidParameter, match=r"maximum number of data disks \(2\)"):
        slots.check_room(set(), 2)
    slots.check_room(set(), None)  # no limit


def test_the_offerings_planner_wins_over_the_allocation_algorithm() -> None:
    assert planner_for("", "userdispersing") == USER_DISPERSING
    assert planner_for("", "random") == FIRST_FIT
    assert planner_for("implicitdedicationplanner", "firstfit") == IMPLICIT_DEDICATION
    with pytest.raises(InvalidParameter, match="Deployment Planner"):
        check_planner("BestFitPlanner")


def test_a_resource_is_dedicated_once_until_released() -> None:
    host = Dedication("Host", uuid4(), "h1")
    owner, where = Owner(uuid4(), uuid4()), {"zone_id": uuid4()}
    host.dedicate(owner, uuid4(), where)
    with pytest.raises(InvalidParameter, match="Host h1 is already dedicated"):
        host.dedicate(Owner(uuid4()), uuid4(), where)
    host.release()
    with pytest.raises(InvalidParameter, match="No Dedicated Resource"):
        host.release()
    host.dedicate(Owner(uuid4()), uuid4(), where)


def test_guest_vlan_dedications_stay_inside_the_pool_and_never_overlap() -> None:
    pool = VnetRanges.parse("100-200", "VLAN")
    dedications = GuestVlanDedications(uuid4())
    alice = uuid4()
    dedications.dedicate(uuid4(), Owner(uuid4(), alice), 100, 110, pool)
    with pytest.raises(InvalidParameter, match="overlaps"):
        dedications.dedicate(uuid4(), Owner(uuid4(), uuid4()), 110, 120, pool)
    with pytest.raises(InvalidParameter, match="not within"):
        dedications.dedicate(uuid4(), Owner(uuid4(), uuid4()), 190, 210, pool)
    assert dedications.owner_of(105) == alice and dedications.owner_of(111) is None
    assert parse_vlan_range("300-310", "VLAN") == (300, 310)
    with pytest.raises(InvalidParameter):
        parse_vlan_range("1-2,5-6", "VLAN")


def test_a_host_counts_each_machine_holding_room_once() -> None:
    capacity = HostCapacity(uuid4(), 8000, 8192)
    vm = uuid4()
    capacity.reserve(f"vm:{vm}:start", 500, 512)
    capacity.reserve(f"vm:{vm}:scale", 500, 512)  # a scaling VM holds twice
    capacity.reserve(f"systemvm:{uuid4()}:start", 500, 512)
    assert len(capacity.guests()) == 2
