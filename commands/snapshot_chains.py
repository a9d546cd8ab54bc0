"""The per-VM chain of VM snapshots, and the snapshots that go when their VM is expunged.

Kept apart from commands.vm_snapshots so that commands.vms can call `follow_vm_snapshots`
from the save that expunges a VM without importing the VM snapshot commands (which use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.errors import NotFound
from domain.vm import VirtualMachine
from domain.vm_snapshot import VMSnapshot, VmSnapshotChain, chain_id


def chain_of(store: Any, vm_id: UUID, *, create: bool = False) -> VmSnapshotChain:
    """The VM's chain; a VM that never had a snapshot gets a new one when `create` says so."""
    try:
        chain: VmSnapshotChain = store.get(VmSnapshotChain, chain_id(vm_id), what="vm snapshots")
    except NotFound:
        if not create:
            raise
        chain = VmSnapshotChain(vm_id)
    return chain


def follow_vm_snapshots(store: Any, aggregates: Sequence[Any]) -> list[Any]:
    """The VM snapshots (and their chain) to save beside an expunged VM: its host removed them
    with the VM, so they are recorded gone in the same save."""
    vm = aggregates[0] if aggregates else None
    if not isinstance(vm, VirtualMachine) or not vm.removed:
        return []
    try:
        chain = chain_of(store, vm.id)
    except NotFound:
        return []
    gone: list[Any] = []
    for snapshot_id in list(chain.members):
        snapshot: VMSnapshot = store.get(VMSnapshot, snapshot_id, what="vm snapshot")
        snapshot.destroy_with_vm()
        chain.remove(snapshot_id)
        gone.append(snapshot)
    return [*gone, chain] if gone else []
