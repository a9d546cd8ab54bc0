"""Data disks of a Hyper-V VM: a VHDX per disk (``stratus-<volume id>.vhdx`` in the host's
VirtualHardDiskPath) on the VM's SCSI controller 0, at the location of the disk's slot.

Attaching makes the file when the host has none (New-VHD), then adds the drive
(Add-VMHardDiskDrive; generation 2 VMs take SCSI disks while running). Detaching removes the
drive (Remove-VMHardDiskDrive) and keeps the file. Resizing is Resize-VHD (a VHDX on SCSI grows
online). Every value in a script is quoted by the driver's `quote` or is an integer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from adapters import DiskSpec, DiskStatus, HypervisorError

GIB = 1024**3
_PREFIX = "stratus-"
Run = Callable[[str], list[str]]


def _quote(value: str) -> str:
    # The driver imports this module: its quoting is taken when a script is written.
    from adapters.hyperv.driver import quote

    return quote(value)


def plug(run: Run, name: str, disk: DiskSpec) -> DiskStatus:
    """Add the disk in its slot (its file made if missing); a plugged one is left alone."""
    path = _path(run, disk.disk_id)
    drives = _drives(run, name)
    for drive in drives:
        if drive["Path"] == path:
            return _status(run, drive)
    if any(int(drive["ControllerLocation"]) == disk.device_id for drive in drives):
        raise HypervisorError(f"slot {disk.device_id} of {name} is taken")
    if _size(run, path) is None:
        run(f"New-VHD -Path {_quote(path)} -SizeBytes {int(disk.size_gb) * GIB} | Out-Null")
    run(
        f"Add-VMHardDiskDrive -VMName {_quote(name)} -ControllerType SCSI -ControllerNumber 0"
        f" -ControllerLocation {int(disk.device_id)} -Path {_quote(path)}"
    )
    return _status(run, {"ControllerLocation": disk.device_id, "Path": path})


def unplug(run: Run, name: str, disk_id: str) -> None:
    path = _path(run, disk_id)
    if any(drive["Path"] == path for drive in _drives(run, name)):
        run(
            f"Get-VMHardDiskDrive -VMName {_quote(name)} | Where-Object Path -eq {_quote(path)}"
            " | Remove-VMHardDiskDrive"
        )


def resize(run: Run, name: str, disk_id: str, size_gb: int, *, shrink_ok: bool) -> DiskStatus:
    path = _path(run, disk_id)
    drive = next((d for d in _drives(run, name) if d["Path"] == path), None)
    if drive is None:
        raise HypervisorError(f"no disk {disk_id} is attached to {name}")
    current = _status(run, drive)
    if size_gb == current.size_gb:
        return current
    if size_gb < current.size_gb and not shrink_ok:
        raise HypervisorError(f"disk {disk_id} of {name} would shrink: not allowed")
    run(f"Resize-VHD -Path {_quote(path)} -SizeBytes {int(size_gb) * GIB}")
    return _status(run, drive)


def disks_of(run: Run, name: str) -> tuple[DiskStatus, ...]:
    found = [_status(run, d) for d in _drives(run, name) if _disk_id(d["Path"]) is not None]
    return tuple(sorted(found, key=lambda disk: disk.device_id))


# Helpers ---------------------------------------------------------------------------------------


def _objects(lines: list[str]) -> list[dict[str, Any]]:
    if not lines:
        return []
    value = json.loads(lines[0])  # ConvertTo-Json writes one object bare, several as an array
    return value if isinstance(value, list) else [value]


def _path(run: Run, disk_id: str) -> str:
    found = _objects(
        run("Get-VMHost | Select-Object VirtualHardDiskPath | ConvertTo-Json -Compress")
    )
    directory = str(found[0]["VirtualHardDiskPath"]) if found else ""
    if not directory:
        raise HypervisorError("the Hyper-V host names no VirtualHardDiskPath for new disks")
    return f"{directory.rstrip(chr(92))}\\{_PREFIX}{disk_id}.vhdx"


def _drives(run: Run, name: str) -> list[dict[str, Any]]:
    return _objects(
        run(
            f"Get-VMHardDiskDrive -VMName {_quote(name)}"
            " | Select-Object ControllerLocation,Path | ConvertTo-Json -Compress"
        )
    )


def _size(run: Run, path: str) -> int | None:
    found = _objects(
        run(
            f"Get-VHD -Path {_quote(path)} -ErrorAction SilentlyContinue"
            " | Select-Object Path,Size | ConvertTo-Json -Compress"
        )
    )
    return int(found[0]["Size"]) if found else None


def _disk_id(path: str) -> str | None:
    file_name = path.rsplit("\\", 1)[-1]
    if not (file_name.startswith(_PREFIX) and file_name.endswith(".vhdx")):
        return None
    return file_name[len(_PREFIX) : -len(".vhdx")]


def _status(run: Run, drive: dict[str, Any]) -> DiskStatus:
    path = str(drive["Path"])
    size = _size(run, path) or 0
    return DiskStatus(_disk_id(path) or "", int(drive["ControllerLocation"]), size // GIB, path)
