"""cleanVMReservations' command: room a host holds for a machine that does not hold it there is
given back; the room of a machine placed on the host, and any hold not a machine's, stays."""

from __future__ import annotations

from uuid import uuid4

from commands.reservation_cleanup import clean_reservations
from domain.capacity import HostCapacity, capacity_id
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.unit.test_vm import access, vm


def test_only_holds_no_machine_names_are_released(settings: Settings) -> None:
    runtime = open_runtime(settings, projections=[])
    store = runtime.store
    try:
        host_id = uuid4()
        starting, stopped = vm(), vm()
        held = f"vm:{starting.id}:r1"
        starting.request_start("r1", None, access(host_id), held)
        capacity = HostCapacity(host_id, cpu_mhz=4000, memory_mb=4096)
        capacity.reserve(held, 500, 512)
        capacity.reserve(f"vm:{stopped.id}:r0", 500, 512)  # it left the host long ago
        capacity.reserve(f"vm:{uuid4()}:r9", 500, 512)  # a machine that never was
        capacity.reserve(f"systemvm:{uuid4()}:r8", 500, 512)
        capacity.reserve("volume-migration", 100, 100)  # not a machine's: not ours to judge
        store.save(starting, stopped, capacity)

        assert clean_reservations(store, [host_id, uuid4()]) == 3
        after = store.repository.get(capacity_id(host_id))
        assert set(after.reservations) == {held, "volume-migration"}
        assert (after.cpu_used, after.memory_used) == (600, 612)
        assert clean_reservations(store, [host_id]) == 0  # nothing more to do, nothing saved
    finally:
        runtime.close()
