"""The outbox relay publishes work from the log once, in order, and again harmlessly on restart."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from eventsourcing.utils import get_topic

from entrypoint.installation import open_runtime
from stratus.bus.factory import make_bus
from stratus.outbox import RELAY_NAME, OutboxRelay, Outgoing
from stratus.projection import read_position, write_position
from stratus.settings import Settings
from tests.support.counters import Counter
from tests.support.waiting import eventually

BUSES = ["memory", pytest.param("nats", marks=pytest.mark.nats)]


def _bus(kind: str):
    if kind == "memory":
        return make_bus(None, prefix="t" + uuid.uuid4().hex[:8])
    url = os.environ.get("STRATUS_TEST_NATS_URL")
    if not url:
        pytest.skip("STRATUS_TEST_NATS_URL is not set")
    tag = uuid.uuid4().hex[:8]
    return make_bus(url, prefix=f"t{tag}", stream=f"T{tag}")


async def _drop_stream(stream: str) -> None:
    import nats

    client = await nats.connect(os.environ["STRATUS_TEST_NATS_URL"])
    try:
        await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


def _route(prefix: str):
    def route(event) -> Outgoing:
        return Outgoing(f"{prefix}.work.simulator.count", event.name.encode())

    return {get_topic(Counter.Created): route}


async def _collect(bus, prefix: str, seen: list[bytes]) -> None:
    async def handler(delivery) -> None:
        seen.append(delivery.payload)

    await bus.subscribe(f"{prefix}.work.>", "collector", handler)


@pytest.mark.parametrize("kind", BUSES)
def test_routed_events_are_published_once_even_when_the_relay_repeats_itself(
    sqlite_settings: Settings, kind: str
) -> None:
    runtime = open_runtime(sqlite_settings, projections=[])
    bus = _bus(kind)
    prefix = bus.options.prefix

    async def scenario() -> list[bytes]:
        await bus.start()
        seen: list[bytes] = []
        await _collect(bus, prefix, seen)
        relay = OutboxRelay(runtime.source, runtime.db, bus, _route(prefix))
        for index in range(5):
            counter = Counter(name=f"c{index}")
            counter.increment()
            runtime.store.save(counter)
        while await relay.step():
            pass
        # A relay that died after publishing but before recording its position: the next
        # one starts over from the recorded position.
        with runtime.db.transaction() as cursor:
            write_position(cursor, RELAY_NAME, 0)
        relay = OutboxRelay(runtime.source, runtime.db, bus, _route(prefix))
        while await relay.step():
            pass
        await eventually(lambda: len(seen) >= 5, what="every event delivered")
        # A quiet period, the behaviour under test: a copy published twice would arrive now.
        await asyncio.sleep(0.5)
        await bus.close()
        if kind == "nats":
            await _drop_stream(bus.stream)
        return seen

    try:
        seen = asyncio.run(asyncio.wait_for(scenario(), 30))
    finally:
        runtime.close()
    assert seen == [f"c{i}".encode() for i in range(5)]


def test_the_relay_records_where_it_is_at_most_once_an_interval_and_when_it_stops(
    sqlite_settings: Settings,
) -> None:
    runtime = open_runtime(sqlite_settings, projections=[])
    bus = _bus("memory")

    def recorded() -> int:
        with runtime.db.read() as cursor:
            return read_position(cursor, RELAY_NAME)[0]

    async def scenario() -> list[int]:
        await bus.start()
        relay = OutboxRelay(
            runtime.source, runtime.db, bus, _route(bus.options.prefix), record_interval=3600
        )
        seen = [recorded()]
        runtime.store.save(Counter(name="first"))
        await relay.step()  # moved, but the position it started from was read just now
        seen.append(recorded())
        relay.record_interval = 0
        runtime.store.save(Counter(name="second"))
        await relay.step()  # a record is due
        seen.append(recorded())
        relay.record_interval = 3600
        runtime.store.save(Counter(name="third"))
        await relay.step()
        seen.append(recorded())
        stop = asyncio.Event()
        stop.set()
        await relay.run(stop)  # a relay that stops records where it is
        seen.append(recorded())
        await bus.close()
        return seen

    try:
        assert asyncio.run(asyncio.wait_for(scenario(), 30)) == [0, 0, 2, 2, 3]
    finally:
        runtime.close()
