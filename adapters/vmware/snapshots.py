"""VMware snapshots: vSphere's snapshot tree of a VM (CreateSnapshot_Task, RevertToSnapshot_Task,
RemoveSnapshot_Task), found by name. Memory is taken only of a powered-on VM. A revert leaves the
VM in the power state it had before, whatever the snapshot's was."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

from adapters import HypervisorError, NotFoundOnHost, SnapshotInfo, SnapshotSpec, VmStatus


class VmwareSnapshots:
    """The snapshot half of `VmwareDriver`, which provides `_acting`, `_find`, `_find_or_none`."""

    _si: Any
    _acting: Any
    _find: Any
    _find_or_none: Any

    def create_snapshot(self, vm_name: str, snapshot: SnapshotSpec) -> SnapshotInfo:
        with self._acting("snapshot", vm_name):
            vm = self._find(vm_name)
            found = _named(vm, snapshot.name)
            if found is not None:
                return SnapshotInfo(snapshot.name, found.state == "poweredOn")
            memory = snapshot.memory and vm.runtime.powerState == "poweredOn"
            WaitForTask(
                vm.CreateSnapshot_Task(
                    name=snapshot.name,
                    description=snapshot.description,
                    memory=memory,
                    quiesce=snapshot.quiesce,
                )
            )
            return SnapshotInfo(snapshot.name, memory)

    def revert_snapshot(self, vm_name: str, snapshot_name: str) -> VmStatus:
        from adapters.vmware.driver import _status

        with self._acting("revert", vm_name):
            vm = self._find(vm_name)
            found = _named(vm, snapshot_name)
            if found is None:
                raise NotFoundOnHost(f"VM {vm_name!r} has no snapshot named {snapshot_name!r}")
            before = vm.runtime.powerState
            self._wait(found.snapshot.RevertToSnapshot_Task())
            now = vm.runtime.powerState
            if before == "poweredOn" and now != "poweredOn":
                WaitForTask(vm.PowerOnVM_Task())
            elif before == "poweredOff" and now != "poweredOff":
                WaitForTask(vm.PowerOffVM_Task())
            return _status(vm)

    def delete_snapshot(self, vm_name: str, snapshot_name: str) -> None:
        with self._acting("delete a snapshot of", vm_name):
            vm = self._find_or_none(vm_name)
            found = None if vm is None else _named(vm, snapshot_name)
            if found is not None:
                self._wait(found.snapshot.RemoveSnapshot_Task(removeChildren=False))

    def _wait(self, task: Any, timeout: float = 600.0) -> None:
        """Wait for a task of a snapshot. Reads only its state and error: govmomi's simulator
        names the snapshot as the task's entity, which pyVmomi refuses to read as TaskInfo."""
        collector = self._si.RetrieveContent().propertyCollector
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=task)],
            propSet=[
                vmodl.query.PropertyCollector.PropertySpec(
                    type=vim.Task, pathSet=["info.state", "info.error"]
                )
            ],
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (found,) = collector.RetrieveContents([spec])
            values = {prop.name: prop.val for prop in found.propSet}
            if values.get("info.state") == "success":
                return
            if values.get("info.state") == "error":
                raise values["info.error"]
            time.sleep(0.05)
        raise HypervisorError(f"a snapshot task did not finish within {timeout:g} s")

    def list_snapshots(self, vm_name: str) -> tuple[str, ...]:
        with self._acting("list the snapshots of", vm_name):
            return tuple(sorted(item.name for item in _tree(self._find(vm_name))))


def _tree(vm: Any) -> Iterator[Any]:
    """Every snapshot of the VM, depth first. The file layout is asked first: a VM without
    snapshots has no `snapshot` property at all (and govmomi's simulator fails to fetch it)."""
    layout = vm.layoutEx
    has_any = layout is not None and bool(layout.snapshot)
    pending = list(vm.snapshot.rootSnapshotList) if has_any else []
    while pending:
        item = pending.pop()
        yield item
        pending.extend(item.childSnapshotList or ())


def _named(vm: Any, name: str) -> Any:
    return next((item for item in _tree(vm) if item.name == name), None)
