"""The distributed mode: API, projections and relay as separate processes on PostgreSQL and NATS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from stratus.settings import parse_database_url
from tests.conftest import TEST_KEY, postgres_url
from tests.e2e.conftest import start_server, stop_server
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.nats]


@pytest.fixture
def cloud_env(tmp_path: Path):
    url, nats_url = postgres_url(), os.environ.get("STRATUS_TEST_NATS_URL")
    if not url or not nats_url:
        pytest.skip("needs STRATUS_TEST_POSTGRES_URL and STRATUS_TEST_NATS_URL")
    tag = uuid.uuid4().hex[:10]
    env = {
        "STRATUS_DATABASE_URL": f"{url}?schema=d_{tag}",
        "STRATUS_NATS_URL": nats_url,
        "STRATUS_BUS_PREFIX": f"d{tag}",
        "STRATUS_NATS_STREAM": f"D{tag}",
        "STRATUS_SECRET_KEY": TEST_KEY,
    }
    yield env
    with psycopg.connect(parse_database_url(url).conninfo, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "d_{tag}" CASCADE')
    _drop_stream(nats_url, f"D{tag}")


def _drop_stream(nats_url: str, stream: str) -> None:
    import asyncio

    import nats

    async def drop() -> None:
        client = await nats.connect(nats_url)
        try:
            await client.jetstream().delete_stream(stream)
        except Exception:  # the relay may not have created it
            pass
        finally:
            await client.close()

    asyncio.run(drop())


def _role(role: str, env: dict[str, str], data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "entrypoint.cli", "serve", "--role", role],
            env=dict(os.environ, STRATUS_DATA=str(data_dir), **env),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def _cli(env: dict[str, str], data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "entrypoint.cli", *args],
        env=dict(os.environ, STRATUS_DATA=str(data_dir), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _caught_up(env: dict[str, str], data_dir: Path, timeout: float = 60.0) -> None:
    """Wait until the projections process has started and applied the whole log."""
    deadline = time.monotonic() + timeout
    while True:
        rows = _cli(env, data_dir, "projections", "status").splitlines()[1:]
        lags = [int(row.split()[3]) for row in rows if row.strip()]
        positions = [int(row.split()[1]) for row in rows if row.strip()]
        if lags and all(lag == 0 for lag in lags) and all(positions):
            return
        assert time.monotonic() < deadline, "the projections process never caught up"
        time.sleep(0.5)


def _accounts(env: dict[str, str]) -> list[tuple]:
    base, _, schema = env["STRATUS_DATABASE_URL"].partition("?schema=")
    with psycopg.connect(parse_database_url(base).conninfo) as connection:
        return connection.execute(
            f'SELECT id, name, state, domain_path FROM "{schema}".accounts ORDER BY id'
        ).fetchall()


def test_roles_in_separate_processes_read_their_writes_and_survive_a_killed_projector(
    cloud_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    api = start_server(data, cloud_env, role="api")
    projector = _role("projections", cloud_env, data, tmp_path / "projections.log")
    relay = _role("relay", cloud_env, data, tmp_path / "relay.log")
    try:
        _caught_up(cloud_env, data)  # a write waits (bounded) for a projector that is running
        admin = api.client()
        made = admin.createAccount(
            accounttype=0,
            username="first",
            password="pw-12345",
            email="f@example.org",
            firstname="F",
            lastname="Irst",
        )
        assert admin.listAccounts(name="first")["account"][0]["id"] == made["account"]["id"]

        stop = threading.Event()
        created: list[str] = []

        def burst() -> None:
            index = 0
            while not stop.is_set() and index < 200:
                answer = admin.createAccount(
                    accounttype=0,
                    username=f"burst{index}",
                    password="pw-12345",
                    email="b@example.org",
                    firstname="B",
                    lastname="Urst",
                )
                created.append(answer["account"]["id"])
                index += 1

        writer = threading.Thread(target=burst)
        writer.start()
        wait_until(lambda: len(created) >= 10, 60, "the burst of writes under way")
        projector.send_signal(signal.SIGKILL)
        projector.wait(timeout=10)
        projector = _role("projections", cloud_env, data, tmp_path / "projections.log")
        stop.set()
        writer.join(timeout=120)
        listed = {a["id"] for a in admin.listAccounts(listall=True, pagesize=-1)["account"]}
        assert set(created) <= listed
        status = _cli(cloud_env, data, "projections", "status")
        assert "identity" in status
        before = _accounts(cloud_env)
        _cli(cloud_env, data, "projections", "rebuild", "identity")
        assert _accounts(cloud_env) == before
    finally:
        for process in (projector, relay):
            process.terminate()
            process.wait(timeout=15)
        stop_server(api)
