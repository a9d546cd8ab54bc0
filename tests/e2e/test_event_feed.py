"""The event feed for outside consumers: webhooks with retries and signatures, and the NATS stream
surviving a publisher killed mid-stream without losing, repeating or reordering an entry."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.e2e.servers import Server, free_port, start_server, stop_server
from tests.support.waiting import wait_until

SECRET = "a-webhook-secret-of-some-length"


class Receiver:
    """A local HTTP endpoint that refuses its first `failures` requests, then keeps the rest."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.kept: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.attempts += 1
                    refuse = receiver.attempts <= receiver.failures
                    if not refuse:
                        receiver.kept.append((dict(self.headers), body))
                self.send_response(503 if refuse else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def entries(self) -> list[dict[str, Any]]:
        with self.lock:
            return [orjson.loads(body) for _, body in self.kept]

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def _cli(server: Server, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entrypoint.cli", *args],
        env=dict(os.environ, STRATUS_DATA=str(server.data_dir), **_env(server)),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env(server: Server) -> dict[str, str]:
    from tests.conftest import TEST_KEY

    return {"STRATUS_SECRET_KEY": TEST_KEY, **server.env}


def _make_account(client: Any, name: str) -> str:
    made = client.createAccount(
        accounttype=0,
        username=name,
        password="pw-12345",
        email=f"{name}@example.org",
        firstname="F",
        lastname="L",
    )
    return str(made["account"]["id"])


def _all_events(client: Any) -> list[dict[str, Any]]:
    return client.listEvents(listall=True, pagesize=-1).get("event", [])


def test_webhooks_receive_every_entry_in_order_signed_despite_failures(server: Server) -> None:
    flaky, healthy = Receiver(failures=3), Receiver(failures=0)
    secret_file = server.data_dir.parent / "hook.secret"
    secret_file.write_text(SECRET)
    secret_file.chmod(0o600)
    try:
        for name, receiver in (("flaky", flaky), ("healthy", healthy)):
            added = _cli(
                server, "webhooks", "add", name, receiver.url, "--from-start",
                "--secret-file", str(secret_file),
            )  # fmt: skip
            assert added.returncode == 0, added.stderr
        dead = f"http://127.0.0.1:{free_port()}/nobody"
        added = _cli(server, "webhooks", "add", "dead", dead, "--secret-file", "-", stdin=SECRET)
        assert added.returncode == 0, added.stderr
        admin = server.client()
        account_id = _make_account(admin, "hooked")
        admin.deleteAccount(id=account_id, fetch_result=True)
        logged = wait_until(
            lambda: (
                [e for e in _all_events(admin) if e["type"] == "ACCOUNT.DELETE"]
                and _all_events(admin)
            ),
            30,
            "the account's deletion in listEvents",
        )
        ids = {e["id"] for e in logged}
        for receiver in (flaky, healthy):
            wait_until(
                lambda r=receiver: ids <= {e["id"] for e in r.entries()},
                60,
                "every listed event delivered",
            )
        assert flaky.attempts > len(flaky.kept)  # refused at first, delivered in the end
        got = flaky.entries()
        sequences = [e["sequence"] for e in got]
        assert sequences == sorted(set(sequences))  # in log order, and each once here
        deletion = [e for e in got if e["type"] == "ACCOUNT.DELETE"]
        assert [e["state"] for e in deletion] == ["Scheduled", "Started", "Completed"]
        assert {e["job_id"] for e in deletion} != {None}
        assert deletion[0]["resource_id"] == account_id
        for headers, body in flaky.kept:
            stamp = headers["X-Stratus-Timestamp"]
            expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
            assert headers["X-Stratus-Signature"] == "sha256=" + expected.hexdigest()
        listed = _cli(server, "webhooks", "list")
        assert listed.returncode == 0 and "flaky" in listed.stdout and "dead" in listed.stdout
        assert SECRET not in listed.stdout
        assert SECRET not in server.output()
        assert SECRET.encode() not in _stored_bytes(server)  # sealed at rest
    finally:
        flaky.close()
        healthy.close()


def _stored_bytes(server: Server) -> bytes:
    """The webhook rows as stored: the database file, or the rows PostgreSQL holds."""
    if "STRATUS_DATABASE_URL" not in server.env:
        return b"".join(p.read_bytes() for p in server.data_dir.glob("stratus.db*"))
    import psycopg

    from stratus.settings import parse_database_url

    base, _, schema = server.env["STRATUS_DATABASE_URL"].partition("?schema=")
    with psycopg.connect(parse_database_url(base).conninfo) as connection:
        rows = connection.execute(f'SELECT * FROM "{schema}".webhooks').fetchall()
    assert rows
    return repr(rows).encode()


def test_a_webhook_registration_is_refused_with_one_line(server: Server) -> None:
    add = ("webhooks", "add")
    weak = _cli(server, *add, "weak", "http://127.0.0.1:1/x", "--secret-file", "-", stdin="short")
    assert weak.returncode == 2
    assert weak.stderr.strip().count("\n") == 0 and "16 characters" in weak.stderr
    scheme = _cli(server, *add, "ftp", "ftp://host/x", "--secret-file", "-", stdin=SECRET)
    assert scheme.returncode == 2 and "http://" in scheme.stderr
    missing = _cli(server, "webhooks", "remove", "nobody")
    assert missing.returncode == 2 and "no webhook named 'nobody'" in missing.stderr


@pytest.mark.postgres
@pytest.mark.nats
def test_the_stream_survives_a_killed_publisher_with_nothing_lost_or_repeated(
    tmp_path: Path,
) -> None:
    from tests.e2e.test_distributed import _drop_stream, _role

    env, cleanup = _distributed_env()
    data = tmp_path / "data"
    api = start_server(data, env, role="api")
    projector = _role("projections", env, data, tmp_path / "projections.log")
    publisher = _role("events", env, data, tmp_path / "events.log")
    stream = f"{env['STRATUS_NATS_STREAM']}_EVENTS"
    subjects = f"{env['STRATUS_BUS_PREFIX']}-events"
    stop, made = threading.Event(), []
    try:
        admin = api.client(timeout=60)

        def burst() -> None:
            while not stop.is_set() and len(made) < 120:
                made.append(_make_account(admin, f"burst{len(made)}"))

        writer = threading.Thread(target=burst)
        writer.start()
        wait_until(lambda: _stored(env, stream) >= 30, 60, "the publisher under way")
        publisher.send_signal(signal.SIGKILL)
        publisher.wait(timeout=10)
        publisher = _role("events", env, data, tmp_path / "events.log")
        writer.join(timeout=300)
        stop.set()
        listed = wait_until(lambda: _listed_after(admin, len(made)), 60, "the burst in listEvents")
        wanted = {e["id"] for e in listed}
        copy = wait_until(
            lambda: _read_at_least(env, stream, subjects, len(wanted)),
            60,
            "the stream holding every listed event",
        )
        sequences = [entry["sequence"] for _, entry in copy]
        assert sequences == sorted(set(sequences))  # stored once each, in log order
        owned = {entry["id"] for _, entry in copy if entry["account_id"]}
        assert owned == wanted  # listEvents shows the entries an account owns
        for subject, entry in copy:
            assert subject == f"{subjects}.{entry['type']}"
        middle = sequences[len(sequences) // 2]
        resumed = _read_stream(env, stream, subjects, after=middle)
        assert [entry["sequence"] for _, entry in resumed] == [s for s in sequences if s > middle]
    finally:
        stop.set()
        for process in (projector, publisher):
            process.terminate()
            process.wait(timeout=15)
        stop_server(api)
        _drop_stream(env["STRATUS_NATS_URL"], stream)
        cleanup()


def _listed_after(admin: Any, accounts: int) -> list[dict[str, Any]]:
    """Every listed event, once the creation of each account of the burst is among them."""
    events = _all_events(admin)
    made = [e for e in events if e["type"] == "ACCOUNT.CREATE" and "burst" in e["description"]]
    return events if len(made) >= accounts else []


def _distributed_env() -> tuple[dict[str, str], Any]:
    import psycopg

    from stratus.settings import parse_database_url
    from tests.conftest import TEST_KEY, postgres_url
    from tests.e2e.test_distributed import _drop_stream

    url, nats_url = postgres_url(), os.environ.get("STRATUS_TEST_NATS_URL")
    if not url or not nats_url:
        pytest.skip("needs STRATUS_TEST_POSTGRES_URL and STRATUS_TEST_NATS_URL")
    tag = uuid.uuid4().hex[:10]
    env = {
        "STRATUS_DATABASE_URL": f"{url}?schema=f_{tag}",
        "STRATUS_NATS_URL": nats_url,
        "STRATUS_BUS_PREFIX": f"f{tag}",
        "STRATUS_NATS_STREAM": f"F{tag}",
        "STRATUS_SECRET_KEY": TEST_KEY,
    }

    def cleanup() -> None:
        with psycopg.connect(parse_database_url(url).conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "f_{tag}" CASCADE')
        _drop_stream(nats_url, f"F{tag}")

    return env, cleanup


def _stored(env: dict[str, str], stream: str) -> int:
    import nats

    async def count() -> int:
        client = await nats.connect(env["STRATUS_NATS_URL"])
        try:
            return int((await client.jetstream().stream_info(stream)).state.messages)
        except Exception:  # not created yet
            return 0
        finally:
            await client.close()

    return asyncio.run(count())


def _read_at_least(
    env: dict[str, str], stream: str, subjects: str, count: int
) -> list[tuple[str, dict[str, Any]]]:
    got = _read_stream(env, stream, subjects)
    return got if len(got) >= count else []


def _read_stream(
    env: dict[str, str], stream: str, subjects: str, after: int = 0
) -> list[tuple[str, dict[str, Any]]]:
    """What a consumer resuming after log sequence `after` reads: every stored entry from there."""
    import nats
    from nats.js.api import ConsumerConfig, DeliverPolicy

    from stratus.feed.nats import first_stream_sequence_after

    async def read() -> list[tuple[str, dict[str, Any]]]:
        client = await nats.connect(env["STRATUS_NATS_URL"])
        try:
            js = client.jetstream()
            last = (await js.stream_info(stream)).state.last_seq
            start = await first_stream_sequence_after(js, stream, subjects, after)
            if start > last:
                return []
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start
            )
            pull = await js.pull_subscribe(f"{subjects}.>", stream=stream, config=config)
            got: list[tuple[str, dict[str, Any]]] = []
            while True:
                for message in await pull.fetch(100, timeout=5):
                    got.append((message.subject, orjson.loads(message.data)))
                    await message.ack()
                    if message.metadata.sequence.stream >= last:
                        await pull.unsubscribe()
                        return got
        finally:
            await client.close()

    return asyncio.run(read())
