"""Turns on contended aggregates: commands that change the same aggregate queue for it.

A command loads what it changes, decides and saves; a save that finds another command saved the
same aggregate first is refused, and the command starts again from a fresh load. Left alone,
the threads of one process that all change one aggregate (a busy host, a zone's pool) keep
refusing each other, and a client may be told to try again. So an aggregate whose save was once
refused becomes contended, and from then on every command attempt of this process that loads it
takes the aggregate's turn first and holds it until the attempt ends: writers of that aggregate
go one after another, while commands on other aggregates still run (and commit) side by side.
Only attempts already in flight when it became contended can still be refused, once each.

An attempt that already holds a turn does not wait for another that is taken (two attempts
taking two turns in opposite orders would wait for each other for ever): it gives its turns
back and is retried like a refused one. A retried attempt takes the turns of every contended
aggregate its command loaded before, up front, waiting for each, in one order all retried
attempts use, so they queue instead of running into each other again.

Between attempts a command waits a short random time, growing with each refusal, so that
processes sharing a store (which have no turns in common) fall out of step.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import RecordConflictError

# The waits between attempts: at most BASE_WAIT * 2**n after the n-th refusal, never over CAP.
BASE_WAIT = 0.001
CAP_WAIT = 0.05
# Contended aggregates remembered per process (the least recently contended are forgotten).
REMEMBERED = 10_000


class TurnNotTaken(RecordConflictError):
    """An attempt holding one turn found another taken; it is retried."""


class Attempt:
    """The turns one command attempt holds, and the contended aggregates it loaded."""

    __slots__ = ("ids", "taken")

    def __init__(self) -> None:
        self.taken: list[threading.Lock] = []
        self.ids: set[Any] = set()


class Turns:
    """The turns of one process's writers on the aggregates that saw conflicts."""

    def __init__(self) -> None:
        self._contended: OrderedDict[Any, threading.Lock] = OrderedDict()
        self._guard = threading.Lock()
        self._local = threading.local()  # per thread: its attempts under way, innermost last

    def contended(self, aggregate_ids: Iterable[Any]) -> None:
        """Note that saves of these aggregates were refused: writers queue for them from now."""
        with self._guard:
            for aggregate_id in aggregate_ids:
                self._contended.setdefault(aggregate_id, threading.Lock())
                self._contended.move_to_end(aggregate_id)
            while len(self._contended) > REMEMBERED:
                oldest, lock = next(iter(self._contended.items()))
                if lock.locked():
                    break  # forgetting a turn someone holds would let a second writer in
                del self._contended[oldest]

    @contextmanager
    def attempt(self, needed: Iterable[Any] = ()) -> Iterator[Attempt]:
        """One command attempt: the turns it takes are given back when it ends.

        `needed` are the contended aggregates an earlier attempt of the same command loaded:
        their turns are taken up front, in one order every command uses, so two retried
        commands never wait for each other.
        """
        attempts: list[Attempt] = self._local.__dict__.setdefault("attempts", [])
        # Waiting in the one order is safe only with no turn taken out of it: none held by an
        # attempt this one runs inside.
        patient = not any(outer.taken for outer in attempts)
        current = Attempt()
        attempts.append(current)
        try:
            for aggregate_id in sorted(needed, key=str):
                self.loading(aggregate_id, patient=patient)
            yield current
        finally:
            attempts.pop()
            for lock in reversed(current.taken):
                lock.release()

    def loading(self, aggregate_id: Any, *, patient: bool = False) -> None:
        """Take the aggregate's turn, if it is contended and an attempt of this thread runs.

        Turns taken in the one order (`patient`) are waited for as long as it takes: whoever
        holds the turn either takes turns in that order too or gives up at once.
        """
        attempts: list[Attempt] = getattr(self._local, "attempts", [])
        if not attempts:
            return
        with self._guard:
            lock = self._contended.get(aggregate_id)
        if lock is None or any(lock in attempt.taken for attempt in attempts):
            return
        attempts[-1].ids.add(aggregate_id)
        holding = not patient and any(attempt.taken for attempt in attempts)
        if not lock.acquire(blocking=not holding):
            raise TurnNotTaken(f"the turn on {aggregate_id} is taken; starting again")
        attempts[-1].taken.append(lock)


def pause(refusals: int) -> float:
    """How long to wait before the next attempt after `refusals` refusals (full jitter)."""
    return random.uniform(0, min(CAP_WAIT, BASE_WAIT * 2 ** min(refusals, 16)))
