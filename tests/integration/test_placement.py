"""Placement: concurrent reservations never over-commit a host; the losers get 533."""

from __future__ import annotations

import threading
import uuid
from uuid import uuid4

import pytest

from commands.placement import Candidate, Reserve, release, reserve
from domain.capacity import HostCapacity, capacity_id
from domain.errors import InsufficientCapacity
from entrypoint.installation import open_runtime
from stratus.settings import Settings


def test_reserving_is_refused_beyond_the_room_and_released_room_is_reusable() -> None:
    capacity = HostCapacity(uuid4(), cpu_mhz=2000, memory_mb=2048)
    capacity.reserve("a", 1000, 1024)
    capacity.reserve("a", 1000, 1024)  # the same reservation again holds nothing more
    capacity.reserve("b", 1000, 1024)
    with pytest.raises(InsufficientCapacity):
        capacity.reserve("c", 1, 1)
    capacity.release("a")
    capacity.release("a")
    capacity.reserve("c", 1000, 1024)
    assert (capacity.cpu_used, capacity.memory_used) == (2000, 2048)


def test_overcommit_widens_cpu_but_not_beyond_its_ratio() -> None:
    capacity = HostCapacity(uuid4(), cpu_mhz=1000, memory_mb=1000)
    capacity.set_overcommit(cpu=2.0, memory=1.0)
    capacity.reserve("a", 1500, 500)
    with pytest.raises(InsufficientCapacity):
        capacity.reserve("b", 600, 100)


def test_200_parallel_reservations_onto_room_for_150(settings: Settings) -> None:
    runtime = open_runtime(settings, projections=[])
    store = runtime.store
    host = Candidate(uuid4(), cpu_mhz=150 * 500, memory_mb=150 * 512)
    outcomes: list[str] = []
    lock = threading.Lock()

    def deploy() -> None:
        command = Reserve(uuid.uuid4().hex, 500, 512, [host])
        try:
            reserve(store, command)
            result = "placed"
        except InsufficientCapacity:
            result = "533"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=deploy) for _ in range(200)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        capacity = store.repository.get(capacity_id(host.host_id))
        assert outcomes.count("placed") == 150 and outcomes.count("533") == 50
        assert capacity.cpu_used == host.cpu_mhz and capacity.memory_used == host.memory_mb
        some = next(iter(capacity.reservations))
        release(store, host.host_id, some)
        assert store.repository.get(capacity_id(host.host_id)).cpu_used == host.cpu_mhz - 500
    finally:
        runtime.close()


def test_a_full_host_sends_the_vm_to_the_next_candidate(sqlite_settings: Settings) -> None:
    runtime = open_runtime(sqlite_settings, projections=[])
    try:
        small, big = Candidate(uuid4(), 500, 512), Candidate(uuid4(), 5000, 5120)
        first = reserve(runtime.store, Reserve("vm-1", 500, 512, [small, big]))
        second = reserve(runtime.store, Reserve("vm-2", 500, 512, [small, big]))
        assert (first.host_id, second.host_id) == (small.host_id, big.host_id)
        with pytest.raises(InsufficientCapacity, match="Unable to create a deployment"):
            reserve(runtime.store, Reserve("vm-3", 9000, 512, [small, big]))
    finally:
        runtime.close()
