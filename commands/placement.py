"""Placing a VM: reserve room on the first candidate host that has it, or answer 533.

api/ offers the candidates (Up, Enabled, matching hypervisor and tags, most free room first,
read from the hosts read model); the reservation on the host's capacity aggregate decides. A rule
on who may share the host (affinity groups) is asked in the same attempt, after the capacity is
loaded: a rival placed since then changed that capacity, so the save conflicts and the retry
sees the rival.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome
from domain.capacity import HostCapacity, capacity_id
from domain.errors import InsufficientCapacity

RESERVATION_ATTEMPTS = 50  # many deployments may race for one host: keep reloading


@dataclass(frozen=True)
class Candidate:
    host_id: UUID
    cpu_mhz: int  # the host's total CPU (cores x MHz)
    memory_mb: int
    max_guests: int | None = None  # the hypervisor's guest limit for the host (None: none)
    overprovisioning: tuple[float, float] = (1.0, 1.0)  # its cluster's (CPU, memory) factors


@dataclass(frozen=True)
class Reserve:
    reservation_id: str
    cpu_mhz: int
    memory_mb: int
    candidates: Sequence[Candidate]
    what: str = "VM"
    admits: Callable[[HostCapacity], bool] | None = None  # may this host take the VM at all?


@dataclass(frozen=True)
class Placed:
    position: int
    host_id: UUID


def _capacity(store: Any, candidate: Candidate) -> HostCapacity:
    """The host's capacity as the candidate sees it now: its size and its cluster's factors
    (recorded with the reservation when they changed since)."""
    try:
        capacity = store.repository.get(capacity_id(candidate.host_id))
    except AggregateNotFoundError:
        capacity = HostCapacity(candidate.host_id, candidate.cpu_mhz, candidate.memory_mb)
    if (capacity.cpu_mhz, capacity.memory_mb) != (candidate.cpu_mhz, candidate.memory_mb):
        capacity.resize(candidate.cpu_mhz, candidate.memory_mb)
    if (capacity.cpu_overcommit, capacity.memory_overcommit) != candidate.overprovisioning:
        capacity.set_overcommit(*candidate.overprovisioning)
    return capacity


def hold_room(store: Any, command: Reserve) -> HostCapacity:
    """Room held on the first candidate that fits, not saved; 533 when none does.

    The caller saves the capacity in the commit that records the request needing the room, so
    room is never held for a request that was not recorded: a save that conflicts (another
    deploy took the room meanwhile) reruns the caller's attempt, which looks again.
    """
    for candidate in command.candidates:
        capacity = _capacity(store, candidate)
        if command.admits is not None and not command.admits(capacity):
            continue
        if _full_of_guests(capacity, candidate, command.reservation_id):
            continue
        if capacity.fits(command.cpu_mhz, command.memory_mb) or (
            command.reservation_id in capacity.reservations
        ):
            capacity.reserve(command.reservation_id, command.cpu_mhz, command.memory_mb)
            return capacity
    raise InsufficientCapacity(f"Unable to create a deployment for {command.what}")


def _full_of_guests(capacity: HostCapacity, candidate: Candidate, reservation_id: str) -> bool:
    """Whether the host runs as many guests as its hypervisor allows (4.3's max guests limit);
    a machine already holding room there (scaling, restarting) is not one more."""
    if candidate.max_guests is None:
        return False
    guests = capacity.guests()
    parts = reservation_id.split(":")
    if len(parts) >= 2 and parts[1] in guests:
        return False
    return len(guests) >= candidate.max_guests


def reserve(store: Any, command: Reserve) -> Placed:
    """Hold room on the first candidate that fits, in a commit of its own; 533 when none does."""

    def attempt() -> Placed:
        capacity = hold_room(store, command)
        return Placed(store.last_position(store.save(capacity)), capacity.host_id)

    placed: Placed = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return placed


def release(store: Any, host_id: UUID, reservation_id: str) -> Outcome:
    """Give a failed or removed VM's room back (harmless when nothing is held)."""

    def attempt() -> Outcome:
        try:
            capacity = store.repository.get(capacity_id(host_id))
        except AggregateNotFoundError:
            return Outcome(0)
        capacity.release(reservation_id)
        return Outcome(store.last_position(store.save(capacity)), capacity.id)

    result: Outcome = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return result
