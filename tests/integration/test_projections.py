"""The projection runner on both stores: ordered, exactly-once, restartable, rebuildable."""

from __future__ import annotations

import threading

import psycopg
import pytest

from entrypoint.installation import open_runtime
from stratus.projection import ProjectionRunner
from stratus.rebuild import rebuild
from stratus.settings import Settings
from tests.support.counters import Counter, CountersProjection, create_tables, snapshot


def _runtime(settings: Settings, projection: CountersProjection):
    runtime = open_runtime(settings, projections=[projection])
    create_tables(runtime.db)
    return runtime


def _make_history(store, counters: int = 5, increments: int = 7) -> list[Counter]:
    made = []
    for index in range(counters):
        counter = Counter(name=f"c{index}")
        for step in range(increments):
            counter.increment(by=step + 1)
        counter.rename(name=f"counter-{index}")
        store.save(counter)
        made.append(counter)
    return made


def test_read_model_follows_the_log_in_order(settings: Settings) -> None:
    runtime = _runtime(settings, CountersProjection())
    try:
        made = _make_history(runtime.store)
        runtime.runner.catch_up()
        rows = snapshot(runtime.db)
        assert sorted((r[1], r[2]) for r in rows) == sorted((c.name, c.value) for c in made)
        status = {s.name: s for s in runtime.runner.status()}["counters"]
        assert status.position == runtime.store.head() and status.lag == 0
    finally:
        runtime.close()


def test_a_crash_mid_batch_applies_nothing_and_a_restart_applies_everything_once(
    settings: Settings,
) -> None:
    crashing = CountersProjection(fail_on=13)
    runtime = _runtime(settings, crashing)
    try:
        _make_history(runtime.store)
        with pytest.raises(RuntimeError):
            runtime.runner.step("counters")
        assert snapshot(runtime.db) == []
        assert runtime.runner.positions().get("counters", 0) == 0

        restarted = ProjectionRunner(
            runtime.source, runtime.db, [CountersProjection()], batch_size=7
        )
        restarted.catch_up()
        after_restart = snapshot(runtime.db)
        rebuild(CountersProjection(), runtime.source, runtime.db)
        assert snapshot(runtime.db) == after_restart
    finally:
        runtime.close()


def test_rebuild_swaps_in_a_model_equal_to_the_live_one_and_keeps_following(
    settings: Settings,
) -> None:
    runtime = _runtime(settings, CountersProjection())
    try:
        _make_history(runtime.store)
        runtime.runner.catch_up()
        live = snapshot(runtime.db)
        position = rebuild(CountersProjection(), runtime.source, runtime.db, batch_size=4)
        assert position == runtime.store.head()
        assert snapshot(runtime.db) == live
        status = {s.name: s for s in runtime.runner.status()}["counters"]
        assert status.generation == 2

        _make_history(runtime.store, counters=2)
        runtime.runner.catch_up()
        assert len(snapshot(runtime.db)) == len(live) + 2
        rebuild(CountersProjection(), runtime.source, runtime.db)
        assert len(snapshot(runtime.db)) == len(live) + 2
    finally:
        runtime.close()


def test_rebuild_while_writers_and_the_live_runner_keep_going(settings: Settings) -> None:
    runtime = _runtime(settings, CountersProjection())
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            _make_history(runtime.store, counters=1, increments=2)

    try:
        _make_history(runtime.store, counters=20)
        runtime.runner.start()
        writer = threading.Thread(target=write)
        writer.start()
        rebuild(CountersProjection(), runtime.source, runtime.db, batch_size=10)
        stop.set()
        writer.join()
        assert runtime.runner.wait_for(runtime.store.head(), timeout=10)
        runtime.runner.stop()
        live = snapshot(runtime.db)
        rebuild(CountersProjection(), runtime.source, runtime.db)
        assert snapshot(runtime.db) == live
    finally:
        stop.set()
        runtime.close()


def test_waiting_for_a_position_returns_once_the_model_has_it(settings: Settings) -> None:
    runtime = _runtime(settings, CountersProjection())
    try:
        runtime.runner.start()
        counter = Counter(name="mine")
        recordings = runtime.store.save(counter)
        position = runtime.store.last_position(recordings)
        runtime.runner.wake()
        assert runtime.runner.wait_for(position, timeout=5)
        assert [r[1] for r in snapshot(runtime.db)] == ["mine"]
        assert not runtime.runner.wait_for(position + 1000, timeout=0.1)
    finally:
        runtime.close()


def test_a_wait_for_a_commit_outlasts_a_database_that_cannot_be_read_for_a_moment(
    settings: Settings,
) -> None:
    """Another process applies the read models; this one reads their positions. A restart of
    the database in the middle of the wait is not an error of the commit waited for."""
    applier = _runtime(settings, CountersProjection())
    reader = open_runtime(settings, projections=[CountersProjection()])
    try:
        position = applier.store.last_position(applier.store.save(Counter(name="mine")))
        applier.runner.catch_up()
        real, failures = reader.runner.positions, iter(range(2))

        def restarting() -> dict[str, int]:
            if next(failures, None) is not None:
                raise psycopg.OperationalError(
                    "terminating connection due to administrator command"
                )
            return real()

        reader.runner.positions = restarting  # type: ignore[method-assign]
        assert reader.runner.wait_for(position, timeout=5)
        assert next(failures, None) is None  # both failed reads happened on the way

        def down() -> dict[str, int]:
            raise psycopg.OperationalError("the server is still down")

        reader.runner.positions = down  # type: ignore[method-assign]
        assert not reader.runner.wait_for(position, timeout=0.1)  # "not yet", never raised
    finally:
        reader.close()
        applier.close()


def test_the_runner_takes_this_process_commits_as_handed_and_reads_what_it_was_not_given(
    settings: Settings,
) -> None:
    runtime = _runtime(settings, CountersProjection())
    elsewhere = open_runtime(settings, projections=[])  # another process's store: no hand-off
    reads: list[int] = []
    read = runtime.source.read
    runtime.source.read = lambda after, limit: reads.append(after) or read(after, limit)  # type: ignore[method-assign]
    runtime.runner.poll_interval = 60  # no idle polling: a commit's wake-up is the only cue
    try:
        runtime.runner.start()
        assert runtime.runner.wait_for(runtime.store.head(), timeout=5)
        # The catch-up at start ends with a read that finds nothing, which may come after the
        # wait above; once a commit of this process is applied, no read of it is pending.
        warm = runtime.store.last_position(runtime.store.save(Counter(name="warm-up")))
        assert runtime.runner.wait_for(warm, timeout=5)
        before = len(reads)
        mine = runtime.store.last_position(runtime.store.save(Counter(name="mine")))
        assert runtime.runner.wait_for(mine, timeout=5)
        assert len(reads) == before, "what this process committed is not read back"
        elsewhere.store.save(Counter(name="theirs"))
        again = runtime.store.last_position(runtime.store.save(Counter(name="mine again")))
        assert runtime.runner.wait_for(again, timeout=5)
        assert len(reads) > before, "the other process's commit, a gap in the hand-off, is read"
        names = sorted(r[1] for r in snapshot(runtime.db))
        assert names == ["mine", "mine again", "theirs", "warm-up"]
    finally:
        elsewhere.close()
        runtime.close()
