"""Waking readers of the log when another process commits: PostgreSQL LISTEN on the events channel.

The event store NOTIFYs its channel on every commit. Runners and the relay poll anyway (a lost
notification must never stall them); this only lets them start at once instead of at their next
poll. NOTIFY is per database, so several stores in one database wake each other needlessly, which
costs one empty read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection

import psycopg

from stratus.settings import PostgresSettings

log = logging.getLogger(__name__)


class CommitListener:
    """A thread that calls `wake` whenever the store's channel is notified."""

    def __init__(
        self,
        postgres: PostgresSettings,
        channel: str,
        wake: Callable[[], None],
        own: Collection[int] = (),
    ) -> None:
        """`own`: the server processes (backend pids) of this process's own commits, whose
        notifications are skipped: this process woke its readers when it committed."""
        self.postgres, self.channel, self.wake, self.own = postgres, channel, wake, own
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="commit-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as error:  # reconnect after a pause; polling covers the gap
                log.warning("commit listener lost its connection: %s", error)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        with psycopg.connect(self.postgres.conninfo, autocommit=True) as connection:
            connection.execute(f'LISTEN "{self.channel}"')
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=0.5, stop_after=1):
                    if notice.pid not in self.own:
                        self.wake()
