"""What this process just committed, handed to its own readers of the log instead of read back.

A command's commit wakes the projection runner and the outbox relay, and each of them would then
read from the database the very notifications the committing thread holds: a round trip, and a
hop to a thread, on the way from a request to its answer and from a hypervisor's result to the
job's end. The store gives its readers the notifications with the wake-up; a reader takes them
only when they continue its position without a gap. Anything else (a commit of another process
in between, a batch it missed) is read from the database as before, so the log order and the
gap-free guarantee are the database's, never this buffer's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from eventsourcing.persistence import Notification


class Handoff:
    """Committed notifications kept for one reader, by id; bounded, forgotten once passed."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._kept: dict[int, Notification] = {}
        self._lock = threading.Lock()

    def offer(self, notifications: Sequence[Notification]) -> None:
        """Keep committed notifications (any thread). A reader that stopped taking them must
        not make this grow: past the capacity everything kept is dropped (and read instead)."""
        with self._lock:
            if len(self._kept) + len(notifications) > self.capacity:
                self._kept.clear()
            for notification in notifications:
                self._kept[notification.id] = notification

    def take(self, after: int, limit: int) -> list[Notification]:
        """The kept notifications right after `after`, in order and without a gap (at most
        `limit`); empty when the next one is not here. Those up to `after` are forgotten."""
        with self._lock:
            kept = self._kept
            if not kept:
                return []
            for passed in [i for i in kept if i <= after]:
                del kept[passed]
            run: list[Notification] = []
            following = kept.get(after + 1)
            while following is not None and len(run) < limit:
                run.append(following)
                following = kept.get(following.id + 1)
            return run
