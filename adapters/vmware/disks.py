"""Data disks of a vSphere VM: a VMDK per disk (``[datastore] <vm>/stratus-<volume id>.vmdk``) on
the VM's paravirtual SCSI controller, at the unit number of the disk's slot, changed with
ReconfigVM_Task. Detaching removes the device and keeps the file, so attaching the disk again
finds it; growing edits the device's capacity.

Facts of govmomi's simulator (vcsim), what the tests run against: a VM made by CreateVM_Task has
IDE but no SCSI controller (one is added with the first disk, in the same reconfiguration); adding
a disk whose file does not exist, without a create operation, answers FileNotFound; a VMDK added
again reports the capacity the spec gives (0 when none), since vcsim reads no descriptor, so the
spec carries the size Stratus has on record (vSphere itself reads it from the disk).
"""

from __future__ import annotations

from typing import Any

from pyVim.task import WaitForTask
from pyVmomi import vim

from adapters import DiskSpec, DiskStatus, HypervisorError

KIB_PER_GIB = 1024 * 1024
_PREFIX = "stratus-"
_CONTROLLER_UNIT = 7  # a SCSI controller takes unit 7 of its own bus


def plug(vm: Any, disk: DiskSpec) -> DiskStatus:
    """Add the disk in its slot (made if its file does not exist); a plugged one is left alone."""
    found = _device(vm, disk.disk_id)
    if found is not None:
        return _status(found)
    if disk.device_id == _CONTROLLER_UNIT or not 0 < disk.device_id < 16:
        raise HypervisorError(f"slot {disk.device_id} has no SCSI unit on vSphere")
    controller, changes = _controller(vm)
    if any(d.controllerKey == controller and d.unitNumber == disk.device_id for d in _disks(vm)):
        raise HypervisorError(f"slot {disk.device_id} of {vm.name} is taken")
    try:
        _reconfigure(vm, [*changes, _add(vm, disk, controller, create=False)])
    except vim.fault.FileNotFound:
        _, changes = _controller(vm)
        _reconfigure(vm, [*changes, _add(vm, disk, controller, create=True)])
    plugged = _device(vm, disk.disk_id)
    assert plugged is not None
    return _status(plugged)


def unplug(vm: Any, disk_id: str) -> None:
    """Remove the disk's device and keep its file; nothing to do when it is not plugged."""
    found = _device(vm, disk_id)
    if found is not None:
        _reconfigure(vm, [vim.vm.device.VirtualDeviceSpec(operation="remove", device=found)])


def resize(vm: Any, disk_id: str, size_gb: int, *, shrink_ok: bool) -> DiskStatus:
    found = _device(vm, disk_id)
    if found is None:
        raise HypervisorError(f"no disk {disk_id} is attached to {vm.name}")
    current = _status(found)
    if size_gb == current.size_gb:
        return current
    if size_gb < current.size_gb and not shrink_ok:
        raise HypervisorError(f"disk {disk_id} of {vm.name} would shrink: not allowed")
    found.capacityInKB = size_gb * KIB_PER_GIB
    found.capacityInBytes = size_gb * KIB_PER_GIB * 1024
    _reconfigure(vm, [vim.vm.device.VirtualDeviceSpec(operation="edit", device=found)])
    resized = _device(vm, disk_id)
    assert resized is not None
    return _status(resized)


def disks_of(vm: Any) -> tuple[DiskStatus, ...]:
    found = [_status(d) for d in _disks(vm) if _disk_id(d) is not None]
    return tuple(sorted(found, key=lambda disk: disk.device_id))


# Helpers ---------------------------------------------------------------------------------------


def _disks(vm: Any) -> list[Any]:
    devices = vm.config.hardware.device
    return [d for d in devices if isinstance(d, vim.vm.device.VirtualDisk)]


def _disk_id(device: Any) -> str | None:
    name = str(getattr(device.backing, "fileName", "") or "").rsplit("/", 1)[-1]
    if not (name.startswith(_PREFIX) and name.endswith(".vmdk")):
        return None
    return name[len(_PREFIX) : -len(".vmdk")]


def _device(vm: Any, disk_id: str) -> Any:
    return next((d for d in _disks(vm) if _disk_id(d) == disk_id), None)


def _status(device: Any) -> DiskStatus:
    return DiskStatus(
        _disk_id(device) or "",
        int(device.unitNumber),
        int(device.capacityInKB or 0) // KIB_PER_GIB,
        str(device.backing.fileName),
    )


def _controller(vm: Any) -> tuple[int, list[Any]]:
    """The key of the VM's SCSI controller, and the change that adds one when it has none."""
    for device in vm.config.hardware.device:
        if isinstance(device, vim.vm.device.VirtualSCSIController):
            return device.key, []
    controller = vim.vm.device.ParaVirtualSCSIController(
        key=-100, busNumber=0, sharedBus="noSharing"
    )
    return -100, [vim.vm.device.VirtualDeviceSpec(operation="add", device=controller)]


def _add(vm: Any, disk: DiskSpec, controller: int, *, create: bool) -> Any:
    datastore = vm.config.files.vmPathName.split("]", 1)[0].lstrip("[")
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
        fileName=f"[{datastore}] {vm.name}/{_PREFIX}{disk.disk_id}.vmdk",
        diskMode="persistent",
        thinProvisioned=True,
    )
    device = vim.vm.device.VirtualDisk(
        key=-101,
        controllerKey=controller,
        unitNumber=disk.device_id,
        capacityInKB=disk.size_gb * KIB_PER_GIB,
        backing=backing,
    )
    spec = vim.vm.device.VirtualDeviceSpec(operation="add", device=device)
    if create:
        spec.fileOperation = "create"
    return spec


def _reconfigure(vm: Any, changes: list[Any]) -> None:
    WaitForTask(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=changes)))
