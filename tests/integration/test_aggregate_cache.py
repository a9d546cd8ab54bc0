"""Commands on many threads of one process: the shared aggregate cache, and turns on contended
aggregates so that conflicting commands all land."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from entrypoint.installation import open_runtime
from stratus.settings import Settings
from stratus.store.application import EventStore


class Probe:
    """Part of an aggregate's state that, when armed, runs `during_copy` while being copied."""

    during_copy: Callable[[], None] | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Probe:
        action, Probe.during_copy = Probe.during_copy, None
        if action is not None:
            action()
        return Probe()


class Notebook(Aggregate):
    """A test aggregate whose every note adds an attribute to its state."""

    @event("Opened")
    def __init__(self) -> None:
        self.probe = Probe()

    @event("Noted")
    def note(self, key: str) -> None:
        setattr(self, key, True)


def _store(settings: Settings) -> EventStore:
    runtime = open_runtime(settings, projections=[])
    runtime.db.close()
    return runtime.store


def _add_note(store: EventStore, notebook_id: UUID, key: str) -> None:
    notebook = store.repository.get(notebook_id)
    notebook.note(key=key)
    store.save(notebook)


def test_a_cached_aggregate_is_not_moved_forward_while_another_thread_copies_it(
    settings: Settings,
) -> None:
    store = _store(settings)
    notebook = Notebook()
    store.save(notebook)
    _add_note(store, notebook.id, "first")  # cached now, at version 2
    _add_note(store, notebook.id, "second")
    other = threading.Thread(target=store.repository.get, args=(notebook.id,))
    copy_finished = threading.Event()

    def meanwhile() -> None:
        # Another command loads the same aggregate while this one is copying it: it must
        # either wait for the copy or not touch the object being copied.
        _add_note(_uncached(settings), notebook.id, "third")
        other.start()
        while other.is_alive() and not _waits_for_copy(store, notebook.id):
            copy_finished.wait(0.001)

    Probe.during_copy = meanwhile
    loaded = store.repository.get(notebook.id)
    copy_finished.set()
    other.join(timeout=10)
    assert not other.is_alive()
    assert (loaded.version, loaded.second) == (3, True)
    assert store.repository.get(notebook.id).third is True


def _uncached(settings: Settings) -> EventStore:
    return _store(replace(settings, aggregate_cache=0))


def _waits_for_copy(store: EventStore, aggregate_id: UUID) -> bool:
    """Whether a second loader of the aggregate is queued behind the one copying it."""
    users = store.repository._fastforward_locks_inuse.get(aggregate_id)
    return users is not None and users[1] > 1


class Counter(Aggregate):
    """A test aggregate every command changes: the hottest spot a cloud can have."""

    @event("Started")
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


def test_many_threads_changing_one_aggregate_never_see_a_conflict(settings: Settings) -> None:
    store = _store(settings)
    counter = Counter()
    store.save(counter)
    failures: list[BaseException] = []

    def count_one() -> None:
        loaded = store.get(Counter, counter.id)
        loaded.count_one()
        store.save(loaded)

    def client() -> None:
        for _ in range(25):
            try:
                store.run(count_one)
            except Exception as error:
                failures.append(error)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert store.get(Counter, counter.id).count == 16 * 25


def test_commands_changing_two_aggregates_in_opposite_orders_all_land(
    settings: Settings,
) -> None:
    store = _store(settings)
    first, second = Counter(), Counter()
    store.save(first, second)
    failures: list[BaseException] = []

    def count_both(order: tuple[Counter, Counter]) -> None:
        loaded = [store.get(Counter, counter.id) for counter in order]
        for counter in loaded:
            counter.count_one()
        store.save(*loaded)

    def client(order: tuple[Counter, Counter]) -> None:
        for _ in range(15):
            try:
                store.run(lambda: count_both(order))
            except Exception as error:
                failures.append(error)

    orders = [(first, second), (second, first)] * 6
    threads = [threading.Thread(target=client, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "writers wait for each other"
    assert failures == []
    assert store.get(Counter, first.id).count == store.get(Counter, second.id).count == 12 * 15
