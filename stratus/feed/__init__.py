"""The event feed: public events delivered from the notification log to outside consumers.

A `FeedFollower` follows the log like the outbox relay, turns each notification into at most one
public entry (the caller's `render`), hands the entries to its `Sink` one by one in log order,
and records how far it got under its own name in the positions table. A delivery that fails is
retried with growing delays until it succeeds: nothing is skipped, and an entry is never handed
on before the one ahead of it. A sink may know better than the record where it stopped (the
NATS stream holds the last entry it stored), so a restart resumes after the later of the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from eventsourcing.persistence import Notification

from stratus.db import Database
from stratus.projection import EventSource, advance_position, read_position

log = logging.getLogger(__name__)

Entry = dict[str, Any]
Render = Callable[[Notification], Entry | None]


class Sink(Protocol):
    """Where a follower delivers entries."""

    name: str

    async def resume_after(self) -> int:
        """The last log sequence this sink is known to hold (0: it cannot tell)."""
        ...

    async def deliver(self, entry: Entry, body: bytes) -> None:
        """Deliver one entry (`body` is its JSON); raise to have it retried."""
        ...

    def wants(self, entry: Entry) -> bool:
        """Whether this sink takes entries of this kind at all."""
        ...


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts of one delivery: `first`, doubling, at most `ceiling` seconds."""

    first: float = 0.5
    ceiling: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.first * 2 ** (attempt - 1), self.ceiling))


def encode(entry: Entry) -> bytes:
    return orjson.dumps(entry)


class FeedFollower:
    """Delivers the log's public entries to one sink, in order, resuming where it stopped."""

    def __init__(
        self,
        source: EventSource,
        db: Database,
        sink: Sink,
        render: Render,
        *,
        topics: frozenset[str],
        batch_size: int = 200,
        poll_interval: float = 0.25,
        backoff: Backoff | None = None,
    ) -> None:
        self.source = source
        self.db = db
        self.sink = sink
        self.render = render
        self.topics = topics
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.backoff = backoff or Backoff()
        self.wakeup = asyncio.Event()
        self.position: int | None = None
        self.delivered = 0
        self.delivered_through = 0  # the sequence of the last entry delivered

    @property
    def position_name(self) -> str:
        return f"feed:{self.sink.name}"

    def _recorded(self) -> int:
        with self.db.transaction() as cursor:
            return read_position(cursor, self.position_name)[0]

    def _record(self, position: int) -> None:
        with self.db.statement() as cursor:
            advance_position(cursor, self.position_name, position)

    def _batch(self, after: int) -> tuple[int, list[Entry]]:
        """The entries of the next notifications after `after`, and the last one's sequence."""
        notifications: Sequence[Notification] = self.source.read(after, self.batch_size)
        entries = []
        for notification in notifications:
            if notification.topic in self.topics:
                entry = self.render(notification)
                if entry is not None:
                    entries.append(entry)
        return (notifications[-1].id if notifications else after), entries

    async def start_position(self) -> int:
        recorded = await asyncio.to_thread(self._recorded)
        held = await self.sink.resume_after()
        return max(recorded, held)

    async def step(self, stop: asyncio.Event) -> int:
        """Deliver the next batch; returns how many notifications it covered."""
        if self.position is None:
            self.position = await self.start_position()
        after = self.position
        last, entries = await asyncio.to_thread(self._batch, after)
        for entry in entries:
            if entry["sequence"] <= after or not self.sink.wants(entry):
                continue
            if not await self._deliver(entry, stop):
                # Stopping: keep what was delivered; the rest is delivered next time.
                if done := self.delivered_through:
                    await asyncio.to_thread(self._record, done)
                return 0
            self.delivered += 1
            self.delivered_through = entry["sequence"]
        if last != after:
            await asyncio.to_thread(self._record, last)
            self.position = last
        return last - after

    async def _deliver(self, entry: Entry, stop: asyncio.Event) -> bool:
        body = encode(entry)
        attempt = 0
        while not stop.is_set():
            attempt += 1
            try:
                await self.sink.deliver(entry, body)
                return True
            except Exception as error:  # a consumer's fault: retried, never fatal
                delay = self.backoff.delay(attempt)
                log.warning(
                    "event feed %s: delivery of entry %d failed (attempt %d: %s); retrying in %g s",
                    self.sink.name,
                    entry["sequence"],
                    attempt,
                    _one_line(error),
                    delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        return False

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; store and sink faults are logged and retried."""
        while not stop.is_set():
            self.wakeup.clear()
            try:
                busy = await self.step(stop) > 0
            except Exception:  # a process boundary: keep following after a database fault
                log.exception("event feed %s: step failed; retrying", self.sink.name)
                self.position = None
                busy = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.poll_interval)


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
