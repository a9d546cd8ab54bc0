"""Instance groups and a VM's place in one, given-when-then on the aggregates, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState
from domain.instance_group import InstanceGroup
from tests.unit.test_vm import vm


def _group(name: str = "web") -> InstanceGroup:
    return InstanceGroup(uuid4(), name, uuid4(), uuid4())


@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
def test_a_group_needs_a_sensible_name(name: str) -> None:
    with pytest.raises(InvalidParameter):
        _group(name)


def test_a_vm_is_admitted_once_and_let_go_once() -> None:
    group, vm_id = _group(), uuid4()
    group.admit(vm_id)
    group.admit(vm_id)
    assert group.members == [vm_id]
    group.let_go(vm_id)
    group.let_go(vm_id)
    kinds = [type(e).__name__ for e in group.collect_events()]
    assert kinds == ["Created", "MemberAdded", "MemberRemoved"]


def test_a_deleted_group_admits_nothing_and_cannot_be_renamed() -> None:
    group = _group()
    group.admit(uuid4())
    group.delete()
    assert group.members == []
    with pytest.raises(InvalidState):
        group.admit(uuid4())
    with pytest.raises(InvalidState):
        group.rename("other")
    with pytest.raises(InvalidState):
        group.delete()


def test_renaming_to_the_same_name_records_nothing() -> None:
    group = _group()
    group.collect_events()
    group.rename("web")
    assert group.collect_events() == []


def test_a_vm_moves_between_groups_and_a_move_to_where_it_is_records_nothing() -> None:
    machine, group_id = vm(), uuid4()
    machine.move_to_group(group_id, "web")
    machine.move_to_group(group_id, "web")
    machine.move_to_group(None, "")
    changes = [e for e in machine.collect_events() if type(e).__name__ == "GroupChanged"]
    assert [(e.group_id, e.group_name) for e in changes] == [(group_id, "web"), (None, "")]


def test_a_destroyed_vm_changes_group_only_when_its_group_is_deleted() -> None:
    machine, group_id = vm(), uuid4()
    machine.move_to_group(group_id, "web")
    machine.destroy("r1", None, expunge=False, access=None)
    with pytest.raises(InvalidState):
        machine.move_to_group(uuid4(), "other")
    machine.leave_group(uuid4())  # not its group: nothing happens
    assert machine.group_id == group_id
    machine.leave_group(group_id)
    assert machine.group_id is None and machine.group == ""
