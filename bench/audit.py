"""Audit tooling speed: `audit verify` over a big log, and `audit at` for one resource in it.

Run: .venv/bin/python bench/audit.py [--events 1000000] [--url postgresql://...]

Fills a fresh store (a temporary SQLite file, or a fresh schema on --url) with ``--events``
events, saved in batches of 1,000 through the event store (so the hash chain is written as in
production), with one host whose 40 events are spread through the log. Then it times
`audit verify` over the whole log (events/s) and `audit at` for that host at an instant in the
middle of its life (median and worst of 20 runs). Populating 1M events takes minutes.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate, event

from audit.timetravel import resource_at
from audit.verify import verify
from commands import hosts
from commands.infrastructure import (
    AddCluster,
    CreatePod,
    CreateZone,
    add_cluster,
    create_pod,
    create_zone,
)
from stratus.settings import Settings, parse_database_url
from stratus.store.application import EventStore
from stratus.store.decoding import Decoder
from stratus.store.readonly import open_readonly

BATCH = 1000


class Filler(Aggregate):
    """A small aggregate with small changes, like most of the log."""

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.state = "Starting"

    @event("StateChanged")
    def change_state(self, state: str, reason: str) -> None:
        self.state = state


def _settings(url: str | None) -> Settings:
    key = base64.b64encode(b"b" * 32).decode()
    data = Path(tempfile.mkdtemp(prefix="stratus-audit-bench-"))
    if url is None:
        return Settings(data_dir=data, secret_key=key)
    schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(parse_database_url(url).conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return Settings(
        data_dir=data, secret_key=key, postgres=parse_database_url(f"{url}?schema={schema}")
    )


def _host(store: EventStore) -> UUID:
    zone = create_zone(store, CreateZone("z", "Advanced", {"dns1": "8.8.8.8"})).id
    pod = create_pod(store, CreatePod(zone, "p", "10.0.0.1", "255.255.255.0", "10.0.0.5")).id
    cluster = add_cluster(store, AddCluster(zone, pod, "c", "Simulator")).id
    command = hosts.AddHost(zone, pod, cluster, "Simulator", "simulator://h", "root", "pw")
    host_id = hosts.add_host(store, command).id
    assert host_id is not None
    return host_id


def populate(store: EventStore, total: int) -> tuple[UUID, datetime]:
    """Fill the log; returns the host and an instant in the middle of its life."""
    host_id, middle = _host(store), datetime.now(UTC)
    every = max(total // BATCH // 40, 1)
    written, batch_number = store.head(), 0
    while written < total:
        fillers = [Filler(f"r{written + i}") for i in range(BATCH // 10)]
        for filler in fillers:
            for step in range(9):
                filler.change_state(f"S{step}", "bench")
        written += len(store.save(*fillers))
        batch_number += 1
        if batch_number % every == 0:
            hosts.update_host(store, hosts.UpdateHost(host_id, {"name": f"h{batch_number}"}))
            written += 1
            if batch_number // every == 20:
                middle = datetime.now(UTC)
    return host_id, middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log")
    parser.add_argument("--url", help="PostgreSQL server (default: a temporary SQLite store)")
    args = parser.parse_args()
    settings = _settings(args.url)
    store = EventStore(settings)
    started = time.perf_counter()
    host_id, middle = populate(store, args.events)
    filled = time.perf_counter() - started
    head = store.head()
    store.close()
    print(
        f"store: {'PostgreSQL' if args.url else 'SQLite'}; {head} events written in "
        f"{filled:.1f} s ({head / filled:,.0f} events/s, chain included)"
    )
    with open_readonly(settings) as source:
        started = time.perf_counter()
        report = verify(source)
        seconds = time.perf_counter() - started
        assert report.ok, report.findings[:1]
        print(
            f"audit verify: {report.checked} events in {seconds:.2f} s "
            f"({report.checked / seconds:,.0f} events/s)"
        )
        decoder, timings = Decoder(), []
        for _ in range(20):
            started = time.perf_counter()
            state = resource_at(source, decoder, host_id, middle)
            timings.append((time.perf_counter() - started) * 1000)
        assert state is not None
        print(
            f"audit at (one host, {state['version']} of its events replayed): "
            f"median {statistics.median(timings):.2f} ms, worst {max(timings):.2f} ms"
        )


if __name__ == "__main__":
    main()
