"""Snapshot: a manual point-in-time copy of one volume, which outlives the volume.

A volume that a host holds (its VM runs or ran there) is copied through that host's adapter:
the snapshot records `BackupRequested` with the request, and the adapter's result becomes
`CreatedOnPrimary` then `BackedUp`, or `Failed`. A volume no hypervisor ever held is recorded
`BackedUp` at once, from its size. `BackedUp` and `Destroyed` carry the size: usage bills from
them alone.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.template import StoreTarget, removal_fields
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
        self.kind = ""  # the kind of adapter that took it
        self.target: dict[str, Any] = {}  # the image store its copy is written to
        self.stored: dict[str, Any] = {}  # where the copy is: store id, path, cached copy

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
        self,
        request_id: str,
        job_id: UUID | None,
        access: HostAccess,
        vm_name: str,
        target: StoreTarget | None = None,
    ) -> None:
        """Ask the host holding the volume to copy it; `vm_name` names its VM there. With a
        `target`, the copy is written to that image store right after (4.3's
        `snapshot.backup.rightafter`)."""
        if self.state != SnapshotState.ALLOCATED or self.request_id is not None:
            raise InvalidState(f"Snapshot {self.name} is already being taken")
        store: dict[str, Any] = {
            "store": dict(target.store) if target else {},
            "staging": dict(target.staging) if target else {},
            "store_secrets": dict(target.secrets) if target else {},
        }
        disk_id = "" if self.volume["kind"] == "ROOT" else str(self.volume["id"])
        self._backup_requested(
            **host_request(request_id, job_id, access, vm_name), **store, disk_id=disk_id
        )

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
        store: dict[str, Any] | None = None,
        staging: dict[str, Any] | None = None,
        store_secrets: dict[str, Secret] | None = None,
        disk_id: str = "",  # the data disk copied, "" for a ROOT disk (and in older events)
    ) -> None:
        self.request_id, self.job_id = request_id, job_id
        self.kind = hypervisor
        self.target = (
            {"store": store, "staging": staging or {}, "secrets": store_secrets or {}}
            if store
            else {}
        )

    def stored_in(self, store_id: str, path: str, cache_store_id: str) -> None:
        """The copy is in image store `store_id` at `path` (cached in the staging store)."""
        self._image_stored(store_id=store_id, path=path, cache_store_id=cache_store_id)

    @event("ImageStored")
    def _image_stored(self, store_id: str, path: str, cache_store_id: str) -> None:
        self.stored = {"store_id": store_id, "path": path, "cache_store_id": cache_store_id}

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
        if self.stored:
            self._removal_requested(
                request_id=uuid5(self.id, f"remove {self.version}").hex,
                kind=self.kind,
                **removal_fields(self.stored, self.target),
            )
        self._destroyed(size_bytes=self.size_bytes)

    @event("ImageRemovalRequested")
    def _removal_requested(
        self,
        request_id: str,
        kind: str,
        path: str,
        store_id: str,
        cache_store_id: str,
        store: dict[str, Any],
        staging: dict[str, Any],
        store_secrets: dict[str, Secret],
    ) -> None:
        self.stored = {}

    @event("Destroyed")
    def _destroyed(self, size_bytes: int) -> None:
        self.state, self.removed = SnapshotState.DESTROYED, True
