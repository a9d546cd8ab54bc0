"""The simulator's snapshots: kept in memory on the simulated VM, under the same knobs as every
other action (``fail=create_snapshot`` on a host URL, `SimulatedWorld.fail_next`, delays)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from adapters import HypervisorError, NotFoundOnHost, SnapshotInfo, SnapshotSpec, VmSpec, VmStatus


@dataclass(frozen=True)
class SavedState:
    """What a simulated snapshot keeps: the VM's shape, and whether its memory was taken."""

    spec: VmSpec
    memory: bool
    description: str


class SimulatedSnapshots:
    """The snapshot half of `SimulatorDriver`, which provides `world` and `_turn`."""

    world: Any

    def _turn(self, action: str) -> Any:
        raise HypervisorError("the simulator driver is not connected")

    def create_snapshot(self, vm_name: str, snapshot: SnapshotSpec) -> SnapshotInfo:
        with self._turn("create_snapshot") as host:
            vm = _vm(host, vm_name)
            saved = vm.snapshots.get(snapshot.name)
            if saved is None:
                memory = snapshot.memory and vm.state == "Running"
                saved = SavedState(vm.spec, memory, snapshot.description)
                vm.snapshots[snapshot.name] = saved
                self.world.record("create_snapshot")
            return SnapshotInfo(snapshot.name, saved.memory)

    def revert_snapshot(self, vm_name: str, snapshot_name: str) -> VmStatus:
        with self._turn("revert_snapshot") as host:
            vm = _vm(host, vm_name)
            saved = vm.snapshots.get(snapshot_name)
            if saved is None:
                raise NotFoundOnHost(f"VM {vm_name} has no snapshot named {snapshot_name}")
            if vm.state == "Running" and not saved.memory:
                raise HypervisorError(
                    f"cannot revert running VM {vm_name} to {snapshot_name}: it holds no memory"
                )
            vm.spec = saved.spec
            self.world.record("revert_snapshot")
            return VmStatus(vm.spec.name, vm.state, vm.spec.cpu_number, vm.spec.memory_mb)

    def delete_snapshot(self, vm_name: str, snapshot_name: str) -> None:
        with self._turn("delete_snapshot") as host:
            vm = host.vms.get(vm_name)
            if vm is not None and vm.snapshots.pop(snapshot_name, None) is not None:
                self.world.record("delete_snapshot")

    def snapshot_image(
        self, vm_name: str, snapshot_name: str, disk_id: str = ""
    ) -> Iterator[bytes]:
        """A snapshot's bytes as an image store keeps them: a simulated disk holds nothing but
        what the simulator records of it, so its copy is that record (the VM's shape then, and
        the data disk `disk_id` it was taken of, "" for the ROOT disk)."""
        with self._turn("snapshot_image") as host:
            saved = _vm(host, vm_name).snapshots.get(snapshot_name)
            if saved is None:
                raise NotFoundOnHost(f"VM {vm_name} has no snapshot named {snapshot_name}")
            record = {"vm": vm_name, "snapshot": snapshot_name, "spec": asdict(saved.spec),
                      "memory": saved.memory, **({"disk": disk_id} if disk_id else {})}  # fmt: skip
        return iter([orjson.dumps(record)])

    def list_snapshots(self, vm_name: str) -> tuple[str, ...]:
        with self._turn("list_snapshots") as host:
            return tuple(sorted(_vm(host, vm_name).snapshots))


def _vm(host: Any, name: str) -> Any:
    vm = host.vms.get(name)
    if vm is None:
        raise NotFoundOnHost(f"no VM named {name} on simulated host {host.name}")
    return vm
