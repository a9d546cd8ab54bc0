"""Commands on snapshot policies, and taking the snapshot a policy has due.

`take_due_snapshot` is the one decision a scheduler makes: the policy records the due time it
took (`SnapshotTaken`) in the same commit as the new snapshot, and prunes its oldest finished
snapshots beyond `maxsnaps` in that commit too. Schedulers in several processes that decide on
the same due time write the same policy version: one commit wins, the others find the time
taken when they retry, and do nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.snapshots import CreateSnapshot, new_snapshot
from commands.templates import StoreChoice
from domain.errors import NotFound
from domain.snapshot import Snapshot, SnapshotState
from domain.snapshot_policy import SnapshotPolicy, policy_id, scheduled_snapshot_id
from domain.snapshot_schedule import Schedule
from domain.vm import VirtualMachine
from domain.volume import Volume

PRUNABLE = (SnapshotState.BACKED_UP, SnapshotState.ERROR)


@dataclass(frozen=True)
class DefineSnapshotPolicy:
    volume_id: UUID
    schedule: Schedule
    schedule_text: str
    max_snaps: int
    defined_at: datetime


def define_policy(store: Any, command: DefineSnapshotPolicy) -> Outcome:
    """The volume's policy of that interval type: new, or the existing one replaced."""
    plan = command.schedule
    the_id = policy_id(command.volume_id, plan.interval)

    def attempt() -> Outcome:
        try:
            policy = store.get(SnapshotPolicy, the_id, what="snapshot policy")
        except NotFound:
            volume = store.get(Volume, command.volume_id, what="volume")
            policy = SnapshotPolicy(
                the_id, volume.id, volume.account_id, volume.domain_id, plan.interval,
                command.schedule_text, plan.timezone, command.max_snaps, command.defined_at,
            )  # fmt: skip
        else:
            policy.redefine(
                command.schedule_text, plan.timezone, command.max_snaps, command.defined_at
            )
        return Outcome(store.last_position(store.save(policy)), policy.id)

    result: Outcome = store.run(attempt)
    return result


def delete_policies(store: Any, policy_ids: list[UUID]) -> Outcome:
    """All of them go in one commit, or none (one already gone refuses the lot)."""

    def attempt() -> Outcome:
        policies = [store.get(SnapshotPolicy, i, what="snapshot policy") for i in policy_ids]
        for policy in policies:
            policy.delete()
        return Outcome(store.last_position(store.save(*policies)), None)

    result: Outcome = store.run(attempt)
    return result


def _name(store: Any, volume: Volume, due: datetime) -> str:
    """As CloudStack names a snapshot: [<VM display name>_]<volume name>_<yyyyMMddHHmmss>."""
    stamp = due.strftime("%Y%m%d%H%M%S")
    if volume.vm_id is None:
        return f"{volume.name}_{stamp}"
    vm: VirtualMachine = store.get(VirtualMachine, volume.vm_id, what="virtual machine")
    return f"{vm.display_name or vm.name}_{volume.name}_{stamp}"


def _pruned(store: Any, policy: SnapshotPolicy) -> list[Snapshot]:
    """The policy's oldest snapshots beyond its maximum that are finished, recorded deleted;
    the policy lets go of them and of those deleted by hand. One still being taken waits."""
    pruned, gone = [], []
    for snapshot_id in policy.beyond_max():
        snapshot: Snapshot = store.get(Snapshot, snapshot_id, what="snapshot")
        if snapshot.removed:
            gone.append(snapshot_id)
        elif snapshot.state in PRUNABLE:
            snapshot.delete()
            pruned.append(snapshot)
            gone.append(snapshot_id)
    policy.let_go(gone)
    return pruned


def take_due_snapshot(
    store: Any,
    the_policy_id: UUID,
    due: datetime,
    destination: Callable[[UUID], StoreChoice | None] = lambda _zone: None,
) -> Outcome:
    """Take the policy's snapshot due at `due`, unless it was taken (by this or another
    scheduler) or the policy went; prune beyond `maxsnaps` in the same commit. A policy whose
    volume was deleted goes with it. `destination` names the image store of the volume's zone
    its copy is written to, as a manual snapshot's. The outcome names the snapshot taken."""

    def attempt() -> Outcome:
        policy = store.get(SnapshotPolicy, the_policy_id, what="snapshot policy")
        if not policy.is_due(due):
            return Outcome(0, None)
        volume = store.get(Volume, policy.volume_id, what="volume")
        if volume.removed:
            policy.delete()
            return Outcome(store.last_position(store.save(policy)), None)
        snapshot_id = scheduled_snapshot_id(policy.id, due)
        name, where = _name(store, volume, due), destination(volume.zone_id)
        command = CreateSnapshot(snapshot_id, volume.id, name, store=where)
        snapshot, _ = new_snapshot(store, command)
        snapshot.mark_scheduled(policy.id, policy.interval)
        policy.record_taken(due, snapshot_id)
        changed = [policy, snapshot, *_pruned(store, policy)]
        return Outcome(store.last_position(store.save(*changed)), snapshot_id)

    result: Outcome = store.run(attempt)
    return result


def prune(store: Any, the_policy_id: UUID) -> Outcome:
    """Prune what a pass left (snapshots still being taken then), without taking any."""

    def attempt() -> Outcome:
        policy = store.get(SnapshotPolicy, the_policy_id, what="snapshot policy")
        pruned = _pruned(store, policy)
        if not policy.pending_events:
            return Outcome(0, None)
        return Outcome(store.last_position(store.save(policy, *pruned)), None)

    result: Outcome = store.run(attempt)
    return result
