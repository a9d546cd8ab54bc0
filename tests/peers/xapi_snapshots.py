"""The XAPI stand-in's snapshots: snapshot VMs as XAPI keeps them.

- `VM.snapshot(vm, new_name)` copies the VM's shape into a halted template with `is_a_snapshot`
  and `snapshot_of`; `VM.checkpoint` does the same with its memory (the snapshot is
  `Suspended`) and needs the VM running (`VM_BAD_POWER_STATE`).
- `VM.revert(snapshot)` puts the shape back and leaves the VM halted, or suspended for a
  checkpoint; `VM.destroy(snapshot)` removes the snapshot only. The VM lists its snapshots in
  its record's `snapshots`; destroying a VM leaves its snapshots behind, as XAPI does.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from tests.peers.model import PeerHost


class XapiSnapshots:
    """Snapshot VMs; mixed into `XapiPeer`, which calls `_init_snapshots` and the hooks below."""

    host: PeerHost
    _vm: Any
    _vm_limits: dict[str, dict[str, Any]]
    vm_halted: Any

    def _init_snapshots(self, failure: type[Exception]) -> None:
        self._snapshot_fail = failure
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._snapshot_refs = itertools.count(1)

    def snapshot_records(self) -> dict[str, dict[str, Any]]:
        return {ref: dict(record) for ref, record in self._snapshots.items()}

    def snapshots_of(self, vm_ref: str) -> list[str]:
        return [ref for ref, record in self._snapshots.items() if record["snapshot_of"] == vm_ref]

    def destroy_snapshot(self, ref: str) -> bool:
        """VM.destroy of a snapshot; False when `ref` is no snapshot."""
        return self._snapshots.pop(ref, None) is not None

    def _take(self, ref: str, name: str, memory: bool) -> str:
        vm = self._vm(ref)
        limits = self._vm_limits[ref]
        snapshot = f"OpaqueRef:snapshot-{next(self._snapshot_refs)}"
        self._snapshots[snapshot] = {
            "uuid": str(uuid.uuid4()),
            "name_label": name,
            "power_state": "Suspended" if memory else "Halted",
            "is_a_template": True,
            "is_a_snapshot": True,
            "is_control_domain": False,
            "snapshot_of": ref,
            "VCPUs_max": limits["VCPUs_max"],
            "VCPUs_at_startup": str(vm.cpus),
            "memory_static_max": limits["memory_static_max"],
            "memory_static_min": limits["memory_static_min"],
            "memory_dynamic_max": str(vm.memory_bytes),
            "memory_dynamic_min": str(vm.memory_bytes),
        }
        return snapshot

    def _VM_snapshot(self, ref: str, new_name: str) -> str:
        return self._take(ref, new_name, memory=False)

    def _VM_checkpoint(self, ref: str, new_name: str) -> str:
        self._vm(ref, "Running")
        return self._take(ref, new_name, memory=True)

    def _VM_revert(self, snapshot: str) -> str:
        record = self._snapshots.get(snapshot)
        if record is None:
            raise self._snapshot_fail("HANDLE_INVALID", "VM", snapshot)
        ref = record["snapshot_of"]
        vm = self._vm(ref)
        if vm.state != "Stopped":
            vm.state = "Stopped"
            self.vm_halted(ref)
        vm.cpus = int(record["VCPUs_at_startup"])
        vm.memory_bytes = int(record["memory_dynamic_max"])
        self._vm_limits[ref].update(
            VCPUs_max=record["VCPUs_max"],
            memory_static_max=record["memory_static_max"],
            memory_static_min=record["memory_static_min"],
        )
        if record["power_state"] == "Suspended":
            vm.state = "Suspended"
        return ""
