"""Hyper-V snapshots: checkpoints (Checkpoint-VM, Restore-VMSnapshot, Remove-VMSnapshot) found by
exact name through the VM's pipeline. A standard checkpoint of a running VM always keeps its
memory (saved state), whatever was asked. After a restore the VM is put back in the power state it
had: Hyper-V leaves it off, or saved for a checkpoint taken while it ran."""

from __future__ import annotations

from typing import Any

from adapters import NotFoundOnHost, SnapshotInfo, SnapshotSpec, VmStatus

# Hyper-V's VMState of a checkpoint taken while the VM ran (a number, or its name on newer hosts).
_RAN = (2, "Running")


class HypervSnapshots:
    """The snapshot half of `HypervDriver`, which provides `_run`, `_lookup` and `_status`."""

    _run: Any
    _lookup: Any
    _status: Any

    def create_snapshot(self, vm_name: str, snapshot: SnapshotSpec) -> SnapshotInfo:
        from adapters.hyperv.driver import _select, quote

        found = self._checkpoint(vm_name, snapshot.name)
        if found is None:
            self._run(f"{_select(vm_name)} | Checkpoint-VM -SnapshotName {quote(snapshot.name)}")
            found = self._checkpoint(vm_name, snapshot.name) or {}
        return SnapshotInfo(snapshot.name, found.get("State") in _RAN)

    def revert_snapshot(self, vm_name: str, snapshot_name: str) -> VmStatus:
        from adapters.hyperv.driver import _select

        if self._checkpoint(vm_name, snapshot_name) is None:
            raise NotFoundOnHost(f"VM {vm_name!r} has no checkpoint named {snapshot_name!r}")
        before = self._status(vm_name).state
        self._run(f"{_checkpoints(vm_name, snapshot_name)} | Restore-VMSnapshot -Confirm:$false")
        now = self._status(vm_name).state
        if before == "Running" and now != "Running":
            self._run(f"{_select(vm_name)} | Start-VM")
        elif before == "Stopped" and now != "Stopped":
            self._run(f"{_select(vm_name)} | Stop-VM -TurnOff -Force")
        status: VmStatus = self._status(vm_name)
        return status

    def delete_snapshot(self, vm_name: str, snapshot_name: str) -> None:
        if self._lookup(vm_name) is None or self._checkpoint(vm_name, snapshot_name) is None:
            return
        self._run(f"{_checkpoints(vm_name, snapshot_name)} | Remove-VMSnapshot -Confirm:$false")

    def list_snapshots(self, vm_name: str) -> tuple[str, ...]:
        return tuple(sorted(c["Name"] for c in self._checkpoints(vm_name)))

    def _checkpoints(self, vm_name: str) -> list[dict[str, Any]]:
        from adapters.hyperv.driver import _objects, _select

        self._status(vm_name)  # NotFoundOnHost for a VM that is not there
        lines = self._run(
            f"{_select(vm_name)} | Get-VMSnapshot | Select-Object Name,State "
            "| ConvertTo-Json -Compress"
        )
        return _objects(lines[0]) if lines else []

    def _checkpoint(self, vm_name: str, name: str) -> dict[str, Any] | None:
        return next((c for c in self._checkpoints(vm_name) if c["Name"] == name), None)


def _checkpoints(vm_name: str, name: str) -> str:
    from adapters.hyperv.driver import _select, quote

    return f"{_select(vm_name)} | Get-VMSnapshot | Where-Object Name -ceq {quote(name)}"
