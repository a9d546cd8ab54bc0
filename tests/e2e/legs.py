"""The legs of the end-to-end matrix: one running cloud per store and bus combination.

- ``sqlite``: the embedded default, SQLite and the in-process bus, adapters inside the server;
- ``postgres``: PostgreSQL and the in-process bus, adapters inside the server;
- ``nats``: PostgreSQL and NATS JetStream; the server runs no adapters, a simulator adapter
  process beside it does the hypervisor work.

Each deployment has a schema, stream and subjects of its own, removed when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from stratus.settings import parse_database_url
from tests.conftest import TEST_KEY, postgres_url
from tests.e2e.servers import Server, start_server, stop_server
from tests.support.waiting import wait_until

NATS_URL_VARIABLE = "STRATUS_TEST_NATS_URL"

LEGS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("nats", id="nats", marks=[pytest.mark.postgres, pytest.mark.nats]),
]


@dataclass
class Deployment:
    """A running server of one leg, the adapter processes beside it and what to remove after."""

    leg: str
    server: Server
    control_file: Path
    adapters: list[subprocess.Popen[bytes]] = field(default_factory=list)
    schema: str | None = None
    stream: str | None = None

    def stop(self) -> None:
        for adapter in self.adapters:
            _end(adapter)
        stop_server(self.server)
        if self.stream:
            asyncio.run(_delete_stream(os.environ[NATS_URL_VARIABLE], self.stream))
        if self.schema:
            conninfo = parse_database_url(postgres_url() or "").conninfo
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


@contextlib.contextmanager
def deployed(
    leg: str,
    workdir: Path,
    adapters: tuple[str, ...] = ("simulator",),
    settings: dict[str, str] | None = None,
) -> Iterator[Deployment]:
    """A cloud of `leg` in `workdir`, skipped with the reason when its servers are not given.
    On the NATS leg an adapter process of each kind in `adapters` runs beside the server.
    `settings` are more environment variables for the server (and its adapters)."""
    env, schema, stream = _leg_env(leg)
    env.update(settings or {})
    control = workdir / "control.json"
    env["STRATUS_SIMULATOR_CONTROL"] = str(control)
    env["STRATUS_SIMULATOR_RULES"] = str(workdir / "rules.json")
    env["STRATUS_SIMULATOR_ACLS"] = str(workdir / "acls.json")
    env["STRATUS_SIMULATOR_SITE_VPNS"] = str(workdir / "site_vpns.json")
    data_dir = workdir / "data"
    deployment = Deployment(leg, start_server(data_dir, env), control, schema=schema, stream=stream)
    try:
        for kind in adapters if leg == "nats" else ():
            deployment.adapters.append(_start_adapter(kind, data_dir, env, workdir))
        yield deployment
    finally:
        deployment.stop()


def _leg_env(leg: str) -> tuple[dict[str, str], str | None, str | None]:
    if leg == "sqlite":
        return {}, None, None
    base = postgres_url()
    if not base:
        pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
    token = uuid.uuid4().hex[:10]
    schema = f"e2e_{token}"
    env = {"STRATUS_DATABASE_URL": f"{base}?schema={schema}"}
    if leg == "postgres":
        return env, schema, None
    nats_url = os.environ.get(NATS_URL_VARIABLE)
    if not nats_url:
        pytest.skip(f"{NATS_URL_VARIABLE} is not set")
    stream = f"E2E_{token}"
    env.update(
        STRATUS_NATS_URL=nats_url, STRATUS_BUS_PREFIX=f"e2e{token}", STRATUS_NATS_STREAM=stream
    )
    return env, schema, stream


def _start_adapter(
    kind: str, data_dir: Path, env: dict[str, str], workdir: Path
) -> subprocess.Popen[bytes]:
    """An adapter worker with the server's settings; returns once it has joined the bus."""
    log = workdir / f"adapter-{kind}-{uuid.uuid4().hex[:6]}.log"
    process_env = dict(os.environ, STRATUS_DATA=str(data_dir), STRATUS_SECRET_KEY=TEST_KEY, **env)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoint.cli", "adapter", kind],
            env=process_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )

    def joined_or_exited() -> bool:
        return " started" in log.read_text(errors="replace") or process.poll() is not None

    wait_until(joined_or_exited, 30, f"the {kind} adapter's start")
    if process.poll() is not None:
        raise RuntimeError(f"the {kind} adapter exited: {log.read_text(errors='replace')}")
    return process


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


async def _delete_stream(url: str, stream: str) -> None:
    import nats
    import nats.js.errors

    client = await nats.connect(url)
    try:
        js = client.jetstream()
        for name in (stream, f"{stream}_EVENTS"):  # the bus's, and the event feed's
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(name)
        with contextlib.suppress(nats.js.errors.NotFoundError, nats.js.errors.BucketNotFoundError):
            await js.delete_key_value(f"{stream}-requests")
    finally:
        await client.close()
