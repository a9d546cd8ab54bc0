"""The snapshots read models: volume snapshots (listSnapshots) and VM snapshots (listVMSnapshot)."""

from __future__ import annotations

from typing import Any

from domain.snapshot import Snapshot, SnapshotState
from domain.vm_snapshot import VMSnapshot, VmSnapshotChain, VmSnapshotState
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

SNAPSHOT: Any = Snapshot  # events made by the library's decorator: type checkers cannot see them
VM_SNAPSHOT: Any = VMSnapshot
CHAIN: Any = VmSnapshotChain


def _id(e: Any) -> str:
    return str(e.originator_id)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class SnapshotsProjection(Projection):
    """Keeps `snapshots` and `vm_snapshots`."""

    name = "snapshots"
    summary = "volume and VM snapshots"
    tables = ("snapshots", "vm_snapshots")

    def _set(self, c: Cursor, table: str, e: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %s" for name in columns)
        c.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", (*columns.values(), _id(e)))

    # Volume snapshots ---------------------------------------------------------------------

    @on(SNAPSHOT.Allocated)
    def allocated(self, e: Any, c: Cursor, t: Tables) -> None:
        volume = e.volume
        c.execute(
            f"INSERT INTO {t.snapshots} (id, name, account_id, domain_id, zone_id, volume_id, "
            "volume_name, volume_type, size_bytes, state, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                e.name,
                str(e.owner_account_id),
                str(e.owner_domain_id),
                str(e.zone_id),
                str(volume["id"]),
                volume["name"],
                volume["kind"],
                int(volume["size_gb"]) * 1024**3,
                SnapshotState.ALLOCATED,
                e.timestamp.isoformat(),
            ),
        )

    @on(SNAPSHOT.CreatedOnPrimary)
    def on_primary(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.snapshots, e, state=SnapshotState.CREATED_ON_PRIMARY)

    @on(SNAPSHOT.BackedUp)
    def backed_up(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.snapshots, e, state=SnapshotState.BACKED_UP, size_bytes=e.size_bytes)

    @on(SNAPSHOT.Scheduled)
    def scheduled(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.snapshots, e, policy_id=str(e.policy_id), interval_type=e.interval)

    @on(SNAPSHOT.Failed)
    def failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.snapshots, e, state=SnapshotState.ERROR)

    @on(SNAPSHOT.Destroyed)
    def destroyed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.snapshots, e, state=SnapshotState.DESTROYED, removed=1)

    # VM snapshots -------------------------------------------------------------------------

    @on(VM_SNAPSHOT.Allocated)
    def vm_allocated(self, e: Any, c: Cursor, t: Tables) -> None:
        vm = e.vm
        c.execute(
            f"INSERT INTO {t.vm_snapshots} (id, name, display_name, description, vm_id, "
            "account_id, domain_id, zone_id, memory, parent_id, state, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                e.name,
                e.display_name,
                e.description,
                str(vm["id"]),
                str(vm["account_id"]),
                str(vm["domain_id"]),
                str(vm["zone_id"]),
                1 if e.memory else 0,
                _text(e.parent_id),
                VmSnapshotState.ALLOCATED,
                e.timestamp.isoformat(),
            ),
        )

    @on(VM_SNAPSHOT.CreateRequested)
    def creating(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.vm_snapshots, e, state=VmSnapshotState.CREATING)

    @on(VM_SNAPSHOT.RevertRequested)
    def reverting(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.vm_snapshots, e, state=VmSnapshotState.REVERTING)

    @on(VM_SNAPSHOT.DeleteRequested)
    def expunging(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.vm_snapshots, e, state=VmSnapshotState.EXPUNGING)

    @on(VM_SNAPSHOT.Created, VM_SNAPSHOT.Reverted)
    def ready(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.vm_snapshots, e, state=VmSnapshotState.READY)

    @on(VM_SNAPSHOT.RequestFailed)
    def request_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.vm_snapshots, e, state=e.state)

    @on(VM_SNAPSHOT.Destroyed)
    def vm_destroyed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t.vm_snapshots, e, state=VmSnapshotState.EXPUNGING, removed=1, current=0)

    @on(CHAIN.Settled, CHAIN.Removed)
    def current(self, e: Any, c: Cursor, t: Tables) -> None:
        """The chain names its current snapshot: that one row of the VM is current."""
        c.execute(
            f"UPDATE {t.vm_snapshots} SET current = CASE WHEN id = %s THEN 1 ELSE 0 END "
            f"WHERE vm_id = (SELECT vm_id FROM {t.vm_snapshots} WHERE id = %s)",
            (_text(e.current) or "", str(e.snapshot_id)),
        )


READ_MODELS = (SnapshotsProjection,)
