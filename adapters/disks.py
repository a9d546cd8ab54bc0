"""What adapters do for data disks: attach, detach and resize on a VM's host, and the disks a
start request carries.

A disk is named on the host by its volume's id (`disk_id`) and plugged into the slot the server
chose (`device_id`). Results carry what the hypervisor reports afterwards, so the server (and an
operator reading the results) sees the host's side of the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from adapters import DiskSpec, Hypervisor, HypervisorError


def _bad(message: str) -> HypervisorError:
    # adapters.sessions merges DISK_ACTIONS when it loads: its BadRequest is taken late.
    from adapters.sessions import BadRequest

    return BadRequest(message)


def _param(params: dict[str, Any], key: str) -> Any:
    if key not in params:
        raise _bad(f"parameter {key!r} is missing")
    return params[key]


def _whole(params: dict[str, Any], key: str) -> int:
    try:
        return int(_param(params, key))
    except (TypeError, ValueError):
        raise _bad(f"parameter {key!r} must be a whole number") from None


def disk_spec(raw: Any) -> DiskSpec:
    """A disk of a request (a mapping with disk_id, device_id and size_gb)."""
    if not isinstance(raw, dict):
        raise _bad("a data disk must be a mapping")
    return DiskSpec(str(_param(raw, "disk_id")), _whole(raw, "device_id"), _whole(raw, "size_gb"))


def data_disks(raw: Any) -> tuple[DiskSpec, ...]:
    """The `data_disks` of a start request, by slot."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise _bad("parameter 'data_disks' must be a list")
    return tuple(sorted((disk_spec(item) for item in raw), key=lambda disk: disk.device_id))


def _name(params: dict[str, Any]) -> str:
    return str(_param(params, "name"))


def _attach(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    status = driver.attach_volume(_name(params), disk_spec(params))
    return {"name": _name(params), "disk": asdict(status), **_disks(driver, params)}


def _detach(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    driver.detach_volume(_name(params), str(_param(params, "disk_id")))
    return {"name": _name(params), **_disks(driver, params)}


def _resize(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    status = driver.resize_volume(
        _name(params),
        str(_param(params, "disk_id")),
        _whole(params, "size_gb"),
        shrink_ok=bool(params.get("shrink_ok", False)),
    )
    return {"name": _name(params), "disk": asdict(status), **_disks(driver, params)}


def _disks(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """Every data disk the VM has after the action, as the hypervisor reports it."""
    return {"disks": [asdict(disk) for disk in driver.vm_disks(_name(params))]}


DISK_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "attach_volume": _attach,
    "detach_volume": _detach,
    "resize_volume": _resize,
    "vm_disks": _disks,
}
