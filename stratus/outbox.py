"""The outbox relay: publishes work for adapters from the notification log, never from a command.

A command only saves events. The relay follows the log like a projection, turns the events that
ask for hypervisor work into messages and publishes them, then records its position. A crash
between publishing and recording republishes the same messages with the same ids, which the bus
drops as duplicates and adapters ignore by request id: nothing is lost and nothing acts twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stratus.db import Database
from stratus.projection import EventSource, advance_position, read_position
from stratus.store.audit import meta_of

log = logging.getLogger(__name__)

RELAY_NAME = "outbox"


@dataclass(frozen=True)
class Outgoing:
    subject: str
    payload: bytes


Route = Callable[[Any], Outgoing | None]


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
    ) -> None:
        self.source = source
        self.db = db
        self.bus = bus
        self.routes = dict(routes)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.wakeup = asyncio.Event()
        self.published = 0
        self._at: int | None = None

    def _position(self) -> int:
        """Where to publish from: read once, then kept here as this relay moves it."""
        if self._at is None:
            with self.db.transaction() as cursor:
                self._at = read_position(cursor, RELAY_NAME)[0]
        return self._at

    def _record(self, position: int) -> None:
        with self.db.statement() as cursor:
            advance_position(cursor, RELAY_NAME, position)
        self._at = position

    async def step(self) -> int:
        """Publish the next batch; returns how many notifications were read."""
        position = await asyncio.to_thread(self._position)
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
        if notifications:
            await asyncio.to_thread(self._record, notifications[-1].id)
        return len(notifications)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; failures are logged and retried, never fatal."""
        while not stop.is_set():
            try:
                busy = await self.step()
            except Exception:  # a process boundary: keep relaying after a bus or database fault
                log.exception("outbox relay step failed; retrying")
                self._at = None  # read the recorded position again
                busy = 0
                await asyncio.sleep(1.0)
            if not busy:
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.poll_interval)
