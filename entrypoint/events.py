"""The event feed's wiring: settings, the render of public entries, and the `events` role's part.

Played by `serve --role events`, and by `serve` in the embedded default. Webhooks always run;
the NATS stream only when STRATUS_NATS_URL is set.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from projections.public_events import feed_topics, public_event
from stratus.bus import BusError
from stratus.feed import Entry, Render
from stratus.feed.nats import JetStreamFeed, StreamSettings
from stratus.feed.service import EventFeed
from stratus.runtime import Runtime
from stratus.settings import ConfigurationError, Settings


@dataclass(frozen=True)
class FeedSettings:
    """The feed's own settings, read once at start (see docs/events.md)."""

    stream: str
    subject_prefix: str
    max_age: float
    reload_interval: float

    @classmethod
    def from_env(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> FeedSettings:
        env = os.environ if environ is None else environ
        return cls(
            stream=_name(env, "STRATUS_EVENTS_STREAM", f"{settings.nats_stream}_EVENTS"),
            subject_prefix=_name(
                env, "STRATUS_EVENTS_SUBJECT_PREFIX", f"{settings.bus_prefix}-events"
            ),
            max_age=_seconds(env, "STRATUS_EVENTS_MAX_AGE", 0.0),
            reload_interval=_seconds(env, "STRATUS_WEBHOOKS_RELOAD_INTERVAL", 2.0),
        )


def _name(env: Mapping[str, str], key: str, default: str) -> str:
    value = env.get(key) or default
    if not value.replace("_", "").replace("-", "").isalnum():
        raise ConfigurationError(f"{key} may hold only letters, digits, '-' and '_'")
    return value


def _seconds(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key) or ""
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{key} must be a number of seconds (got {raw!r})") from None
    if value < 0:
        raise ConfigurationError(f"{key} must not be negative (got {raw!r})")
    return value


def make_render(runtime: Runtime, cached_jobs: int = 10_000) -> Render:
    """Notification -> public entry; a job's steps look up its submission (kept for a while:
    a job's steps follow it closely in the log)."""
    jobs: OrderedDict[UUID, Any] = OrderedDict()

    def job(job_id: UUID) -> Any:
        found = jobs.get(job_id)
        if found is None:
            found = runtime.store.repository.get(job_id, version=1)
            jobs[job_id] = found
            if len(jobs) > cached_jobs:
                jobs.popitem(last=False)
        return found

    def render(notification: Notification) -> Entry | None:
        return public_event(runtime.source.decode(notification), notification.id, job)

    return render


async def start_feed(runtime: Runtime) -> EventFeed:
    """The feed of this process, its NATS stream connected (a one-line error otherwise)."""
    settings = runtime.settings
    feed_settings = FeedSettings.from_env(settings)
    stream = None
    if settings.nats_url is not None:
        stream = JetStreamFeed(
            StreamSettings(
                url=settings.nats_url,
                stream=feed_settings.stream,
                subject_prefix=feed_settings.subject_prefix,
                max_age=feed_settings.max_age,
            )
        )
        try:
            await stream.start()
        except BusError as error:
            raise ConfigurationError(str(error)) from None
    feed = EventFeed(
        runtime.source,
        runtime.db,
        make_render(runtime),
        feed_topics(),
        open_secret=runtime.store.box.open,
        stream=stream,
        reload_interval=feed_settings.reload_interval,
    )
    loop = asyncio.get_running_loop()

    def committed(_: object) -> None:
        loop.call_soon_threadsafe(feed.wake)

    runtime.store.commit_listeners.append(committed)
    return feed


async def run_feed(feed: EventFeed, stop: asyncio.Event) -> None:
    try:
        await feed.run(stop)
    finally:
        if isinstance(feed.stream, JetStreamFeed):
            await feed.stream.close()
