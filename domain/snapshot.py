"""Snapshot: a manual point-in-time copy of one volume, which outlives the volume.

A volume that a host holds (its VM runs or ran there) is copied through that host's adapter:
the snapshot records `BackupRequested` with the request, and the adapter's result becomes
`CreatedOnPrimary` then `BackedUp`, or `Failed`. A volume no hypervisor ever held is recorded
`BackedUp` at once, from its size. `BackedUp` and `Destroyed` carry the size: usage bills from
them alone.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret
from domain.vm import HostAccess, host_request


class SnapshotState:
    ALLOCATED = "Allocated"
    CREATED_ON_PRIMARY = "CreatedOnPrimary"
    BACKING_UP = "BackingUp"
    BACKED_UP = "BackedUp"
    ERROR = "Error"
    DESTROYED = "Destroyed"


MANUAL = "MANUAL"


class Snapshot(Aggregate):
    """A volume snapshot; at most one adapter request is in flight, and only its result counts."""

    @event("Allocated")
    def __init__(
        self,
        id: UUID,
        name: str,
        volume: dict[str, Any],  # id, name, kind, size_gb, vm_id
        owner_account_id: UUID,
        owner_domain_id: UUID,
        zone_id: UUID,
    ) -> None:
        if not name:
            raise InvalidParameter("A snapshot needs a name")
        self.name = name
        self.volume = dict(volume)
        self.account_id, self.domain_id, self.zone_id = owner_account_id, owner_domain_id, zone_id
        self.state = SnapshotState.ALLOCATED
        self.size_bytes = 0
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.removed = False
        self.policy_id: UUID | None = None
        self.interval = MANUAL

    def mark_scheduled(self, policy_id: UUID, interval: str) -> None:
        """Taken by a snapshot policy, not by hand: it is of the policy's interval type."""
        self._scheduled(policy_id=policy_id, interval=interval)

    @event("Scheduled")
    def _scheduled(self, policy_id: UUID, interval: str) -> None:
        self.policy_id, self.interval = policy_id, interval

    @property
    def size_of_volume(self) -> int:
        return int(self.volume["size_gb"]) * 1024**3

    def is_current(self, request_id: str) -> bool:
        return not self.removed and request_id == self.request_id

    def request_backup(
        self, request_id: str, job_id: UUID | None, access: HostAccess, vm_name: str
    ) -> None:
        """Ask the host holding the volume to copy it; `vm_name` names its VM there."""
        if self.state != SnapshotState.ALLOCATED or self.request_id is not None:
            raise InvalidState(f"Snapshot {self.name} is already being taken")
        self._backup_requested(**host_request(request_id, job_id, access, vm_name))

    @event("BackupRequested")
    def _backup_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
    ) -> None:
        self.request_id, self.job_id = request_id, job_id

    def confirm(self, request_id: str) -> None:
        """The host took the snapshot and the copy was made from it."""
        self._created_on_primary(request_id=request_id)
        self.record_backed_up()

    @event("CreatedOnPrimary")
    def _created_on_primary(self, request_id: str) -> None:
        self.state = SnapshotState.CREATED_ON_PRIMARY

    def record_backed_up(self) -> None:
        """The copy exists: from here on it is billed at the volume's size."""
        self._backed_up(size_bytes=self.size_of_volume, zone_id=self.zone_id)

    @event("BackedUp")
    def _backed_up(self, size_bytes: int, zone_id: UUID) -> None:
        self.state, self.size_bytes, self.request_id = SnapshotState.BACKED_UP, size_bytes, None

    def fail(self, request_id: str, reason: str) -> None:
        self._failed(request_id=request_id, reason=reason)

    @event("Failed")
    def _failed(self, request_id: str, reason: str) -> None:
        self.state, self.request_id = SnapshotState.ERROR, None

    def delete(self) -> None:
        """Remove the copy; only a finished (BackedUp) or failed (Error) one, as CloudStack."""
        if self.removed:
            raise InvalidState(f"Snapshot {self.name} has been deleted")
        if self.state not in (SnapshotState.BACKED_UP, SnapshotState.ERROR):
            raise InvalidState(
                f"Can't delete snapshot {self.name} due to it is not in BackedUp Status "
                f"(it is {self.state})"
            )
        self._destroyed(size_bytes=self.size_bytes)

    @event("Destroyed")
    def _destroyed(self, size_bytes: int) -> None:
        self.state, self.removed = SnapshotState.DESTROYED, True
