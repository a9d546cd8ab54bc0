"""Who is woken by a commit: readers in this process at once (handed the notifications),
other processes by NOTIFY; a process's own NOTIFYs do not wake it twice, and the relay
sleeps through commits that ask for no work."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from entrypoint.installation import open_runtime
from stratus.outbox import OutboxRelay, Outgoing
from stratus.settings import Settings
from stratus.wakeup import CommitListener
from tests.support.counters import Counter
from tests.support.listening import listening
from tests.support.waiting import wait_until

CHANNEL = f"test_{uuid.uuid4().hex[:12]}"


def _listener(settings: Settings, own: set[int]) -> tuple[CommitListener, threading.Event]:
    woken = threading.Event()
    assert settings.postgres is not None
    listener = CommitListener(settings.postgres, CHANNEL, woken.set, own)
    listener.start()
    return listener, woken


def _notify_from(connection: psycopg.Connection[Any], woken: threading.Event) -> None:
    woken.clear()
    connection.execute(f'NOTIFY "{CHANNEL}"')


@pytest.mark.postgres
def test_a_notification_wakes_the_listener_unless_this_process_sent_it(
    postgres_settings: Settings,
) -> None:
    assert postgres_settings.postgres is not None
    own: set[int] = set()
    listener, woken = _listener(postgres_settings, own)
    try:
        with psycopg.connect(postgres_settings.postgres.conninfo, autocommit=True) as other:
            conninfo = postgres_settings.postgres.conninfo
            wait_until(lambda: listening(conninfo, CHANNEL), 10, "the listener's LISTEN")
            _notify_from(other, woken)
            assert woken.wait(5.0), "another process's commit wakes the listener"
            own.add(other.info.backend_pid)
            _notify_from(other, woken)
            assert not woken.wait(1.5), "a commit of this process's own does not"
    finally:
        listener.stop()


@pytest.mark.postgres
def test_the_stores_own_commits_are_known_by_their_server_process(
    postgres_settings: Settings,
) -> None:
    runtime = open_runtime(postgres_settings, projections=[])
    try:
        runtime.store.save(Counter(name="c"))
        pids = runtime.store.recorder.writer_pids  # type: ignore[attr-defined]
        assert len(pids) == 1 and all(isinstance(pid, int) and pid > 0 for pid in pids)
    finally:
        runtime.close()


def test_commit_listeners_hear_the_notifications_and_the_relay_wakes_for_work_only(
    sqlite_settings: Settings,
) -> None:
    runtime = open_runtime(sqlite_settings, projections=[])
    heard: list[Sequence[Notification] | None] = []
    runtime.store.commit_listeners.append(heard.append)
    try:
        counter = Counter(name="c")
        counter.increment()
        runtime.store.save(counter)
        (committed,) = heard
        assert committed is not None
        assert committed == runtime.store.recorder.select_notifications(1, 10)
        relay = OutboxRelay(
            runtime.source,
            runtime.db,
            bus=None,
            routes={get_topic(Counter.Incremented): lambda e: Outgoing("work.x", b"")},
        )
        assert relay.committed(committed)
        assert not relay.committed(committed[:1])  # a Created only: nothing to publish
        assert relay.committed(None)  # another process's commit: it may be work
    finally:
        runtime.close()
