"""The XAPI stand-in's virtual disks: VDIs on the host's storage repositories and the VBDs that
connect them to VMs, with the rules and failure codes XAPI applies to them.

- `VDI.create` needs a storage SR (not ISO or removable media) and a positive `virtual_size`
  (an int64, sent as a string); `VDI.resize` refuses a VDI that a running VM has plugged
  (`VDI_IN_USE`), `VDI.resize_online` needs it plugged; `VDI.destroy` refuses one a VBD uses.
- `VBD.create` needs a VM and a VDI and a `userdevice` no other VBD of that VM has
  (`DEVICE_ALREADY_EXISTS`); `VBD.plug` needs the VM running (`VM_BAD_POWER_STATE`) and the VBD
  unplugged (`DEVICE_ALREADY_ATTACHED`); `VBD.unplug` needs it plugged
  (`DEVICE_ALREADY_DETACHED`); `VBD.destroy` refuses a plugged VBD (`DEVICE_ALREADY_ATTACHED`).
- Starting a VM plugs its VBDs, shutting it down unplugs them, destroying it destroys its VBDs
  (never its VDIs).
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from tests.peers.model import PeerHost


class XapiStorage:
    """VDIs and VBDs; mixed into `XapiPeer`, which calls `_init_storage` and the VM hooks."""

    host: PeerHost
    _fail: Any  # the peer's failure class

    def _init_storage(self, failure: type[Exception], srs: dict[str, dict[str, Any]]) -> None:
        self._fail = failure
        self._srs = srs
        self._vdis: dict[str, dict[str, Any]] = {}
        self._vbds: dict[str, dict[str, Any]] = {}
        self._disk_refs = itertools.count(1)

    def _storage_records(self, cls: str) -> dict[str, dict[str, Any]] | None:
        if cls == "VDI":
            return {ref: self._vdi_record(ref) for ref in self._vdis}
        if cls == "VBD":
            return {ref: dict(record) for ref, record in self._vbds.items()}
        return None

    def _vdi_record(self, ref: str) -> dict[str, Any]:
        vbds = [vbd for vbd, record in self._vbds.items() if record["VDI"] == ref]
        return {**self._vdis[ref], "VBDs": vbds}

    def vbds_of(self, vm_ref: str) -> list[str]:
        return [ref for ref, record in self._vbds.items() if record["VM"] == vm_ref]

    # -- VDI ------------------------------------------------------------------------------------

    def _VDI_create(self, record: dict[str, Any]) -> str:
        sr = self._srs.get(record.get("SR", ""))
        if sr is None:
            raise self._fail("HANDLE_INVALID", "SR", record.get("SR", ""))
        if sr["content_type"] == "iso" or sr["type"] in ("udev", "iso"):
            raise self._fail("SR_OPERATION_NOT_SUPPORTED", record["SR"])
        size = int(record.get("virtual_size", "0"))
        if size <= 0:
            raise self._fail("INVALID_VALUE", "virtual_size", str(record.get("virtual_size")))
        ref = f"OpaqueRef:vdi-{next(self._disk_refs)}"
        self._vdis[ref] = {
            "uuid": str(uuid.uuid4()),
            "name_label": str(record.get("name_label", "")),
            "name_description": str(record.get("name_description", "")),
            "SR": record["SR"],
            "virtual_size": str(size),
            "type": str(record.get("type", "user")),
            "other_config": dict(record.get("other_config", {})),
        }
        return ref

    def _vdi(self, ref: str) -> dict[str, Any]:
        if ref not in self._vdis:
            raise self._fail("HANDLE_INVALID", "VDI", ref)
        return self._vdis[ref]

    def _plugged(self, vdi_ref: str) -> bool:
        return any(r["VDI"] == vdi_ref and r["currently_attached"] for r in self._vbds.values())

    def _VDI_resize(self, ref: str, size: str) -> str:
        vdi = self._vdi(ref)
        if self._plugged(ref):
            raise self._fail("VDI_IN_USE", ref, "resize")
        vdi["virtual_size"] = str(int(size))
        return ""

    def _VDI_resize_online(self, ref: str, size: str) -> str:
        vdi = self._vdi(ref)
        if not self._plugged(ref):
            raise self._fail("VDI_NOT_AVAILABLE", ref)
        vdi["virtual_size"] = str(int(size))
        return ""

    def _VDI_destroy(self, ref: str) -> str:
        self._vdi(ref)
        if any(r["VDI"] == ref for r in self._vbds.values()):
            raise self._fail("VDI_IN_USE", ref, "destroy")
        del self._vdis[ref]
        return ""

    # -- VBD ------------------------------------------------------------------------------------

    def _VBD_create(self, record: dict[str, Any]) -> str:
        vm_ref, vdi_ref = record.get("VM", ""), record.get("VDI", "")
        if vm_ref not in self.host.vms:
            raise self._fail("HANDLE_INVALID", "VM", vm_ref)
        self._vdi(vdi_ref)
        device = str(record.get("userdevice", ""))
        if any(self._vbds[v]["userdevice"] == device for v in self.vbds_of(vm_ref)):
            raise self._fail("DEVICE_ALREADY_EXISTS", device)
        ref = f"OpaqueRef:vbd-{next(self._disk_refs)}"
        self._vbds[ref] = {
            "uuid": str(uuid.uuid4()),
            "VM": vm_ref,
            "VDI": vdi_ref,
            "userdevice": device,
            "mode": str(record.get("mode", "RW")),
            "type": str(record.get("type", "Disk")),
            "bootable": bool(record.get("bootable", False)),
            "currently_attached": False,
        }
        return ref

    def _vbd(self, ref: str) -> dict[str, Any]:
        if ref not in self._vbds:
            raise self._fail("HANDLE_INVALID", "VBD", ref)
        return self._vbds[ref]

    def _VBD_plug(self, ref: str) -> str:
        vbd = self._vbd(ref)
        vm = self.host.vms[vbd["VM"]]
        if vm.state != "Running":
            raise self._fail("VM_BAD_POWER_STATE", vbd["VM"], "running", vm.state.lower())
        if vbd["currently_attached"]:
            raise self._fail("DEVICE_ALREADY_ATTACHED", ref)
        vbd["currently_attached"] = True
        return ""

    def _VBD_unplug(self, ref: str) -> str:
        vbd = self._vbd(ref)
        if not vbd["currently_attached"]:
            raise self._fail("DEVICE_ALREADY_DETACHED", ref)
        vbd["currently_attached"] = False
        return ""

    def _VBD_destroy(self, ref: str) -> str:
        if self._vbd(ref)["currently_attached"]:
            raise self._fail("DEVICE_ALREADY_ATTACHED", ref)
        del self._vbds[ref]
        return ""

    # -- hooks of the VM lifecycle --------------------------------------------------------------

    def vm_started(self, vm_ref: str) -> None:
        for ref in self.vbds_of(vm_ref):
            self._vbds[ref]["currently_attached"] = True

    def vm_halted(self, vm_ref: str) -> None:
        for ref in self.vbds_of(vm_ref):
            self._vbds[ref]["currently_attached"] = False

    def vm_destroyed(self, vm_ref: str) -> None:
        for ref in self.vbds_of(vm_ref):
            del self._vbds[ref]
