"""HostCapacity: what one host has promised to virtual machines, so no host is over-committed.

Every reservation is an event on the host's capacity aggregate. Two deployments racing for the
last room on a host write the same aggregate version: the event store lets one through and the
other reloads, sees the host full and tries elsewhere.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InsufficientCapacity, InvalidParameter

_NAMESPACE = UUID("5f0e2a43-9a1d-4c8e-b7d2-64a1f3c9e0b7")


class HostCapacity(Aggregate):
    """CPU (MHz) and memory (MiB) of one host, with over-commit ratios, and who holds what."""

    @staticmethod
    def create_id(host_id: UUID, cpu_mhz: int, memory_mb: int) -> UUID:
        return capacity_id(host_id)

    @event("Opened")
    def __init__(self, host_id: UUID, cpu_mhz: int, memory_mb: int) -> None:
        self.host_id = host_id
        self.cpu_mhz, self.memory_mb = cpu_mhz, memory_mb
        self.cpu_overcommit, self.memory_overcommit = 1.0, 1.0
        self.reservations: dict[str, tuple[int, int]] = {}

    @property
    def cpu_used(self) -> int:
        return sum(cpu for cpu, _ in self.reservations.values())

    @property
    def memory_used(self) -> int:
        return sum(memory for _, memory in self.reservations.values())

    def guests(self) -> frozenset[str]:
        """The machines holding room here (a scaling one holds twice, and counts once): a
        reservation id is `<kind>:<machine id>:<request>`."""
        return frozenset(r.split(":")[1] for r in self.reservations if r.count(":") >= 2)

    def fits(self, cpu_mhz: int, memory_mb: int) -> bool:
        cpu_room = self.cpu_mhz * self.cpu_overcommit - self.cpu_used
        memory_room = self.memory_mb * self.memory_overcommit - self.memory_used
        return cpu_mhz <= cpu_room and memory_mb <= memory_room

    def reserve(self, reservation_id: str, cpu_mhz: int, memory_mb: int) -> None:
        """Hold room for a VM; asking again for the same reservation holds nothing more."""
        if cpu_mhz < 0 or memory_mb < 0:
            raise InvalidParameter("A reservation cannot be negative")
        if reservation_id in self.reservations:
            return
        if not self.fits(cpu_mhz, memory_mb):
            raise InsufficientCapacity(
                f"Host {self.host_id} has no room for {cpu_mhz} MHz and {memory_mb} MiB"
            )
        self._reserved(reservation_id=reservation_id, cpu_mhz=cpu_mhz, memory_mb=memory_mb)

    @event("Reserved")
    def _reserved(self, reservation_id: str, cpu_mhz: int, memory_mb: int) -> None:
        self.reservations[reservation_id] = (cpu_mhz, memory_mb)

    def release(self, reservation_id: str) -> None:
        """Give the room back; releasing what is not held is harmless (failures retry it)."""
        if reservation_id in self.reservations:
            self._released(reservation_id=reservation_id)

    @event("Released")
    def _released(self, reservation_id: str) -> None:
        del self.reservations[reservation_id]

    @event("Resized")
    def resize(self, cpu_mhz: int, memory_mb: int) -> None:
        self.cpu_mhz, self.memory_mb = cpu_mhz, memory_mb

    def set_overcommit(self, cpu: float, memory: float) -> None:
        if cpu < 1.0 or memory < 1.0:
            raise InvalidParameter("Over-commit ratios must be at least 1.0")
        self._overcommit_set(cpu=cpu, memory=memory)

    @event("OvercommitSet")
    def _overcommit_set(self, cpu: float, memory: float) -> None:
        self.cpu_overcommit, self.memory_overcommit = cpu, memory


def capacity_id(host_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, str(host_id))
