"""What adapters do for snapshots: VM snapshots kept on the host, and volume snapshots.

A VM snapshot is the driver's own snapshot of the VM, kept on the host beside it: created,
reverted to and deleted by name. A volume snapshot is a point-in-time copy that outlives the
VM: the host takes a disk-only snapshot of the VM that holds the volume, the copy is made from
it, and the snapshot on the host is removed again, so nothing of it stays beside the VM (as
CloudStack backs a volume snapshot up to secondary storage and drops it from primary storage).
When the request names an image store, the copy is the snapshot's bytes (the driver's
`snapshot_image`) written there by the secondary storage worker; otherwise it is bookkeeping.

Every action is idempotent by name and desired state: a snapshot that exists is not taken
again, one that is gone is deleted without error, and a revert lands where it landed before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from adapters import Hypervisor, SnapshotSpec, secondary
from adapters.requests import Unsupported, param
from adapters.requests import name as _name


def _snapshot_name(params: dict[str, Any]) -> str:
    return str(param(params, "snapshot_name"))


def _create(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    spec = SnapshotSpec(
        _snapshot_name(params),
        str(params.get("description") or ""),
        bool(params.get("memory", False)),
        bool(params.get("quiesce", False)),
    )
    return asdict(driver.create_snapshot(_name(params), spec))


def _revert(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    return asdict(driver.revert_snapshot(_name(params), _snapshot_name(params)))


def _delete(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    driver.delete_snapshot(_name(params), _snapshot_name(params))
    return {"name": _name(params), "snapshot_name": _snapshot_name(params), "deleted": True}


def _volume_snapshot(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """A disk-only snapshot of the VM holding the volume, copied (to the image store the
    request names, if any), then dropped from the host."""
    name, snapshot_name = _name(params), _snapshot_name(params)
    export = getattr(driver, "snapshot_image", None)
    if params.get("store") and export is None:
        raise Unsupported(
            f"copying a volume snapshot to an image store is not supported by the "
            f"{driver.kind} adapter yet"
        )
    driver.create_snapshot(name, SnapshotSpec(snapshot_name, "volume snapshot", memory=False))
    stored: dict[str, Any] = {}
    try:
        if export is not None and params.get("store"):
            secrets = params.get("secrets") or {}
            disk_id = str(params.get("disk_id") or "")  # a data disk's; "" for the ROOT disk
            blocks = export(name, snapshot_name, disk_id)
            stored = secondary.store_snapshot(params, secrets, blocks)
    finally:
        driver.delete_snapshot(name, snapshot_name)
    return {"name": name, "snapshot_name": snapshot_name, "backed_up": True, **stored}


SNAPSHOT_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "create_vm_snapshot": _create,
    "revert_vm_snapshot": _revert,
    "delete_vm_snapshot": _delete,
    "snapshot_volume": _volume_snapshot,
}
