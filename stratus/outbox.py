"""The outbox relay: publishes work for adapters from the notification log, never from a command.

A command only saves events. The relay follows the log like a projection, turns the events that
ask for hypervisor work into messages and publishes them, and records its position at most once
every `record_interval` (a second): most commits ask for no work, and recording after each one
was a commit of its own competing with the commands. A crash before recording republishes the
messages since, with the same ids, which the bus drops as duplicates (its window is minutes)
and adapters ignore by request id: nothing is lost and nothing acts twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification

from stratus.actions import lacking
from stratus.db import Database
from stratus.handoff import Handoff
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, encode
from stratus.projection import EventSource, advance_position, read_position
from stratus.store.audit import meta_of
from stratus.telemetry import Telemetry

log = logging.getLogger(__name__)

RELAY_NAME = "outbox"


@dataclass(frozen=True)
class Outgoing:
    subject: str
    payload: bytes
    request_id: str | None = None  # a work request an adapter will answer (its round trip)


Route = Callable[[Any], Outgoing | None]


def work(request: WorkRequest, prefix: str = DEFAULT_PREFIX) -> Outgoing:
    """The message for a work request; for a hypervisor that lacks the action's capability,
    its failure instead, on the results subject, so no adapter is asked to begin what it
    cannot finish (a router powered on that never reports its release, say)."""
    reason = lacking(request.hypervisor, request.action)
    if reason is None:
        return Outgoing(request.subject(prefix), encode(request), request.request_id)
    failed = WorkResult(
        request_id=request.request_id,
        hypervisor=request.hypervisor,
        action=request.action,
        target_id=request.target_id,
        ok=False,
        error=reason,
        job_id=request.job_id,
        origin_request_id=request.origin_request_id,
    )
    return Outgoing(failed.subject(prefix), encode(failed))


def origin(event: Any) -> dict[str, str | None]:
    """The job and the API request an event asking for work was recorded for, as the work
    request carries them (`job_id`, `origin_request_id`): the adapter hands them back with its
    result, whose events then name them. A job the event names itself wins over its context's.
    """
    meta = meta_of(event)
    job_id = getattr(event, "job_id", None) or meta.get("job_id")
    request_id = meta.get("request_id")
    return {
        "job_id": str(job_id) if job_id else None,
        "origin_request_id": str(request_id) if request_id else None,
    }


class OutboxRelay:
    """Follows the log and publishes routed events; one active relay per store."""

    def __init__(
        self,
        source: EventSource,
        db: Database,
        bus: Any,
        routes: Mapping[str, Route],
        *,
        batch_size: int = 200,
        poll_interval: float = 0.1,
        record_interval: float = 1.0,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.source = source
        self.db = db
        self.bus = bus
        self.routes = dict(routes)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.record_interval = record_interval
        self.wakeup = asyncio.Event()
        self.telemetry = telemetry
        self.published = 0
        self._at: int | None = None  # where this relay is; None: read the recorded position
        self._recorded: int | None = None
        self._recorded_at = 0.0
        self.handoff = Handoff()
        self.caught_up = False

    def committed(self, notifications: Sequence[Notification] | None) -> bool:
        """Keep what this process committed (None: another process's commit) for the next
        step; whether it may be work to publish, worth waking the relay for."""
        if notifications is None:
            return True
        self.handoff.offer(notifications)
        routes = self.routes
        return any(n.topic in routes for n in notifications)

    def _position(self) -> int:
        """Where to publish from: read once, then kept here as this relay moves it."""
        if self._at is None:
            with self.db.transaction() as cursor:
                self._at = self._recorded = read_position(cursor, RELAY_NAME)[0]
            self._recorded_at = time.monotonic()
        return self._at

    def _record(self, position: int) -> None:
        with self.db.statement() as cursor:
            advance_position(cursor, RELAY_NAME, position)
        self._recorded, self._recorded_at = position, time.monotonic()

    async def record(self, *, now: bool = False) -> None:
        """Record where this relay is, if it moved since, and a record is due (or `now`)."""
        due = now or time.monotonic() - self._recorded_at >= self.record_interval
        if self._at is not None and self._at != self._recorded and due:
            await asyncio.to_thread(self._record, self._at)

    async def step(self) -> int:
        """Publish the next batch; returns how many notifications were read."""
        position = self._at if self._at is not None else await asyncio.to_thread(self._position)
        notifications: Sequence[Notification] = self.handoff.take(position, self.batch_size)
        # Caught up with what this process committed: newer work comes with a wake-up.
        self.caught_up = 0 < len(notifications) < self.batch_size
        if not notifications:
            notifications = await asyncio.to_thread(self.source.read, position, self.batch_size)
        for notification in notifications:
            route = self.routes.get(notification.topic)
            if route is None:
                continue
            outgoing = route(self.source.decode(notification))
            if outgoing is not None:
                msg_id = f"{notification.originator_id}:{notification.originator_version}"
                await self.bus.publish(outgoing.subject, outgoing.payload, msg_id=msg_id)
                self.published += 1
                if self.telemetry is not None and outgoing.request_id:
                    self.telemetry.published(outgoing.request_id)
        if notifications:
            self._at = notifications[-1].id
        await self.record()
        return len(notifications)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; failures are logged and retried, never fatal."""
        while not stop.is_set():
            self.wakeup.clear()  # before the step: a commit during it wakes the next one
            try:
                busy = await self.step() and not self.caught_up
            except Exception:  # a process boundary: keep relaying after a bus or database fault
                log.exception("outbox relay step failed; retrying")
                self._at = None  # read the recorded position again
                busy = False
                await asyncio.sleep(1.0)
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.poll_interval)
        with contextlib.suppress(Exception):  # stopping: what is not recorded is republished
            await self.record(now=True)
