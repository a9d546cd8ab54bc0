"""The bus contract, run against InProcessBus and (STRATUS_TEST_NATS_URL) JetStreamBus.

Each NATS run uses a stream and subject prefix of its own and deletes the stream afterwards.
Every scenario runs under `asyncio.wait_for`, so a broken bus fails a test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from stratus.bus import Bus, BusUnavailable, Definitive, Delivery, PublishError
from stratus.bus.factory import make_bus
from stratus.bus.subjects import matches

NATS_URL = os.environ.get("STRATUS_TEST_NATS_URL")
SCENARIO_TIMEOUT = 20.0
ACK_WAIT = 1.0
# Long enough for any redelivery (after retry_delay or ack_wait) to have shown up.
QUIET = ACK_WAIT + 0.7


@dataclass(frozen=True)
class Flavour:
    """One implementation under test, with a stream and subject prefix unique to the test."""

    kind: str
    prefix: str
    stream: str

    def make(self, **overrides: Any) -> Bus:
        options: dict[str, Any] = {
            "ack_wait": ACK_WAIT,
            "retry_delay": 0.1,
            "max_deliver": 5,
            "duplicate_window": 60.0,
            "concurrency": 1,
            "prefix": self.prefix,
            **overrides,
        }
        if self.kind == "memory":
            return make_bus(None, **options)
        return make_bus(NATS_URL, stream=self.stream, **options)

    def subject(self, *tokens: str) -> str:
        return ".".join((self.prefix, *tokens))


@pytest.fixture(
    params=[
        pytest.param("memory"),
        pytest.param(
            "nats",
            marks=[
                pytest.mark.nats,
                pytest.mark.skipif(NATS_URL is None, reason="STRATUS_TEST_NATS_URL is not set"),
            ],
        ),
    ]
)
def flavour(request: pytest.FixtureRequest) -> Iterator[Flavour]:
    token = uuid.uuid4().hex[:12]
    chosen = Flavour(request.param, prefix=f"t_{token}", stream=f"TEST_{token}")
    yield chosen
    if chosen.kind == "nats":
        asyncio.run(_delete_stream(chosen.stream))


async def _delete_stream(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


def run(flavour: Flavour, scenario: Callable[[Bus], Awaitable[None]], **overrides: Any) -> None:
    """Run `scenario` against a started bus of `flavour`, closing it whatever happens."""

    async def main() -> None:
        bus = flavour.make(**overrides)
        await bus.start()
        try:
            await scenario(bus)
        finally:
            await bus.close()

    asyncio.run(asyncio.wait_for(main(), SCENARIO_TIMEOUT))


class Recorder:
    """A handler that records each delivery, then behaves as told (fail, hang, term...)."""

    def __init__(self, behaviour: Callable[[Delivery], Awaitable[None]] | None = None) -> None:
        self.seen: list[Delivery] = []
        self.behaviour = behaviour

    async def __call__(self, delivery: Delivery) -> None:
        self.seen.append(delivery)
        if self.behaviour is not None:
            await self.behaviour(delivery)

    @property
    def ids(self) -> list[str]:
        return [delivery.msg_id for delivery in self.seen]

    @property
    def attempts(self) -> list[int]:
        return [delivery.attempt for delivery in self.seen]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        await eventually(lambda: len(self.seen) >= count, timeout)


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


async def hang(_: Delivery) -> None:
    await asyncio.Event().wait()


async def fail(_: Delivery) -> None:
    raise RuntimeError("the hypervisor said no")


def test_a_published_message_reaches_its_subscriber_once(flavour: Flavour) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        worker = Recorder()
        await bus.subscribe(subject, "kvm-workers", worker)
        await bus.publish(subject, b'{"vm": "i-1"}', msg_id="event-1")
        await worker.wait_for(1)
        await asyncio.sleep(QUIET)  # an unacknowledged message would come back meanwhile
        assert [(d.subject, d.payload, d.msg_id, d.attempt) for d in worker.seen] == [
            (subject, b'{"vm": "i-1"}', "event-1", 1)
        ]

    run(flavour, scenario)


def test_a_wildcard_subscription_gets_only_matching_subjects(flavour: Flavour) -> None:
    async def scenario(bus: Bus) -> None:
        worker = Recorder()
        await bus.subscribe(flavour.subject("work", "kvm", ">"), "kvm-workers", worker)
        await bus.publish(flavour.subject("work", "xenserver", "start_vm"), b"", msg_id="x")
        await bus.publish(flavour.subject("work", "kvm", "start_vm"), b"", msg_id="k1")
        await bus.publish(flavour.subject("work", "kvm", "stop_vm"), b"", msg_id="k2")
        await worker.wait_for(2)
        # Delivery follows publish order, so a wrongly matched "x" would have come first.
        assert worker.ids == ["k1", "k2"]

    run(flavour, scenario)


def test_members_of_a_group_share_the_messages_each_handled_once(flavour: Flavour) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")
    both_busy = asyncio.Event()
    ids = [f"event-{n}" for n in range(6)]

    async def hold_until_both_busy(_: Delivery) -> None:
        # With one slot each, a member holding a message forces the next one to its peer.
        if first.seen and second.seen:
            both_busy.set()
        await both_busy.wait()

    first, second = Recorder(hold_until_both_busy), Recorder(hold_until_both_busy)

    async def scenario(bus: Bus) -> None:
        await bus.subscribe(subject, "kvm-workers", first)
        await bus.subscribe(subject, "kvm-workers", second)
        for msg_id in ids:
            await bus.publish(subject, b"", msg_id=msg_id)
        await eventually(lambda: len(first.seen) + len(second.seen) >= len(ids))
        # A quiet period, the behaviour under test: a message delivered twice would come now.
        await asyncio.sleep(QUIET)
        assert sorted(first.ids + second.ids) == ids
        assert first.seen and second.seen

    run(flavour, scenario)


def test_every_group_gets_every_message(flavour: Flavour) -> None:
    subject = flavour.subject("results", "kvm")

    async def scenario(bus: Bus) -> None:
        jobs, audit = Recorder(), Recorder()
        await bus.subscribe(subject, "jobs", jobs)
        await bus.subscribe(subject, "audit", audit)
        for msg_id in ("r1", "r2", "r3"):
            await bus.publish(subject, b"", msg_id=msg_id)
        await jobs.wait_for(3)
        await audit.wait_for(3)
        assert jobs.ids == audit.ids == ["r1", "r2", "r3"]

    run(flavour, scenario)


def test_a_republished_msg_id_is_dropped(flavour: Flavour) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        worker = Recorder()
        await bus.subscribe(subject, "kvm-workers", worker)
        await bus.publish(subject, b"original", msg_id="event-1")
        await bus.publish(subject, b"relay restarted", msg_id="event-1")
        await bus.publish(subject, b"next", msg_id="event-2")
        await worker.wait_for(2)
        # In publish order, a stored duplicate would have arrived before "next".
        assert [d.payload for d in worker.seen] == [b"original", b"next"]

    run(flavour, scenario)


def test_a_msg_id_is_accepted_again_after_the_duplicate_window(flavour: Flavour) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        worker = Recorder()
        await bus.subscribe(subject, "kvm-workers", worker)
        await bus.publish(subject, b"first", msg_id="event-1")
        await worker.wait_for(1)
        # Time passing is the behaviour under test: NATS forgets ids on a timer that runs once
        # per window, so let up to two windows go by before the id is used again.
        await asyncio.sleep(2.2)
        await bus.publish(subject, b"much later", msg_id="event-1")
        await worker.wait_for(2)
        assert [d.payload for d in worker.seen] == [b"first", b"much later"]

    run(flavour, scenario, duplicate_window=1.0)


def test_a_failed_handler_gets_the_message_again_with_the_attempt_counted(
    flavour: Flavour,
) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def fail_first_time(delivery: Delivery) -> None:
        if delivery.attempt == 1:
            await fail(delivery)

    async def scenario(bus: Bus) -> None:
        worker = Recorder(fail_first_time)
        await bus.subscribe(subject, "kvm-workers", worker)
        await bus.publish(subject, b"", msg_id="event-1")
        await worker.wait_for(2)
        await asyncio.sleep(QUIET)  # the successful second attempt was acknowledged
        assert worker.attempts == [1, 2]
        assert worker.ids == ["event-1", "event-1"]

    run(flavour, scenario)


async def terminate(delivery: Delivery) -> None:
    delivery.term()


async def fail_definitively(_: Delivery) -> None:
    raise Definitive("no such template")


@pytest.mark.parametrize("refusal", [terminate, fail_definitively], ids=["term", "definitive"])
def test_a_refused_message_is_not_redelivered(
    flavour: Flavour, refusal: Callable[[Delivery], Awaitable[None]]
) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        worker = Recorder(refusal)
        await bus.subscribe(subject, "kvm-workers", worker)
        await bus.publish(subject, b"", msg_id="event-1")
        await worker.wait_for(1)
        # A quiet period, the behaviour under test: a refused message would come back now.
        await asyncio.sleep(QUIET)
        assert worker.attempts == [1]

    run(flavour, scenario)


def test_redelivery_stops_at_max_deliver(flavour: Flavour) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        worker = Recorder(fail)
        await bus.subscribe(subject, "kvm-workers", worker)
        await bus.publish(subject, b"", msg_id="event-1")
        await worker.wait_for(3)
        # A quiet period, the behaviour under test: a fourth attempt would come now.
        await asyncio.sleep(QUIET)
        assert worker.attempts == [1, 2, 3]

    run(flavour, scenario, max_deliver=3)


def test_a_message_held_by_a_stopped_member_goes_to_another_member_once(
    flavour: Flavour,
) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        doomed, survivor = Recorder(hang), Recorder()
        membership = await bus.subscribe(subject, "kvm-workers", doomed)
        await bus.publish(subject, b"", msg_id="event-1")
        await doomed.wait_for(1)
        await bus.subscribe(subject, "kvm-workers", survivor)
        await membership.stop()
        await survivor.wait_for(1, timeout=ACK_WAIT + 5)
        # A quiet period, the behaviour under test: a second copy would come now.
        await asyncio.sleep(QUIET)
        assert (doomed.attempts, survivor.attempts) == ([1], [2])

    run(flavour, scenario)


def test_a_message_whose_handler_hangs_past_ack_wait_goes_to_another_member(
    flavour: Flavour,
) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        stuck, healthy = Recorder(hang), Recorder()
        await bus.subscribe(subject, "kvm-workers", stuck)
        await bus.publish(subject, b"", msg_id="event-1")
        await stuck.wait_for(1)
        await bus.subscribe(subject, "kvm-workers", healthy)
        await healthy.wait_for(1, timeout=ACK_WAIT + 5)
        # A quiet period, the behaviour under test: a third attempt would come now.
        await asyncio.sleep(QUIET)
        assert (stuck.attempts, healthy.attempts) == ([1], [2])

    run(flavour, scenario)


def test_messages_published_before_anyone_subscribed_are_delivered(flavour: Flavour) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        await bus.publish(subject, b"", msg_id="early-1")
        await bus.publish(subject, b"", msg_id="early-2")
        worker = Recorder()
        await bus.subscribe(subject, "kvm-workers", worker)
        await worker.wait_for(2)
        assert worker.ids == ["early-1", "early-2"]

    run(flavour, scenario)


def test_a_group_resumes_where_it_left_off(flavour: Flavour) -> None:
    subject = flavour.subject("work", "kvm", "start_vm")

    async def scenario(bus: Bus) -> None:
        before, after = Recorder(), Recorder()
        membership = await bus.subscribe(subject, "kvm-workers", before)
        await bus.publish(subject, b"", msg_id="event-1")
        await before.wait_for(1)
        await membership.stop()
        await bus.publish(subject, b"", msg_id="event-2")
        await bus.subscribe(subject, "kvm-workers", after)
        await after.wait_for(1)
        # In publish order, a group that restarted from scratch would see "event-1" first.
        assert after.ids == ["event-2"]

    run(flavour, scenario)


def test_publishing_outside_the_bus_subjects_is_refused(flavour: Flavour) -> None:
    async def scenario(bus: Bus) -> None:
        with pytest.raises(PublishError, match="elsewhere"):
            await bus.publish("elsewhere.work.kvm.start_vm", b"", msg_id="event-1")

    run(flavour, scenario)


def test_jetstream_bus_start_names_an_unreachable_server_without_its_password() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed, so nothing listens there
    bus = make_bus(f"nats://stratus:hunter2@127.0.0.1:{port}", timeout=0.5)

    with pytest.raises(BusUnavailable) as raised:
        asyncio.run(asyncio.wait_for(bus.start(), SCENARIO_TIMEOUT))

    assert isinstance(raised.value, ConnectionError)
    assert f"nats://127.0.0.1:{port}" in str(raised.value)
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("stratus.work.kvm.>", "stratus.work.kvm.start_vm", True),
        ("stratus.work.kvm.>", "stratus.work.kvm", False),
        ("stratus.work.*.start_vm", "stratus.work.vmware.start_vm", True),
        ("stratus.work.*", "stratus.work.vmware.start_vm", False),
        ("stratus.results.kvm", "stratus.results.kvm", True),
    ],
)
def test_subject_patterns_match_as_nats_does(pattern: str, subject: str, expected: bool) -> None:
    assert matches(pattern, subject) is expected


def test_consumer_names_are_legal_for_nats_and_distinct() -> None:
    from stratus.bus.nats import consumer_name

    names = {
        consumer_name("kvm-workers", "stratus.work.kvm.>"),
        consumer_name("kvm-workers", "stratus.work.kvm.*"),
        consumer_name("kvm.workers", "stratus.work.kvm.>"),
        consumer_name("kvm_workers", "stratus.work.kvm.>"),
    }
    assert len(names) == 4
    assert not any(char in name for name in names for char in ".*> ")
