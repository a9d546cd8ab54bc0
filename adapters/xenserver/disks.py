"""Data disks of a XenServer VM: a VDI per disk (name label ``stratus-<volume id>``) on the host's
local storage repository, connected by a VBD whose ``userdevice`` is the disk's slot.

Attaching creates the VDI when the host has none by that label (VDI.create), then the VBD
(VBD.create) and, for a running VM, plugs it (VBD.plug; a halted VM plugs its VBDs when it
starts). Detaching unplugs a plugged VBD and destroys it (VBD.unplug, VBD.destroy); the VDI stays.
Resizing uses VDI.resize_online while a running VM has the disk plugged, VDI.resize otherwise.
"""

from __future__ import annotations

from typing import Any

from adapters import DiskSpec, DiskStatus, HypervisorError

GIB = 1024**3
_PREFIX = "stratus-"
_NOT_STORAGE = {"udev", "iso"}


def plug(api: Any, host_ref: str, vm_ref: str, disk: DiskSpec) -> DiskStatus:
    """Connect the disk in its slot (made if the host has no VDI by its label)."""
    found = _vbd_of(api, vm_ref, disk.disk_id)
    if found is not None:
        return _status(api, *found)
    wanted = str(disk.device_id)
    for ref in api.VM.get_VBDs(vm_ref):
        if api.VBD.get_record(ref)["userdevice"] == wanted:
            raise HypervisorError(f"slot {disk.device_id} of the VM is taken")
    vdi = _vdi(api, disk.disk_id) or api.VDI.create(_vdi_record(api, host_ref, disk))
    vbd = api.VBD.create(_vbd_record(vm_ref, vdi, wanted))
    if api.VM.get_power_state(vm_ref) == "Running":
        api.VBD.plug(vbd)
    return _status(api, vbd, api.VBD.get_record(vbd))


def unplug(api: Any, vm_ref: str, disk_id: str) -> None:
    found = _vbd_of(api, vm_ref, disk_id)
    if found is None:
        return
    vbd, record = found
    if record["currently_attached"]:
        api.VBD.unplug(vbd)
    api.VBD.destroy(vbd)


def resize(api: Any, vm_ref: str, disk_id: str, size_gb: int, *, shrink_ok: bool) -> DiskStatus:
    found = _vbd_of(api, vm_ref, disk_id)
    if found is None:
        raise HypervisorError(f"no disk {disk_id} is attached to the VM")
    current = _status(api, *found)
    if size_gb == current.size_gb:
        return current
    if size_gb < current.size_gb and not shrink_ok:
        raise HypervisorError(f"disk {disk_id} would shrink: not allowed")
    vbd, record = found
    resize_call = api.VDI.resize_online if record["currently_attached"] else api.VDI.resize
    resize_call(record["VDI"], str(size_gb * GIB))
    return _status(api, vbd, api.VBD.get_record(vbd))


def disks_of(api: Any, vm_ref: str) -> tuple[DiskStatus, ...]:
    found = []
    for vbd in api.VM.get_VBDs(vm_ref):
        record = api.VBD.get_record(vbd)
        if record["type"] == "Disk" and _label(api, record["VDI"]).startswith(_PREFIX):
            found.append(_status(api, vbd, record))
    return tuple(sorted(found, key=lambda disk: disk.device_id))


# Helpers ---------------------------------------------------------------------------------------


def _label(api: Any, vdi_ref: str) -> str:
    return str(api.VDI.get_name_label(vdi_ref))


def _vdi(api: Any, disk_id: str) -> str | None:
    refs = api.VDI.get_by_name_label(f"{_PREFIX}{disk_id}")
    return refs[0] if refs else None


def _vbd_of(api: Any, vm_ref: str, disk_id: str) -> tuple[str, dict[str, Any]] | None:
    vdi = _vdi(api, disk_id)
    if vdi is None:
        return None
    for vbd in api.VM.get_VBDs(vm_ref):
        record = api.VBD.get_record(vbd)
        if record["VDI"] == vdi:
            return vbd, record
    return None


def _status(api: Any, _vbd: str, record: dict[str, Any]) -> DiskStatus:
    vdi = api.VDI.get_record(record["VDI"])
    return DiskStatus(
        str(vdi["name_label"])[len(_PREFIX) :],
        int(record["userdevice"]),
        int(vdi["virtual_size"]) // GIB,
        str(vdi["uuid"]),
    )


def _local_sr(api: Any, host_ref: str) -> str:
    on_host = {pbd["SR"] for pbd in api.PBD.get_all_records().values() if pbd["host"] == host_ref}
    for ref, sr in api.SR.get_all_records().items():
        if (
            ref in on_host
            and not sr["shared"]
            and sr["type"] not in _NOT_STORAGE
            and sr["content_type"] != "iso"
        ):
            return str(ref)
    raise HypervisorError("the host has no local storage repository for data disks")


def _vdi_record(api: Any, host_ref: str, disk: DiskSpec) -> dict[str, Any]:
    return {
        "name_label": f"{_PREFIX}{disk.disk_id}",
        "name_description": "data disk made by Stratus",
        "SR": _local_sr(api, host_ref),
        "virtual_size": str(disk.size_gb * GIB),
        "type": "user",
        "sharable": False,
        "read_only": False,
        "other_config": {},
        "xenstore_data": {},
        "sm_config": {},
        "tags": [],
    }


def _vbd_record(vm_ref: str, vdi_ref: str, userdevice: str) -> dict[str, Any]:
    return {
        "VM": vm_ref,
        "VDI": vdi_ref,
        "userdevice": userdevice,
        "bootable": False,
        "mode": "RW",
        "type": "Disk",
        "empty": False,
        "other_config": {},
        "qos_algorithm_type": "",
        "qos_algorithm_params": {},
    }
