"""Group commit on PostgreSQL: concurrent commands share a transaction, each keeps its outcome."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, PersistenceError

from stratus.settings import Settings, parse_database_url
from stratus.store.application import EventStore
from stratus.store.groupcommit import GroupCommitRecorder
from tests.support.listening import listening

if not os.environ.get("STRATUS_TEST_POSTGRES_URL"):
    pytest.skip(
        "STRATUS_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.postgres

TEST_KEY = base64.b64encode(b"g" * 32).decode()


class Meter(Aggregate):
    """A small aggregate: a named counter."""

    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.reading = 0

    @event("Advanced")
    def advance(self, by: int) -> None:
        self.reading += by


@pytest.fixture
def store(fresh_schema_url: str, tmp_path: Path) -> Iterator[EventStore]:
    settings = Settings(
        data_dir=tmp_path, postgres=parse_database_url(fresh_schema_url), secret_key=TEST_KEY
    )
    event_store = EventStore(settings)
    assert isinstance(event_store.recorder, GroupCommitRecorder)
    yield event_store
    event_store.close()


def recorder(store: EventStore) -> GroupCommitRecorder:
    assert isinstance(store.recorder, GroupCommitRecorder)
    return store.recorder


def all_ids(store: EventStore) -> list[int]:
    return [n.id for n in store.recorder.select_notifications(None, 100_000)]


def new_meter(advances: int = 0) -> Meter:
    meter = Meter(name="m")
    for step in range(advances):
        meter.advance(by=step + 1)
    return meter


@contextmanager
def table_locked(store: EventStore) -> Iterator[None]:
    """Hold the events table's write lock, so the next leader blocks and callers queue up."""
    pg = store.settings.postgres
    assert pg is not None
    with psycopg.connect(pg.conninfo) as connection:
        connection.execute(f'LOCK TABLE "{pg.schema}".stratus_events IN EXCLUSIVE MODE')
        yield
        connection.rollback()


def blocked_on_events_table(store: EventStore) -> bool:
    """Whether some session waits for a lock on the events table (the one `table_locked` holds)."""
    pg = store.settings.postgres
    assert pg is not None
    with psycopg.connect(pg.conninfo, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
            (f'"{pg.schema}".stratus_events',),
        ).fetchone()
    return bool(row and row[0])


class Outcome:
    """What a save in a background thread gave: notification ids, or the error raised."""

    def __init__(self, save: Callable[[], Any]) -> None:
        self.ids: list[int] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(save,))
        self._thread.start()

    def _run(self, save: Callable[[], Any]) -> None:
        try:
            self.ids = [r.notification.id for r in save()]
        except BaseException as error:
            self.error = error

    def join(self) -> Outcome:
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "a caller was left hanging"
        return self


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def in_one_batch(store: EventStore, saves: list[Callable[[], Any]]) -> list[Outcome]:
    """Run saves so that all of them land in the same batch (behind a blocked leader)."""
    with table_locked(store):
        leader = Outcome(lambda: store.save(new_meter()))
        wait_until(lambda: recorder(store).waiting == 0 and leader.ids is None)
        wait_until(lambda: blocked_on_events_table(store))  # the leader has reached the lock
        outcomes = [Outcome(save) for save in saves]
        wait_until(lambda: recorder(store).waiting == len(saves))
    leader.join()
    assert leader.error is None
    return [outcome.join() for outcome in outcomes]


def test_concurrent_commands_are_all_stored_in_one_gap_free_order(store: EventStore) -> None:
    threads, commands = 16, 25
    results: list[list[list[int]]] = [[] for _ in range(threads)]

    def write(slot: int) -> None:
        for number in range(commands):
            recordings = store.save(new_meter(advances=number % 3))
            results[slot].append([r.notification.id for r in recordings])

    workers = [threading.Thread(target=write, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    per_command = [ids for thread_results in results for ids in thread_results]
    total = sum(len(ids) for ids in per_command)
    assert all_ids(store) == list(range(1, total + 1))
    assert store.head() == total
    for ids in per_command:
        assert ids == list(range(ids[0], ids[0] + len(ids)))
    for thread_results in results:
        firsts = [ids[0] for ids in thread_results]
        assert firsts == sorted(firsts)


def test_a_lone_command_gets_its_ids_like_the_library_path(store: EventStore) -> None:
    first = store.save(new_meter(advances=2))
    second = store.save(new_meter())
    assert [r.notification.id for r in first] == [1, 2, 3]
    assert [r.notification.id for r in second] == [4]
    assert store.recorder.max_notification_id() == 4


def test_commands_arriving_together_are_committed_in_one_batch(store: EventStore) -> None:
    before = recorder(store).batches_committed
    outcomes = in_one_batch(store, [lambda: store.save(new_meter(1)) for _ in range(5)])
    assert all(outcome.error is None for outcome in outcomes)
    assert recorder(store).batches_committed == before + 2  # the blocked leader's, then ours
    assert all_ids(store) == list(range(1, 12))


def test_a_command_clashing_with_a_stored_event_fails_alone(store: EventStore) -> None:
    meter = new_meter()
    store.save(meter)
    stale = store.repository.get(meter.id)
    meter.advance(by=1)
    store.save(meter)
    stale.advance(by=5)

    outcomes = in_one_batch(
        store,
        [
            lambda: store.save(new_meter(1)),
            lambda: store.save(stale),
            lambda: store.save(new_meter(2)),
        ],
    )

    assert isinstance(outcomes[1].error, IntegrityError)
    assert outcomes[0].ids is not None and outcomes[2].ids is not None
    assert all_ids(store) == list(range(1, 2 + 1 + 2 + 3 + 1))  # no id burned by the refusal
    assert store.repository.get(meter.id).reading == 1


def test_two_commands_claiming_one_version_in_a_batch_exactly_one_wins(
    store: EventStore,
) -> None:
    meter = new_meter()
    store.save(meter)
    first, second = store.repository.get(meter.id), store.repository.get(meter.id)
    first.advance(by=10)
    second.advance(by=20)

    outcomes = in_one_batch(store, [lambda: store.save(first), lambda: store.save(second)])

    winners = [outcome for outcome in outcomes if outcome.error is None]
    losers = [outcome for outcome in outcomes if outcome.error is not None]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0].error, IntegrityError)
    assert store.repository.get(meter.id).reading in (10, 20)
    assert all_ids(store) == list(range(1, store.head() + 1))


def test_run_retries_until_concurrent_updates_of_one_aggregate_all_land(
    store: EventStore,
) -> None:
    meter = new_meter()
    store.save(meter)
    threads, updates = 8, 10

    def advance_once() -> None:
        current = store.get(Meter, meter.id)
        current.advance(by=1)
        store.save(current)

    def write() -> None:
        for _ in range(updates):
            store.run(advance_once, attempts=100)

    workers = [threading.Thread(target=write) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    final = store.get(Meter, meter.id)
    assert final.reading == threads * updates
    assert final.version == 1 + threads * updates
    assert all_ids(store) == list(range(1, final.version + 1))


def test_a_database_error_reaches_every_caller_and_later_commands_still_commit(
    store: EventStore,
) -> None:
    store.save(new_meter())
    pg = store.settings.postgres
    assert pg is not None
    table = f'"{pg.schema}".stratus_events'
    with psycopg.connect(pg.conninfo, autocommit=True) as admin:
        admin.execute(
            f'CREATE FUNCTION "{pg.schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS '
            "$$BEGIN RAISE EXCEPTION 'the disk is on fire'; END$$"
        )
        admin.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
            f'FOR EACH ROW EXECUTE FUNCTION "{pg.schema}".refuse()'
        )
        outcomes = [Outcome(lambda: store.save(new_meter(1))) for _ in range(6)]
        outcomes = [outcome.join() for outcome in outcomes]
        admin.execute(f"DROP TRIGGER refuse ON {table}")

    assert all(isinstance(outcome.error, PersistenceError) for outcome in outcomes)
    assert all("disk is on fire" in str(outcome.error) for outcome in outcomes)
    assert [r.notification.id for r in store.save(new_meter())] == [2]
    assert all_ids(store) == [1, 2]


def test_a_failing_hash_chain_step_fails_its_batch_and_does_not_wedge_the_next(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[list[int], list[int]]] = []

    def record_batch(curs: Any, events: list[Any], ids: list[int]) -> None:
        seen.append(([e.originator_version for e in events], ids))

    def explode(curs: Any, events: list[Any], ids: list[int]) -> None:
        raise RuntimeError("chain broken")

    monkeypatch.setattr(recorder(store), "extends_hash_chain", True)
    monkeypatch.setattr(recorder(store), "_extend_hash_chain", explode)
    with pytest.raises(RuntimeError, match="chain broken"):
        store.save(new_meter(1))
    assert store.head() == 0

    monkeypatch.setattr(recorder(store), "_extend_hash_chain", record_batch)
    recordings = store.save(new_meter(2))
    assert seen == [([1, 2, 3], [1, 2, 3])]
    assert [r.notification.id for r in recordings] == [1, 2, 3]


def test_listeners_are_notified_of_group_commits(store: EventStore) -> None:
    received: list[int] = []
    with store.recorder.subscribe(gt=None) as subscription:
        # The subscription's LISTEN must be in place before the commit.
        assert store.settings.postgres is not None
        conninfo, channel = store.settings.postgres.conninfo, recorder(store).channel_name
        wait_until(lambda: listening(conninfo, channel), 10)

        def take_one() -> None:
            received.append(next(iter(subscription)).id)

        reader = threading.Thread(target=take_one, daemon=True)
        reader.start()
        store.save(new_meter())
        reader.join(timeout=10)
    assert received == [1]
