"""Affinity groups, given-when-then on the aggregates and the placement rule, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.affinity_group import (
    HOST_ANTI_AFFINITY,
    AffinityGroup,
    VmAffinity,
    admits,
    vm_affinity_id,
)
from domain.errors import InvalidParameter, InvalidState


def _group(group_type: str = HOST_ANTI_AFFINITY) -> AffinityGroup:
    return AffinityGroup(uuid4(), "web", "", group_type, uuid4(), uuid4())


@pytest.mark.parametrize("group_type", ["host affinity", "Host Anti-Affinity", ""])
def test_only_4_3s_host_anti_affinity_type_is_accepted(group_type: str) -> None:
    with pytest.raises(InvalidParameter, match="invalid affinity group type"):
        _group(group_type)


def test_a_member_is_kept_apart_from_every_other_member_but_itself() -> None:
    group = _group()
    a, b, c = uuid4(), uuid4(), uuid4()
    for vm in (a, b, c, a):
        group.join(vm)
    assert len([e for e in group.collect_events() if type(e).__name__ == "Joined"]) == 3
    assert group.keeps_apart(a) == {b, c}
    group.leave(b)
    group.leave(b)  # leaving twice records nothing more
    assert group.keeps_apart(a) == {c}
    assert group.keeps_apart(uuid4()) == {a, c}  # a VM about to join


def test_a_deleted_group_keeps_nothing_apart_and_takes_no_members() -> None:
    group = _group()
    group.join(uuid4())
    group.delete()
    assert group.members == set() and group.keeps_apart(uuid4()) == frozenset()
    with pytest.raises(InvalidParameter):
        group.join(uuid4())
    with pytest.raises(InvalidState):
        group.delete()


def test_a_host_admits_a_vm_unless_a_vm_kept_apart_from_it_is_placed_there() -> None:
    rival, stranger = uuid4(), uuid4()
    assert admits({rival}, {stranger})
    assert admits(set(), {rival, stranger})
    assert not admits({rival}, {stranger, rival})


def test_a_vms_groups_change_only_when_they_differ() -> None:
    vm, web, db = uuid4(), uuid4(), uuid4()
    membership = VmAffinity(vm)
    assert membership.id == vm_affinity_id(vm)
    membership.set_groups([web, db, web])
    membership.set_groups([web, db])
    assert membership.group_ids == (web, db)
    assert len([e for e in membership.collect_events() if type(e).__name__ == "GroupsSet"]) == 1
    membership.set_groups([])
    assert membership.group_ids == ()
