"""The event feed's follower and its NATS stream: the same entries as listEvents, in log order,
retried until taken, and resumed where they stopped."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

from commands.identity import Bootstrap, bootstrap
from commands.offerings import seed_offerings
from entrypoint.events import make_render
from entrypoint.installation import open_runtime
from projections.public_events import feed_topics
from stratus.feed import Backoff, Entry, FeedFollower
from stratus.feed.nats import JetStreamFeed, StreamSettings, subject_of
from stratus.runtime import Runtime
from stratus.settings import Settings


class Refusing:
    """A consumer that refuses its first `failures` deliveries and keeps the others."""

    name = "refusing"

    def __init__(self, failures: int, held: int = 0) -> None:
        self.failures = failures
        self.held = held
        self.attempts = 0
        self.kept: list[Entry] = []

    async def resume_after(self) -> int:
        return self.held

    def wants(self, entry: Entry) -> bool:
        return True

    async def deliver(self, entry: Entry, body: bytes) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError("not now")
        self.kept.append(entry)


def _seeded(settings: Settings) -> Runtime:
    runtime = open_runtime(settings)
    bootstrap(runtime.store, Bootstrap(admin_password="pw-12345678"))
    seed_offerings(runtime.store)
    runtime.runner.catch_up()
    return runtime


def _follower(runtime: Runtime, sink: Any) -> FeedFollower:
    return FeedFollower(
        runtime.source,
        runtime.db,
        sink,
        make_render(runtime),
        topics=feed_topics(),
        batch_size=7,
        backoff=Backoff(first=0.001, ceiling=0.001),
    )


async def _drain(follower: FeedFollower) -> None:
    stop = asyncio.Event()
    while await follower.step(stop):
        pass


def test_the_feed_holds_the_listed_events_in_log_order_despite_refusals(
    settings: Settings,
) -> None:
    runtime = _seeded(settings)
    try:
        sink = Refusing(failures=3)
        asyncio.run(_drain(_follower(runtime, sink)))
        with runtime.db.read() as cursor:
            rows = cursor.execute(
                "SELECT id, type, state, level, description, account_id FROM events"
            ).fetchall()
        assert sink.attempts == len(sink.kept) + 3
        sequences = [entry["sequence"] for entry in sink.kept]
        assert sequences == sorted(set(sequences))
        keys = ("id", "type", "state", "level", "description", "account_id")
        assert sorted(tuple(e[k] for k in keys) for e in sink.kept) == sorted(
            tuple(row[k] for k in keys) for row in rows
        )

        again = Refusing(failures=0)
        asyncio.run(_drain(_follower(runtime, again)))
        assert again.kept == []  # its position was recorded: nothing twice
        ahead = Refusing(failures=0, held=sequences[-2])
        ahead.name = "ahead"
        asyncio.run(_drain(_follower(runtime, ahead)))
        assert [e["sequence"] for e in ahead.kept] == sequences[-1:]  # the sink knew better
    finally:
        runtime.close()


def test_event_types_become_subject_tokens() -> None:
    assert subject_of("stratus-events", "VM.CREATE") == "stratus-events.VM.CREATE"
    assert subject_of("p", "ODD TYPE..x*") == "p.ODD_TYPE._.x_"


@pytest.mark.nats
def test_a_restarted_stream_publisher_knows_where_it_stopped() -> None:
    url = os.environ.get("STRATUS_TEST_NATS_URL")
    if not url:
        pytest.skip("STRATUS_TEST_NATS_URL is not set")
    tag = uuid.uuid4().hex[:8]
    settings = StreamSettings(url=url, stream=f"EV{tag}", subject_prefix=f"ev{tag}")

    import nats

    async def scenario() -> tuple[int, int, int]:
        first = JetStreamFeed(settings)
        await first.start()
        empty = await first.resume_after()
        for sequence in (3, 8, 12):
            await first.deliver({"sequence": sequence, "type": "VM.CREATE"}, b"{}")
        await first.close()
        second = JetStreamFeed(settings)
        await second.start()
        try:
            held = await second.resume_after()
            await second.deliver({"sequence": 12, "type": "VM.CREATE"}, b"{}")  # a repeat
        finally:
            await second.close()
        client = await nats.connect(url)
        try:
            stored = (await client.jetstream().stream_info(settings.stream)).state.messages
            await client.jetstream().delete_stream(settings.stream)
        finally:
            await client.close()
        return empty, held, stored

    assert asyncio.run(scenario()) == (0, 12, 3)
