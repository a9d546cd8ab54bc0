"""Turns for conflicting writers: commands run side by side until they collide, then in turn.

A command loads what it changes, decides and saves; a save that finds another command saved
the same aggregate first is refused, and the command starts again from a fresh load. Left
alone, the threads of one process that all change one aggregate (a zone's address pool, a
busy host) keep refusing each other, and a client may be told to try again. So once a command
of this process has been refused, its next attempts take a turn: one attempt at a time in the
process, and while anyone waits for a turn, new commands queue for one too instead of racing
it. A command in its turn can then only lose to attempts already in flight when the queue
formed (each of which, refused, queues behind it) or to another process; the queue empties as
soon as nobody conflicts, and commands run side by side again.

Between attempts a command waits a short random time, growing with each refusal, so that
processes sharing a store (which have no turns in common) fall out of step.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The waits between attempts: at most BASE_WAIT * 2**n after the n-th refusal, never over CAP.
BASE_WAIT = 0.001
CAP_WAIT = 0.05


class WriterTurns:
    """The turns of one process's writers (shared by every thread of one event store)."""

    def __init__(self) -> None:
        self._turn = threading.RLock()  # re-entrant: a command may run another inside its turn
        self._count = threading.Lock()
        self._waiting = 0

    @contextmanager
    def attempt(self, number: int) -> Iterator[None]:
        """Hold what attempt `number` of a command needs: a turn once it conflicted, or when
        others wait for one; nothing otherwise."""
        if number == 1 and not self._waiting:
            yield
            return
        with self._count:
            self._waiting += 1
        try:
            with self._turn:
                yield
        finally:
            with self._count:
                self._waiting -= 1


def pause(refusals: int) -> float:
    """How long to wait before the next attempt after `refusals` refusals (full jitter)."""
    return random.uniform(0, min(CAP_WAIT, BASE_WAIT * 2 ** min(refusals, 16)))
