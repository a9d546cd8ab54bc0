"""The JetStream bus bounds its stream by message age: a new stream gets the configured maximum,
and a stream an older release made without one gets it too, while an operator's own choice of
maximum age survives a restart."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from stratus.bus.factory import make_bus

NATS_URL = os.environ.get("STRATUS_TEST_NATS_URL")
pytestmark = [
    pytest.mark.nats,
    pytest.mark.skipif(NATS_URL is None, reason="STRATUS_TEST_NATS_URL is not set"),
]
DAY = 24 * 3600.0


@pytest.fixture
def stream() -> Iterator[str]:
    name = f"TEST_{uuid.uuid4().hex[:12]}"
    yield name
    asyncio.run(_js(lambda js: js.delete_stream(name)))


async def _js(action):  # type: ignore[no-untyped-def]
    client = await nats.connect(NATS_URL)
    try:
        return await action(client.jetstream())
    finally:
        await client.close()


def _max_age_after_start(stream: str, **options: float) -> float:
    async def start_and_read() -> float:
        bus = make_bus(NATS_URL, stream=stream, prefix=f"t_{stream.lower()}", **options)
        await bus.start()
        await bus.close()
        info = await _js(lambda js: js.stream_info(stream))
        return float(info.config.max_age or 0)

    return asyncio.run(start_and_read())


def test_a_new_stream_keeps_messages_for_the_configured_age(stream: str) -> None:
    assert _max_age_after_start(stream, max_age=2 * DAY) == pytest.approx(2 * DAY)


def test_an_unbounded_stream_of_an_older_release_gets_bounded(stream: str) -> None:
    subjects = [f"t_{stream.lower()}.>"]
    config = StreamConfig(name=stream, subjects=subjects, storage=StorageType.FILE)
    asyncio.run(_js(lambda js: js.add_stream(config)))

    assert _max_age_after_start(stream, max_age=DAY) == pytest.approx(DAY)


def test_an_operators_own_maximum_age_survives_a_restart(stream: str) -> None:
    _max_age_after_start(stream, max_age=DAY)
    asyncio.run(
        _js(
            lambda js: js.update_stream(
                StreamConfig(
                    name=stream, subjects=[f"t_{stream.lower()}.>"], max_age=3 * DAY,
                    duplicate_window=120.0, storage=StorageType.FILE,
                )
            )
        )
    )  # fmt: skip

    assert _max_age_after_start(stream, max_age=DAY) == pytest.approx(3 * DAY)
