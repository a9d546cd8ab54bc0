"""Signed-request throughput and list latency of a real server over HTTP.

Run: .venv/bin/python bench/api.py [--url postgresql://postgres@127.0.0.1:5432/test]

Starts `stratus serve` on the embedded store (and, with --url, on PostgreSQL), creates
--accounts accounts, then for --seconds sends signed `listAccounts pagesize=100` requests from
--clients threads over keep-alive connections and prints requests/s and latency p50/p99.
The clients run on the same two cores as the server, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.signing import sign
from stratus.settings import parse_database_url
from tests.e2e.conftest import start_server, stop_server


def settle(runtime) -> None:
    """Bring every read model and the billing run up to the log after a bulk load, so a
    measurement sees the steady state rather than a server still catching up."""
    from billing.billing import BillingRun

    runtime.runner.catch_up()
    BillingRun(runtime.db).run_once()


BILLING = "usage"  # the billing run's state row (projections/usage.py)


def billing_warm(conninfo: str, schema: str, since: datetime, timeout: float = 300.0) -> None:
    """Wait until a server started at `since` has finished its first billing run.

    That run loads the open usage spans into memory (one per VM, volume, address…), a few
    seconds of the interpreter with 100,000 VMs; a latency figure is the server's steady state,
    after it.
    """
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                f'SELECT updated_at FROM "{schema}".usage_billing WHERE name = %s', (BILLING,)
            ).fetchone()
            if row and datetime.fromisoformat(row[0]) >= since:
                return
            time.sleep(0.2)
    raise RuntimeError("the server's first billing run did not finish in time")


def signed(server, params: dict[str, str]) -> dict[str, str]:
    expires = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    params = dict(
        params,
        apiKey=server.admin["apikey"],
        response="json",
        signatureVersion="3",
        expires=expires,
    )
    params["signature"] = sign(params, server.admin["secretkey"])
    return params


def populate(server, accounts: int) -> None:
    with httpx.Client(timeout=30) as http:
        for index in range(accounts):
            answer = http.get(
                server.url,
                params=signed(
                    server,
                    {
                        "command": "createAccount",
                        "accounttype": "0",
                        "username": f"bench{index}",
                        "password": uuid.uuid4().hex,
                        "email": "b@example.org",
                        "firstname": "B",
                        "lastname": "Ench",
                    },
                ),
            )
            answer.raise_for_status()


def load(server, clients: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        mine = []
        with httpx.Client(timeout=30) as http:
            while time.perf_counter() < deadline:
                params = signed(server, {"command": "listAccounts", "page": "1", "pagesize": "100"})
                started = time.perf_counter()
                http.get(server.url, params=params).raise_for_status()
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), latencies


def run(name: str, env: dict[str, str], args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        server = start_server(Path(directory) / "data", env)
        try:
            populate(server, args.accounts)
            count, latencies = load(server, args.clients, args.seconds)
        finally:
            stop_server(server)
    ordered = sorted(latencies)
    print(
        f"{name:<10} signed listAccounts (pagesize 100 of {args.accounts + 1}): "
        f"{count / args.seconds:7.0f} req/s with {args.clients} clients, "
        f"p50 {statistics.median(ordered):6.1f} ms, p99 {ordered[int(0.99 * len(ordered))]:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    run("sqlite", {}, args)
    if args.url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        try:
            run("postgres", {"STRATUS_DATABASE_URL": f"{args.url}?schema={schema}"}, args)
        finally:
            with psycopg.connect(parse_database_url(args.url).conninfo, autocommit=True) as c:
                c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
