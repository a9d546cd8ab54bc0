"""The event feed of one process: the NATS stream's follower and one follower per webhook.

Registrations are read again every `reload_interval` seconds: an endpoint added with the CLI
starts receiving without a restart, a removed one stops, a changed one restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stratus.db import Database
from stratus.feed import Backoff, FeedFollower, Render, Sink
from stratus.feed.webhooks import Endpoint, WebhookSink, endpoints, registered
from stratus.projection import EventSource

log = logging.getLogger(__name__)


@dataclass
class _Running:
    endpoint: Endpoint
    follower: FeedFollower
    stop: asyncio.Event
    task: asyncio.Task[None]


class EventFeed:
    """Runs the followers of this process until stopped."""

    def __init__(
        self,
        source: EventSource,
        db: Database,
        render: Render,
        topics: frozenset[str],
        *,
        open_secret: Callable[[str], str],
        stream: Sink | None = None,
        reload_interval: float = 2.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.source = source
        self.db = db
        self.render = render
        self.topics = topics
        self.open_secret = open_secret
        self.stream = stream
        self.reload_interval = reload_interval
        self.backoff = backoff
        self.followers: list[FeedFollower] = []
        self._webhooks: dict[str, _Running] = {}

    def _follower(self, sink: Sink) -> FeedFollower:
        return FeedFollower(
            self.source, self.db, sink, self.render, topics=self.topics, backoff=self.backoff
        )

    def wake(self) -> None:
        """A commit happened: every follower looks for new entries now (event loop thread)."""
        for follower in self.followers:
            follower.wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        tasks = []
        if self.stream is not None:
            follower = self._follower(self.stream)
            self.followers.append(follower)
            tasks.append(asyncio.create_task(follower.run(stop)))
        while not stop.is_set():
            try:
                await self._reload()
            except Exception:  # a process boundary: the running webhooks keep going
                log.exception("event feed: reading the webhook registrations failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.reload_interval)
        for name in list(self._webhooks):
            await self._stop_webhook(name)
        await asyncio.gather(*tasks, return_exceptions=True)

    def _endpoints(self) -> dict[str, Endpoint]:
        with self.db.read() as cursor:
            rows = registered(cursor)
        return {e.name: e for e in endpoints(rows, self.open_secret)}

    async def _reload(self) -> None:
        wanted = await asyncio.to_thread(self._endpoints)
        for name, running in list(self._webhooks.items()):
            if wanted.get(name) != running.endpoint:
                await self._stop_webhook(name)
        for name, endpoint in wanted.items():
            if name not in self._webhooks:
                self._start_webhook(endpoint)

    def _start_webhook(self, endpoint: Endpoint) -> None:
        follower = self._follower(WebhookSink(endpoint))
        stop = asyncio.Event()
        task = asyncio.create_task(follower.run(stop))
        self._webhooks[endpoint.name] = _Running(endpoint, follower, stop, task)
        self.followers.append(follower)
        log.info("event feed: delivering to webhook %s", endpoint.name)

    async def _stop_webhook(self, name: str) -> None:
        running = self._webhooks.pop(name)
        running.stop.set()
        await asyncio.gather(running.task, return_exceptions=True)
        self.followers.remove(running.follower)


def status(db: Database) -> list[dict[str, Any]]:
    """Each webhook's name, URL, types and delivery position (no secret)."""
    with db.read() as cursor:
        rows = registered(cursor)
    return [{k: v for k, v in row.items() if k != "sealed_secret"} for row in rows]
