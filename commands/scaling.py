"""Room on a host while a running guest or appliance is resized there, or moved to another.

Guest VMs and system VMs scale alike: the growth is held on the host under a reservation of its
own until the adapter answers; the answer gives the growth back and, when the resize worked,
re-sizes the room held for the machine itself. Both aggregates keep the same fields for this
(`host_id`, `reservation`, `scale_reservation`, `pending`, `migrating_to`), so one helper
serves both. A live migration holds the machine's room on the destination as well until the
answer: a move that worked gives back the source's, one that failed the destination's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.capacity import HostCapacity, capacity_id
from domain.compute import Compute
from domain.errors import NotFound


def host_capacity(store: Any, host_id: UUID) -> HostCapacity:
    capacity: HostCapacity = store.get(HostCapacity, capacity_id(host_id), what="host capacity")
    return capacity


def hold_growth(
    store: Any, host_id: UUID, reservation: str, current: Compute, wanted: Compute
) -> HostCapacity:
    """Hold what `wanted` needs beyond `current` on the host (533 when it does not fit)."""
    capacity = host_capacity(store, host_id)
    capacity.reserve(
        reservation,
        max(wanted.cpu_mhz - current.cpu_mhz, 0),
        max(wanted.memory - current.memory, 0),
    )
    return capacity


@dataclass(frozen=True)
class Held:
    """What a machine held before a result: its host, its room there, extra room, the action,
    and the host a migration in flight goes to with the room held there."""

    host_id: UUID | None
    reservation: str | None
    scale_reservation: str | None
    action: str | None
    moving: tuple[UUID, str] | None = None

    @classmethod
    def of(cls, machine: Any) -> Held:
        held = (machine.host_id, machine.reservation, machine.scale_reservation)
        return cls(*held, machine.pending, machine.migrating_to)


def give_back(store: Any, before: Held, machine: Any, *, ok: bool) -> HostCapacity | None:
    """Release what the result freed; a confirmed scale re-sizes the machine's own room."""
    if before.moving is not None and machine.migrating_to is None:
        return _moved(store, before, ok=ok)
    freed = before.reservation is not None and machine.reservation is None
    if before.host_id is None or not (freed or before.scale_reservation):
        return None  # nothing changes there: the host's capacity is not even read
    try:
        capacity = host_capacity(store, before.host_id)
    except NotFound:
        return None
    if before.scale_reservation:
        capacity.release(before.scale_reservation)
        if ok and before.reservation and machine.reservation:
            capacity.release(before.reservation)
            compute = machine.compute
            capacity.reserve(machine.reservation, compute.cpu_mhz, compute.memory)
    if freed and before.reservation is not None:
        capacity.release(before.reservation)
    return capacity


def _moved(store: Any, before: Held, *, ok: bool) -> HostCapacity | None:
    """A migration answered: the room stays where the machine now runs, the other goes."""
    assert before.moving is not None
    host_id, reservation = (before.host_id, before.reservation) if ok else before.moving
    if host_id is None or reservation is None:
        return None
    try:
        capacity = host_capacity(store, host_id)
    except NotFound:
        return None
    capacity.release(reservation)
    return capacity
