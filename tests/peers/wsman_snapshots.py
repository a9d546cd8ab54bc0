"""The WS-Man stand-in's checkpoints: Get-VMSnapshot, Checkpoint-VM, Restore-VMSnapshot and
Remove-VMSnapshot, as Hyper-V behaves.

A checkpoint keeps the VM's processor count and memory, and (for a running VM) its memory state:
its `State` is the VM's state when it was taken. Hyper-V allows two checkpoints of one name.
Restoring turns the VM off and applies the checkpoint; one taken while the VM ran leaves it Saved.
Restore-VMSnapshot and Remove-VMSnapshot ask for confirmation, which a remote session can only
give as `-Confirm:$false`. Removing a VM removes its checkpoints.
"""

from __future__ import annotations

from typing import Any

# Hyper-V's VMState numbers (as in tests.peers.wsman.VM_STATE).
_STATE = {"Running": 2, "Stopped": 3, "Suspended": 6, "Paused": 9}


class CheckpointCmdlets:
    """Checkpoint cmdlets; mixed into the interpreter, which provides `_ps_error`."""

    _ps_error: Any

    def _vm_objects(self, items: Any) -> list[Any]:
        if items is None:
            raise self._ps_error("The cmdlet needs VM objects from the pipeline.")
        return [item["__vm"] for item in items]

    def _get_vmsnapshot(self, items: Any, _named: dict[str, Any], _pos: list[str]) -> list[Any]:
        return [
            {"Name": c["Name"], "State": c["State"], "VMName": vm.name, "__vm": vm, "__cp": c}
            for vm in self._vm_objects(items)
            for c in vm.snapshots
        ]

    def _checkpoint_vm(self, items: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        for vm in self._vm_objects(items):
            vm.snapshots.append(
                {
                    "Name": str(named["SnapshotName"]),
                    "State": _STATE[vm.state],
                    "cpus": vm.cpus,
                    "memory_bytes": vm.memory_bytes,
                }
            )
        return []

    def _confirmed(self, cmdlet: str, named: dict[str, Any]) -> None:
        if named.get("Confirm") != "$false":
            raise self._ps_error(
                f"{cmdlet} needs confirmation, which a remote session cannot give."
            )

    def _restore_vmsnapshot(self, items: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        self._confirmed("Restore-VMSnapshot", named)
        for item in items or ():
            vm, checkpoint = item["__vm"], item["__cp"]
            vm.cpus, vm.memory_bytes = checkpoint["cpus"], checkpoint["memory_bytes"]
            vm.state = "Suspended" if checkpoint["State"] == _STATE["Running"] else "Stopped"
        return []

    def _remove_vmsnapshot(self, items: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        self._confirmed("Remove-VMSnapshot", named)
        for item in items or ():
            vm, checkpoint = item["__vm"], item["__cp"]
            vm.snapshots[:] = [c for c in vm.snapshots if c is not checkpoint]
        return []
