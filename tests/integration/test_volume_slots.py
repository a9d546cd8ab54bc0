"""Device slots under concurrency: data disks attached to one VM at the same moment, each
attach believing the same slots are free, still end up in distinct slots."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands import volumes as cmd
from domain.volume import Volume
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.unit.test_vm import vm as new_vm

# Each round of racing attaches lets one through and reruns the others; four racers need at
# most four attempts, within the store's bounded retries.
ATTACHES = 4


@pytest.fixture
def store(settings: Settings) -> Iterator[Any]:
    runtime = open_runtime(settings, projections=[])
    try:
        yield runtime.store
    finally:
        runtime.close()


def _data_disk(store: Any, owner: Any) -> UUID:
    command = cmd.CreateVolume(
        uuid4(), "data", owner.account_id, owner.domain_id, owner.zone_id, 5, uuid4()
    )
    outcome = cmd.create_volume(store, command)
    assert outcome.id is not None
    return outcome.id


def test_racing_attaches_to_one_vm_take_distinct_slots(store: Any) -> None:
    machine = new_vm()
    store.save(machine)
    disks = [_data_disk(store, machine) for _ in range(ATTACHES)]
    start = threading.Barrier(ATTACHES)
    failures: list[BaseException] = []

    def attach(volume_id: UUID) -> None:
        start.wait()  # every attach read the same (empty) slots from the read model
        try:
            cmd.attach_volume(store, cmd.AttachVolume(volume_id, machine.id, frozenset()))
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=attach, args=(disk,)) for disk in disks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    slots = sorted(store.get(Volume, disk).device_id for disk in disks)
    assert slots == [1, 2, 4, 5]


def test_a_detached_disk_gives_its_slot_back(store: Any) -> None:
    machine = new_vm()
    store.save(machine)
    first, second, third = (_data_disk(store, machine) for _ in range(3))
    for disk in (first, second):
        cmd.attach_volume(store, cmd.AttachVolume(disk, machine.id))

    cmd.detach_volume(store, first)
    cmd.attach_volume(store, cmd.AttachVolume(third, machine.id))

    assert store.get(Volume, third).device_id == 1
    assert store.get(Volume, first).device_id is None
