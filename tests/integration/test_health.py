"""Readiness of a process from what it depends on: a relay without its bus is not ready, and a
process whose read models trail the log beyond the bound says which ones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from api.health import Health
from api.operations import create_operations_app
from commands.identity import Bootstrap, bootstrap
from entrypoint.installation import open_runtime
from stratus.bus.memory import InProcessBus
from stratus.runtime import Runtime
from stratus.settings import Settings


@pytest.fixture
def runtime(sqlite_settings: Settings) -> Iterator[Runtime]:
    opened = open_runtime(replace(sqlite_settings, ready_max_lag=0))
    try:
        yield opened
    finally:
        opened.close()


def _ready(health: Health) -> tuple[int, dict]:
    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_operations_app(health))
        async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
            return await client.get("/health/ready")

    answer = asyncio.run(ask())
    return answer.status_code, answer.json()


def test_a_relay_is_ready_only_while_its_bus_is_connected(runtime: Runtime) -> None:
    bus = InProcessBus()
    status, body = _ready(Health(runtime, "relay", bus))
    assert status == 503 and body["status"] == "not ready"
    assert body["checks"] == {
        "store": {"ok": True, "head": 0},
        "bus": {"ok": False, "reason": "not connected"},
    }
    asyncio.run(bus.start())
    assert _ready(Health(runtime, "relay", bus))[0] == 200
    asyncio.run(bus.close())
    assert _ready(Health(runtime, "relay", bus))[0] == 503


def test_read_models_beyond_the_bound_are_named(runtime: Runtime) -> None:
    bootstrap(runtime.store, Bootstrap(admin_password="pw-not-shown"))
    status, body = _ready(Health(runtime, "projections"))
    assert status == 503 and set(body["checks"]) == {"store", "read_models"}
    read_models = body["checks"]["read_models"]
    assert (
        not read_models["ok"]
        and read_models["lagging"]["identity"] == body["checks"]["store"]["head"]
    )
    runtime.runner.catch_up()
    assert _ready(Health(runtime, "projections"))[0] == 200
