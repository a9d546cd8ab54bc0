"""The snapshot scheduler's one decision, on both stores: two processes that loaded a policy
before either took its due snapshot cannot both commit it; the loser's retry finds the time
taken. Pruning keeps the newest `maxsnaps` and lets go of snapshots deleted by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import RecordConflictError

from commands.snapshot_policies import DefineSnapshotPolicy, define_policy, take_due_snapshot
from commands.snapshots import delete_snapshot
from domain.snapshot import Snapshot
from domain.snapshot_policy import SnapshotPolicy, scheduled_snapshot_id
from domain.snapshot_schedule import parse_schedule
from domain.volume import Volume
from entrypoint.installation import open_runtime
from stratus.runtime import Runtime
from stratus.settings import Settings

DEFINED = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def two_processes(settings: Settings) -> Iterator[tuple[Runtime, Runtime]]:
    first = open_runtime(settings, projections=[])
    second = open_runtime(settings, projections=[])
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def _hourly_policy(runtime: Runtime, max_snaps: int = 2) -> UUID:
    """An hourly policy on a disk no host holds (its snapshots are recorded at once)."""
    volume = Volume(uuid4(), "data", "DATADISK", uuid4(), uuid4(), uuid4(), 2, None, None, None)
    runtime.store.save(volume)
    plan = parse_schedule("HOURLY", "0", "UTC")
    command = DefineSnapshotPolicy(volume.id, plan, "0", max_snaps, DEFINED)
    policy_id = define_policy(runtime.store, command).id
    assert policy_id is not None
    return policy_id


def _hour(n: int) -> datetime:
    return DEFINED.replace(minute=0) + timedelta(hours=n)


def test_two_processes_racing_for_one_due_time_take_one_snapshot(
    two_processes: tuple[Runtime, Runtime],
) -> None:
    first, second = two_processes
    policy_id = _hourly_policy(first)
    stale = second.store.get(SnapshotPolicy, policy_id)  # loaded before the other commits
    assert stale.is_due(_hour(1))

    taken = take_due_snapshot(first.store, policy_id, _hour(1)).id
    stale.record_taken(_hour(1), uuid4())
    with pytest.raises(RecordConflictError):
        second.store.save(stale)
    assert take_due_snapshot(second.store, policy_id, _hour(1)).id is None

    assert taken == scheduled_snapshot_id(policy_id, _hour(1))
    assert second.store.get(SnapshotPolicy, policy_id).taken == [taken]
    snapshot = second.store.get(Snapshot, taken)
    assert (snapshot.state, snapshot.interval, snapshot.policy_id) == (
        "BackedUp",
        "HOURLY",
        policy_id,
    )


def test_the_oldest_beyond_maxsnaps_are_deleted_and_ones_deleted_by_hand_let_go(
    two_processes: tuple[Runtime, Runtime],
) -> None:
    store = two_processes[0].store
    policy_id = _hourly_policy(two_processes[0], max_snaps=2)
    taken = [take_due_snapshot(store, policy_id, _hour(h)).id for h in (1, 2, 3)]
    assert store.get(Snapshot, taken[0]).removed
    assert store.get(SnapshotPolicy, policy_id).taken == taken[1:]

    assert taken[1] is not None
    delete_snapshot(store, taken[1])
    fourth = take_due_snapshot(store, policy_id, _hour(4)).id
    assert store.get(SnapshotPolicy, policy_id).taken == [taken[2], fourth]
    assert not store.get(Snapshot, taken[2]).removed


def test_a_policy_whose_volume_was_deleted_goes_with_it(
    two_processes: tuple[Runtime, Runtime],
) -> None:
    runtime = two_processes[0]
    policy_id = _hourly_policy(runtime)
    volume = runtime.store.get(Volume, runtime.store.get(SnapshotPolicy, policy_id).volume_id)
    volume.delete()
    runtime.store.save(volume)
    assert take_due_snapshot(runtime.store, policy_id, _hour(1)).id is None
    assert runtime.store.get(SnapshotPolicy, policy_id).removed
