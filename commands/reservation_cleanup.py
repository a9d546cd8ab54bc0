"""cleanVMReservations: room a host's capacity still holds for a machine that no longer holds it.

A guest or system VM holds room on a host under a reservation id of its request
(`vm:<id>:<request>`, `systemvm:<id>:<request>`) while it is placed there, plus a scale's extra
room while a resize is in flight; each is recorded on the machine in the commit that holds it.
A hold the machine does not name (it left the host, was removed, or never recorded it) keeps
room from every later placement: this releases it. A Starting, Running or Stopping machine
names its hold, so the room it uses is never touched; nor is the room a migration in flight
holds for it on its destination.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.placement import RESERVATION_ATTEMPTS
from domain.capacity import HostCapacity, capacity_id
from domain.errors import NotFound
from domain.system_vm import SystemVm
from domain.vm import VirtualMachine

MACHINES: dict[str, type] = {"vm": VirtualMachine, "systemvm": SystemVm}


def _machine(store: Any, reservation_id: str) -> tuple[bool, Any]:
    """(is this a machine's hold, the machine or None when it is gone)."""
    kind, _, rest = reservation_id.partition(":")
    if kind not in MACHINES:
        return False, None
    try:
        machine_id = UUID(rest.split(":", 1)[0])
        return True, store.get(MACHINES[kind], machine_id)
    except (NotFound, ValueError):
        return True, None


def stale(store: Any, capacity: HostCapacity) -> list[str]:
    """The machine holds on the host that their machine does not name as its own there."""
    found = []
    for reservation_id in list(capacity.reservations):
        is_machine, machine = _machine(store, reservation_id)
        if not is_machine:
            continue
        if reservation_id not in _held_by(machine, capacity.host_id):
            found.append(reservation_id)
    return found


def _held_by(machine: Any, host_id: UUID) -> set[str | None]:
    """The holds a machine names on a host: where it is placed, and where it is moving to."""
    if machine is None or getattr(machine, "removed", False):
        return set()
    held: set[str | None] = set()
    if machine.host_id == host_id:
        held |= {machine.reservation, machine.scale_reservation}
    moving = machine.migrating_to
    if moving is not None and moving[0] == host_id:
        held.add(moving[1])
    return held


def clean_reservations(store: Any, host_ids: Iterable[UUID]) -> int:
    """Release the stale holds on each host (one commit per host); how many were released."""
    released = 0
    for host_id in host_ids:
        released += _clean_host(store, host_id)
    return released


def _clean_host(store: Any, host_id: UUID) -> int:
    def attempt() -> tuple[int, Outcome]:
        try:
            capacity: HostCapacity = store.get(HostCapacity, capacity_id(host_id))
        except NotFound:
            return 0, Outcome(0)
        gone = stale(store, capacity)
        if not gone:
            return 0, Outcome(0)
        for reservation_id in gone:
            capacity.release(reservation_id)
        return len(gone), Outcome(store.last_position(store.save(capacity)), capacity.id)

    count, _ = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return int(count)
