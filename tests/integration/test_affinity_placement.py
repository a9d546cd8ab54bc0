"""Placement with affinity groups on both stores: members racing for hosts never share one."""

from __future__ import annotations

import threading
from uuid import UUID, uuid4

import pytest

from commands.affinity_groups import CreateAffinityGroup, create_group, set_vm_groups
from commands.placement import Candidate, Reserve, reserve
from commands.vms import kept_apart_rule
from domain.affinity_group import HOST_ANTI_AFFINITY
from domain.errors import InsufficientCapacity
from entrypoint.installation import open_runtime
from stratus.settings import Settings


def _member_reservation(vm_id: UUID) -> str:
    return f"vm:{vm_id}:{uuid4().hex}"  # how a user VM's room is held (commands.vms)


def _grouped_vms(store, count: int) -> list[UUID]:
    group = uuid4()
    create_group(store, CreateAffinityGroup(group, "web", "", HOST_ANTI_AFFINITY, uuid4(), uuid4()))
    vms = [uuid4() for _ in range(count)]
    for vm in vms:
        set_vm_groups(store, vm, [group])
    return vms


def test_members_reserving_at_once_take_one_host_each(settings: Settings) -> None:
    runtime = open_runtime(settings, projections=[])
    store = runtime.store
    hosts = [Candidate(uuid4(), cpu_mhz=64_000, memory_mb=64_000) for _ in range(4)]
    vms = _grouped_vms(store, 12)
    placed: dict[UUID, UUID] = {}
    refused: list[UUID] = []
    lock, start = threading.Lock(), threading.Barrier(len(vms))

    def deploy(vm: UUID) -> None:
        command = Reserve(
            _member_reservation(vm), 500, 512, hosts, admits=kept_apart_rule(store, vm)
        )
        start.wait(timeout=30)
        try:
            host = reserve(store, command).host_id
        except InsufficientCapacity:
            with lock:
                refused.append(vm)
            return
        with lock:
            placed[vm] = host

    threads = [threading.Thread(target=deploy, args=(vm,)) for vm in vms]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(placed) == 4 and len(refused) == 8
        assert sorted(map(str, placed.values())) == sorted(str(h.host_id) for h in hosts)
    finally:
        runtime.close()


def test_a_vm_outside_the_group_shares_a_host_with_a_member(sqlite_settings: Settings) -> None:
    runtime = open_runtime(sqlite_settings, projections=[])
    store = runtime.store
    try:
        host = Candidate(uuid4(), cpu_mhz=8000, memory_mb=8192)
        member, other_member = _grouped_vms(store, 2)
        reserve(store, Reserve(_member_reservation(member), 500, 512, [host]))
        stranger = uuid4()
        rule = kept_apart_rule(store, stranger)
        assert reserve(store, Reserve(_member_reservation(stranger), 500, 512, [host], admits=rule))
        with pytest.raises(InsufficientCapacity, match="Unable to create a deployment"):
            reserve(
                store,
                Reserve(
                    _member_reservation(other_member),
                    500,
                    512,
                    [host],
                    admits=kept_apart_rule(store, other_member),
                ),
            )
    finally:
        runtime.close()
