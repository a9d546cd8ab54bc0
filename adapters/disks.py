"""What adapters do for disks: attach, detach and resize data disks on a VM's host, and move
a disk from one primary storage pool to another.

A disk is named on the host by its volume's id (`disk_id`) and plugged into the slot the server
chose (`device_id`). Results carry what the hypervisor reports afterwards, so the server (and an
operator reading the results) sees the host's side of the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from adapters import Hypervisor, VolumeMove, secondary
from adapters.requests import Unsupported, count, disk_spec, param
from adapters.requests import name as _name


def _attach(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """Plug the disk; a disk made from a snapshot first gets the copy's bytes, read from the
    image store the request names (refused before anything is done by a driver that cannot
    write them)."""
    source = params.get("source")
    fill = getattr(driver, "fill_volume", None)
    if source and fill is None:
        raise Unsupported(
            f"making a disk from a snapshot's copy is not supported by the {driver.kind} "
            "adapter yet"
        )
    disk = disk_spec(params)
    status = driver.attach_volume(_name(params), disk)
    filled: dict[str, Any] = {}
    if source and fill is not None:
        secrets = (params.get("secrets") or {}).get("source") or {}
        written = fill(_name(params), disk.disk_id, secondary.read_image(source, secrets))
        filled = {"filled_from": str(source.get("path") or ""), "filled_bytes": written}
    return {"name": _name(params), "disk": asdict(status), **filled, **_disks(driver, params)}


def _detach(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    driver.detach_volume(_name(params), str(param(params, "disk_id")))
    return {"name": _name(params), **_disks(driver, params)}


def _resize(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    status = driver.resize_volume(
        _name(params),
        str(param(params, "disk_id")),
        count(params, "size_gb"),
        shrink_ok=bool(params.get("shrink_ok", False)),
    )
    return {"name": _name(params), "disk": asdict(status), **_disks(driver, params)}


def volume_move(params: dict[str, Any]) -> VolumeMove:
    """The move a `migrate_volume` request asks for."""
    return VolumeMove(
        disk_id=str(param(params, "disk_id")),
        size_gb=count(params, "size_gb"),
        from_pool_id=str(param(params, "from_pool_id")),
        to_pool_id=str(param(params, "to_pool_id")),
        vm_name=str(params.get("name") or ""),
        root=params.get("kind") == "ROOT",
        live=bool(params.get("live", False)),
    )


def _migrate(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    return {"disk": asdict(driver.migrate_volume(volume_move(params)))}


def _disks(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """Every data disk the VM has after the action, as the hypervisor reports it."""
    return {"disks": [asdict(disk) for disk in driver.vm_disks(_name(params))]}


DISK_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "attach_volume": _attach,
    "detach_volume": _detach,
    "resize_volume": _resize,
    "vm_disks": _disks,
    "migrate_volume": _migrate,
}
