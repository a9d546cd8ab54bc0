"""Volume snapshots, VM snapshots and the per-VM chain, given events, when commands, then facts."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState
from domain.snapshot import Snapshot, SnapshotState
from domain.values import Secret
from domain.vm import HostAccess
from domain.vm_snapshot import MAX_PER_VM, VMSnapshot, VmSnapshotChain, VmSnapshotState

GIB = 1024**3
ACCESS = HostAccess(uuid4(), "simulator://h1", "root", Secret("pw"), "Simulator")


def volume_snapshot() -> Snapshot:
    volume = {"id": str(uuid4()), "name": "ROOT-1", "kind": "ROOT", "size_gb": 8, "vm_id": None}
    return Snapshot(uuid4(), "nightly", volume, uuid4(), uuid4(), uuid4())


def vm_snapshot(memory: bool = False, parent: UUID | None = None) -> VMSnapshot:
    vm = {
        "id": uuid4(),
        "instance_name": "i-2-1-VM",
        "account_id": uuid4(),
        "domain_id": uuid4(),
        "zone_id": uuid4(),
    }
    volumes = [{"volume_id": str(uuid4()), "size": 8 * GIB, "offering_id": None}]
    return VMSnapshot(uuid4(), "i-2-1-VM_VS_1", "one", "", vm, memory, parent, volumes)


def test_a_snapshot_taken_by_its_host_is_backed_up_at_the_volume_size() -> None:
    snapshot = volume_snapshot()
    snapshot.request_backup("r1", None, ACCESS, "i-2-1-VM")

    snapshot.confirm("r1")

    assert (snapshot.state, snapshot.size_bytes) == (SnapshotState.BACKED_UP, 8 * GIB)
    topics = [type(e).__name__ for e in snapshot.collect_events()]
    assert topics == ["Allocated", "BackupRequested", "CreatedOnPrimary", "BackedUp"]


def test_a_snapshot_being_taken_cannot_be_deleted_but_a_failed_one_can() -> None:
    snapshot = volume_snapshot()
    snapshot.request_backup("r1", None, ACCESS, "i-2-1-VM")

    with pytest.raises(InvalidState):
        snapshot.delete()
    snapshot.fail("r1", "the host refused")
    snapshot.delete()

    assert (snapshot.state, snapshot.removed) == (SnapshotState.DESTROYED, True)


def test_a_running_vm_is_reverted_only_to_a_snapshot_with_memory() -> None:
    disks_only, with_memory = vm_snapshot(memory=False), vm_snapshot(memory=True)
    for snapshot in (disks_only, with_memory):
        snapshot.request_create("c", None, ACCESS)
        snapshot.confirm("c")

    with pytest.raises(InvalidState, match="holds no memory"):
        disks_only.request_revert("r", None, ACCESS, "Running")
    with_memory.request_revert("r", None, ACCESS, "Running")
    disks_only.request_revert("r2", None, ACCESS, "Stopped")

    assert with_memory.state == disks_only.state == VmSnapshotState.REVERTING


def test_a_failed_create_leaves_error_and_a_failed_revert_goes_back_to_ready() -> None:
    failed, kept = vm_snapshot(), vm_snapshot()
    failed.request_create("c", None, ACCESS)
    kept.request_create("c", None, ACCESS)
    kept.confirm("c")
    kept.request_revert("r", None, ACCESS, "Stopped")

    failed.fail("c", "no room")
    kept.fail("r", "no room")

    assert (failed.state, kept.state) == (VmSnapshotState.ERROR, VmSnapshotState.READY)
    assert not failed.is_current("c")


def test_the_chain_allows_one_task_at_a_time_and_moves_current() -> None:
    chain = VmSnapshotChain(uuid4())
    first, second = uuid4(), uuid4()

    assert chain.add(first, "one") is None
    with pytest.raises(InvalidState, match="active vm snapshot tasks"):
        chain.add(second, "two")
    chain.settle(first, made_current=True)
    assert chain.add(second, "two") == first
    chain.settle(second, made_current=True)
    chain.remove(second)

    assert (chain.current, list(chain.members)) == (first, [first])


def test_the_chain_refuses_a_taken_name_and_more_than_the_maximum() -> None:
    chain = VmSnapshotChain(uuid4())
    for number in range(MAX_PER_VM):
        member = uuid4()
        chain.add(member, f"s{number}")
        chain.settle(member, made_current=True)

    with pytest.raises(InvalidParameter, match="can just have"):
        chain.add(uuid4(), "another")
    chain.remove(member)
    with pytest.raises(InvalidParameter, match="already exists"):
        chain.add(uuid4(), "s0")
