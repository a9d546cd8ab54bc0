"""The adapter worker over the in-process bus and (STRATUS_TEST_NATS_URL) NATS JetStream.

Each test drives simulated hosts through real `Worker`s: requests go out on the bus, results and
heartbeats come back on it. NATS runs use a stream, subject prefix and ledger bucket of their
own, deleted afterwards. Every wait is bounded, and each scenario runs under `asyncio.wait_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters import Unreachable
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from adapters.worker import Worker
from stratus.bus import Bus
from stratus.bus.factory import make_bus
from stratus.messages import (
    Heartbeat,
    WorkRequest,
    WorkResult,
    decode_heartbeat,
    decode_result,
    encode,
    seal_credentials,
)
from stratus.store.secrets import SecretBox

NATS_URL = os.environ.get("STRATUS_TEST_NATS_URL")
SCENARIO_TIMEOUT = 30.0
ACK_WAIT = 2.0
BOX = SecretBox(b"w" * 32)
PASSWORD = "pw-5c1e-must-never-show"
HOST_URL = "simulator://host1?sockets=2&cores=8&mhz=2400&memory_gb=64"


@dataclass(frozen=True)
class Flavour:
    """One bus implementation, with a stream and subject prefix unique to the test."""

    kind: str
    prefix: str
    stream: str

    def make_bus(self, **overrides: Any) -> Bus:
        options: dict[str, Any] = {
            "ack_wait": ACK_WAIT,
            "retry_delay": 0.05,
            "max_deliver": 3,
            "duplicate_window": 60.0,
            "prefix": self.prefix,
            **overrides,
        }
        if self.kind == "memory":
            return make_bus(None, **options)
        return make_bus(NATS_URL, stream=self.stream, **options)


NATS_ONLY = [
    pytest.mark.nats,
    pytest.mark.skipif(NATS_URL is None, reason="STRATUS_TEST_NATS_URL is not set"),
]


@pytest.fixture(params=["memory", pytest.param("nats", marks=NATS_ONLY)])
def flavour(request: pytest.FixtureRequest) -> Iterator[Flavour]:
    token = uuid.uuid4().hex[:12]
    chosen = Flavour(request.param, prefix=f"t_{token}", stream=f"TEST_{token}")
    yield chosen
    if chosen.kind == "nats":
        asyncio.run(_delete_nats_state(chosen.stream))


async def _delete_nats_state(stream: str) -> None:
    import nats
    import nats.js.errors

    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        await js.delete_stream(stream)
        # Absent when no worker of the test reached the shared ledger.
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_key_value(f"{stream}-requests")
    finally:
        await nc.close()


class Cloud:
    """A started bus, a simulated world, workers on it, and what came back from them."""

    def __init__(self, flavour: Flavour, **bus_options: Any) -> None:
        self.flavour = flavour
        self.bus_options = bus_options
        self.world = SimulatedWorld()
        self.world.accept_only("admin", PASSWORD)
        self.results: list[WorkResult] = []
        self.heartbeats: list[Heartbeat] = []
        self.bus = flavour.make_bus(**bus_options)
        self._buses: list[Bus] = [self.bus]
        self._workers: list[Worker] = []

    async def start(self) -> None:
        await self.bus.start()
        prefix = self.flavour.prefix
        await self.bus.subscribe(f"{prefix}.results.simulator", "test-results", self._on_result)
        await self.bus.subscribe(f"{prefix}.heartbeats.simulator", "test-beats", self._on_beat)

    async def close(self) -> None:
        for worker in self._workers:
            await worker.stop(drain_timeout=5.0)
        for bus in self._buses:
            await bus.close()

    async def worker(self, name: str, **options: Any) -> tuple[Worker, Bus]:
        """A started worker; on NATS it has a connection of its own, as a process would."""
        bus = self.bus
        if self.flavour.kind == "nats":
            bus = self.flavour.make_bus(**self.bus_options)
            await bus.start()
            self._buses.append(bus)
        options.setdefault("heartbeat_interval", 0.2)
        factory = lambda: SimulatorDriver(self.world)  # noqa: E731
        worker = Worker(bus, "Simulator", factory, BOX, worker_name=name, **options)
        await worker.start()
        self._workers.append(worker)
        return worker, bus

    async def send(
        self, action: str, request_id: str, *, password: str = PASSWORD, msg_id: str = "", **params
    ) -> None:
        request = WorkRequest(
            request_id=request_id,
            hypervisor="Simulator",
            action=action,
            target_id=params.get("name", "host-1"),
            params={"host_id": "host-1", **params},
            sealed_credentials=seal_credentials(BOX, HOST_URL, "admin", password),
        )
        subject = f"{self.flavour.prefix}.work.simulator.{action}"
        await self.bus.publish(subject, encode(request), msg_id=msg_id or request_id)

    async def result(self, request_id: str, timeout: float = 10.0) -> WorkResult:
        await eventually(lambda: any(r.request_id == request_id for r in self.results), timeout)
        return next(r for r in self.results if r.request_id == request_id)

    async def _on_result(self, delivery: Any) -> None:
        self.results.append(decode_result(delivery.payload))

    async def _on_beat(self, delivery: Any) -> None:
        self.heartbeats.append(decode_heartbeat(delivery.payload))


def run(flavour: Flavour, scenario: Callable[[Cloud], Awaitable[None]], **bus_options: Any) -> None:
    async def main() -> None:
        cloud = Cloud(flavour, **bus_options)
        await cloud.start()
        try:
            await scenario(cloud)
        finally:
            await cloud.close()

    asyncio.run(asyncio.wait_for(main(), SCENARIO_TIMEOUT))


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


VM = {"name": "vm-1", "cpu_number": 2, "cpu_speed_mhz": 1000, "memory_mb": 512}


def test_connect_host_reports_the_inventory(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        await cloud.worker("w1")
        await cloud.send("connect_host", "r-connect")

        result = await cloud.result("r-connect")

        assert result.ok, result.error
        assert result.data["name"] == "host1"
        assert (result.data["cpu_sockets"], result.data["cpu_cores"]) == (2, 8)
        assert result.data["memory_bytes"] == 64 * 1024**3

    run(flavour, scenario)


def test_vm_actions_report_the_vm_state(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        await cloud.worker("w1")
        await cloud.send("start_vm", "r-start", **VM)
        started = await cloud.result("r-start")
        await cloud.send("scale_vm", "r-scale", name="vm-1", cpu_number=4, memory_mb=1024)
        scaled = await cloud.result("r-scale")
        await cloud.send("stop_vm", "r-stop", name="vm-1", forced=True)
        stopped = await cloud.result("r-stop")

        assert (started.ok, started.data["state"]) == (True, "Running")
        assert (scaled.data["cpu_number"], scaled.data["memory_mb"]) == (4, 1024)
        assert (stopped.ok, stopped.data["state"]) == (True, "Stopped")

    run(flavour, scenario)


def test_bad_credentials_fail_at_once_and_the_password_never_shows(
    flavour: Flavour, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-9d2b-also-secret"

    async def scenario(cloud: Cloud) -> None:
        await cloud.worker("w1")
        await cloud.send("connect_host", "r-good")
        await cloud.send("connect_host", "r-bad", password=wrong)

        refused = await cloud.result("r-bad")
        await cloud.result("r-good")

        assert not refused.ok
        assert refused.data["error_kind"] == "authentication"
        assert refused.error is not None and refused.error.startswith("bad credentials")
        assert cloud.world.calls["connect"] == 2  # a definitive failure is not retried
        shown = caplog.text + "".join(repr(result) for result in cloud.results)
        assert PASSWORD not in shown and wrong not in shown

    caplog.set_level(logging.DEBUG)
    run(flavour, scenario)


def test_heartbeats_list_the_hosts_that_answer(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        await cloud.worker("w1", heartbeat_interval=0.1)
        await cloud.send("connect_host", "r-connect")
        await cloud.result("r-connect")

        await eventually(lambda: any(b.host_ids == ("host-1",) for b in cloud.heartbeats))
        cloud.world.mark_unreachable("host1")
        seen = len(cloud.heartbeats)
        await eventually(lambda: any(b.host_ids == () for b in cloud.heartbeats[seen:]))

        assert {beat.worker for beat in cloud.heartbeats} == {"w1"}

    run(flavour, scenario)


def test_a_redelivered_request_is_answered_from_the_record(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        await cloud.worker("w1", concurrency=1)
        await cloud.send("start_vm", "r-start", msg_id="m-1", **VM)
        await cloud.result("r-start")

        # The same request again, as a relay republishing after the duplicate window would.
        await cloud.send("start_vm", "r-start", msg_id="m-2", **VM)
        await cloud.send("vm_status", "r-after", name="vm-1")  # handled after it: concurrency 1
        await cloud.result("r-after")

        assert cloud.world.calls["start_vm"] == 1

    run(flavour, scenario)


@pytest.mark.nats
@pytest.mark.skipif(NATS_URL is None, reason="STRATUS_TEST_NATS_URL is not set")
def test_a_request_redelivered_to_another_worker_is_answered_from_the_shared_record() -> None:
    token = uuid.uuid4().hex[:12]
    nats_flavour = Flavour("nats", prefix=f"t_{token}", stream=f"TEST_{token}")

    async def scenario(cloud: Cloud) -> None:
        first, _ = await cloud.worker("w1")
        await cloud.send("start_vm", "r-start", msg_id="m-1", **VM)
        await cloud.result("r-start")
        await first.stop()

        await cloud.worker("w2", concurrency=1)
        await cloud.send("start_vm", "r-start", msg_id="m-2", **VM)
        await cloud.send("vm_status", "r-after", name="vm-1")
        await cloud.result("r-after")

        assert cloud.world.calls["start_vm"] == 1

    try:
        run(nats_flavour, scenario)
    finally:
        asyncio.run(_delete_nats_state(nats_flavour.stream))


def test_a_worker_killed_mid_action_hands_over_and_the_action_happens_once(
    flavour: Flavour,
) -> None:
    async def scenario(cloud: Cloud) -> None:
        cloud.world.delay("start_vm", 1.0)
        first, _ = await cloud.worker("w1", concurrency=1)
        await cloud.send("start_vm", "r-start", **VM)
        await eventually(lambda: cloud.world.calls["start_vm"] >= 1, 5.0)
        cloud.world.delay("start_vm", 0.0)  # only the first worker's call is slow

        await cloud.worker("w2")
        killing = asyncio.create_task(first.stop())  # its message goes back to the group

        result = await cloud.result("r-start")
        await asyncio.wait_for(killing, 10.0)

        assert (result.ok, result.data["state"]) == (True, "Running")
        assert cloud.world.calls["start_vm"] == 2  # the second worker was asked too...
        assert cloud.world.acted["start_vm"] == 1  # ...and found the VM started

    run(flavour, scenario)


def test_an_unreachable_host_is_retried_then_reported(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        cloud.world.mark_unreachable("host1")
        await cloud.worker("w1")
        await cloud.send("connect_host", "r-connect")

        result = await cloud.result("r-connect")

        assert not result.ok
        assert result.data["error_kind"] == "unreachable"
        assert cloud.world.calls["connect"] == 2

    run(flavour, scenario, max_deliver=2)


def test_a_transient_failure_is_retried_and_then_succeeds(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        cloud.world.fail_next("start_vm", 1, Unreachable)
        await cloud.worker("w1")
        await cloud.send("start_vm", "r-start", **VM)

        result = await cloud.result("r-start")

        assert result.ok, result.error
        assert cloud.world.acted["start_vm"] == 1

    run(flavour, scenario)


def test_status_of_a_missing_vm_is_reported_not_found(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        await cloud.worker("w1")
        await cloud.send("vm_status", "r-status", name="nobody")

        result = await cloud.result("r-status")

        assert (result.ok, result.data["error_kind"]) == (False, "not_found")
        assert result.error is not None and "nobody" in result.error

    run(flavour, scenario)


def test_an_unknown_action_is_a_bad_request(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        await cloud.worker("w1")
        await cloud.send("teleport_vm", "r-odd", name="vm-1")

        result = await cloud.result("r-odd")

        assert (result.ok, result.data["error_kind"]) == (False, "bad_request")

    run(flavour, scenario)
