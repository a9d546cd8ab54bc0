"""Durable write throughput of the PostgreSQL event store: the library's path against group commit.

Run: .venv/bin/python bench/write_path.py --url postgresql://postgres@127.0.0.1:5432/test
     [--cpus any]   (by default the writers are held on the first CPU; see --help)

Each writer thread runs commands back to back through ``EventStore.save``: a command either
creates a VirtualRouter (its Created event plus updates) or updates one of the routers the
thread made before, held in memory as an aggregate cache would hold it. Every command records
``--events-per-command`` events. Each path runs on a fresh schema with ``synchronous_commit`` as
the server has it, so an event counts only once its commit has been flushed. The in-memory
path runs the same application, mapper and threads with no database: no recorder can beat it.
The unchained path is group commit without the audit hash chain: the difference between the two
rows is what the chain costs the write path (it may cost at most 10%). On an earlier build, ten
alternating 6 s runs of each at 3 events per command, 32 writers, quiet machine: chained
11.0-16.0k events/s (mean 13.9k), unchained 10.9-18.2k (mean 15.0k): the chain costs 7-8%,
within the run-to-run spread.

Figures (2-core VM, PostgreSQL 15, fsync on, 6 s runs, 32 writers), events/s at 1 / 2 / 3 / 6
events per command. Stratus' own commits record about 2 events each: over the 1,503 commits of
the end-to-end VM, network, volume, infrastructure, rule and snapshot scenarios, 2.05 on
average, 1 to 7 (a job's start and end is 2, a deploy 3, createAccount 6). So 2 is the
representative column.
  --cpus 0 (the writers held on one CPU, as STRATUS_CPUS=0 holds a server):
    library            956 / 1,704 / 2,506 / 5,099
    group commit       16,342 / 24,549 / 21,788 / 36,421
    unchained          19,098 / 25,496 / 29,647 / 38,785
    in-memory          22,262 / 26,438 / 31,546 / 32,771
  writers free to run on either CPU, same build:
    group commit       7,827 / 14,071 / 14,866 / 19,433
    group commit x2    9,254 / 15,842 / 18,158 / 25,347
Runs of the same build vary by 10-20% on this machine: at 2 events per command, held, five more
runs measured 20.9k, 22.2k, 22.5k, 23.9k and 24.5k.

What made the difference, in order of size:
- Holding the writers on one CPU (--cpus, STRATUS_CPUS). Free to roam, the threads woke each
  other across the two CPUs on every hand-off; on a virtual machine each such wake-up is an exit
  to the hypervisor, and 30% of the process's CPU was system time. Held, it is 11% and the
  throughput doubles. Holding both processes of "x2" on a CPU each gains nothing: each then
  shares its CPU with PostgreSQL.
- Sending a batch's arrays prebuilt in PostgreSQL's binary format (stratus/store/arrays.py):
  the leader's CPU per batch went from 391 to 251 us; keeping its cursor (loaders built once)
  and its composed statement took it to about 175 us, a sixth of the process's CPU.
- Waking a batch's followers one after another (each wakes the next as it resumes) instead of
  all at once, so one thread at a time queues for the interpreter lock: 1.5-2x held on one CPU,
  20-40% free.
- ``EventStore.save`` collecting library aggregates without the runtime-protocol ``isinstance``
  checks (~8 us per command); the transcoder dispatching by exact type and letting orjson write
  UUIDs and UTC datetimes; the mapper reusing one acting context per block.

Where the rest goes, held on one CPU at 1 event per command: about 64 us of CPU per command, of
which the leader's share of its batch is ~11 us and the library's event construction and
mapping most of the rest (the in-memory path, with no database, spends ~45 us). One-event
commands therefore stay below 20k in one process.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import Environment, get_topic

from stratus.cpus import available_cpus, format_cpus, hold_on, parse_cpus
from stratus.settings import Settings, parse_database_url
from stratus.store.application import EventStore
from stratus.store.groupcommit import GroupCommitRecorder

CREATE_SHARE = 0.25


class VirtualRouter(Aggregate):
    """A router much like the ones Stratus keeps: a few fields, small state changes."""

    @event("Created")
    def __init__(self, name: str, zone_id: str, network_id: str, offering: str) -> None:
        self.name = name
        self.zone_id = zone_id
        self.network_id = network_id
        self.offering = offering
        self.state = "Starting"

    @event("StateChanged")
    def change_state(self, state: str, host_id: str, reason: str) -> None:
        self.state = state


@dataclass
class Tally:
    """What one writer did."""

    commands: int = 0
    events: int = 0
    latencies: list[float] = field(default_factory=list)


def run_command(store: EventStore, routers: list[VirtualRouter], events: int) -> None:
    if not routers or random.random() < CREATE_SHARE:
        router = VirtualRouter(f"r-{uuid.uuid4().hex[:8]}", "zone-1", str(uuid.uuid4()), "small")
        routers.append(router)
        updates = events - 1
    else:
        router = random.choice(routers)
        updates = events
    for _ in range(updates):
        router.change_state(random.choice(("Running", "Stopped")), str(uuid.uuid4()), "bench")
    store.save(router)


def writer(store: EventStore, events: int, stop: threading.Event, tally: Tally) -> None:
    routers: list[VirtualRouter] = []
    while not stop.is_set():
        started = time.perf_counter()
        run_command(store, routers, events)
        tally.latencies.append(time.perf_counter() - started)
        tally.commands += 1
        tally.events += events


@dataclass
class Result:
    path: str
    writers: int
    events: int
    commands: int
    seconds: float
    p50_ms: float
    p99_ms: float
    batch: str


def measure(store: EventStore, path: str, args: argparse.Namespace, writers: int) -> Result:
    stop = threading.Event()
    tallies = [Tally() for _ in range(writers)]
    threads = [
        threading.Thread(target=writer, args=(store, args.events_per_command, stop, tally))
        for tally in tallies
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for tally in tallies for x in tally.latencies)
    return Result(
        path=path,
        writers=writers,
        events=sum(t.events for t in tallies),
        commands=sum(t.commands for t in tallies),
        seconds=elapsed,
        p50_ms=1000 * statistics.median(latencies),
        p99_ms=1000 * latencies[int(0.99 * (len(latencies) - 1))],
        batch=batch_size(store),
    )


def batch_size(store: EventStore) -> str:
    recorder = store.recorder
    batches = getattr(recorder, "batches_committed", 0)
    if not batches:
        return "1 (no batching)"
    return f"{recorder.commands_committed / batches:.1f} commands"


class UnchainedStore(EventStore):
    """Group commit without the audit hash chain: what the chain costs, from the same run."""

    def construct_env(self, name: str, env: Any = None) -> Environment:
        plain = dict(env or {})
        plain["APPLICATION_RECORDER_TOPIC"] = get_topic(GroupCommitRecorder)
        return Environment(name, plain)


def with_fresh_store(url: str, group_commit: bool, body, store_class: type = EventStore):
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    conninfo = parse_database_url(url).conninfo
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            postgres=parse_database_url(f"{url}{separator}schema={schema}"),
            secret_key=base64.b64encode(os.urandom(32)).decode(),
            group_commit=group_commit,
        )
        store = store_class(settings)
        try:
            return body(store)
        finally:
            store.close()
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def check_gap_free(store: EventStore, expected: int) -> str:
    ids = [n.id for n in store.recorder.select_notifications(None, expected + 1)]
    if ids == list(range(1, expected + 1)):
        return "gap-free"
    return f"NOT gap-free ({len(ids)} ids, max {max(ids, default=0)}, expected {expected})"


def _child(
    settings: Settings,
    args: argparse.Namespace,
    writers: int,
    cpu: int | None,
    barrier: Any,
    results: Any,
) -> None:
    """One API-like process of several writing the same log: its writers, its group commit."""
    if cpu is not None:
        hold_on(frozenset({cpu}))
    store = EventStore(settings)
    try:
        barrier.wait(timeout=60)
        result = measure(store, "group commit", args, writers)
        results.put((result.events, result.commands, result.seconds, store_latencies(result)))
    finally:
        store.close()


def store_latencies(result: Result) -> tuple[float, float]:
    return result.p50_ms, result.p99_ms


def run_processes(
    url: str, args: argparse.Namespace, writers: int, processes: int
) -> tuple[Result, str]:
    """`writers` threads spread over `processes` processes sharing one event log; with
    ``--cpus``, each process is held on one CPU of the list, in turn."""
    context = multiprocessing.get_context("spawn")
    cpus = sorted(args.cpus) if args.cpus else []

    def body(store: EventStore) -> tuple[Result, str]:
        barrier, results = context.Barrier(processes), context.Queue()
        children = [
            context.Process(
                target=_child,
                args=(
                    store.settings,
                    args,
                    writers // processes,
                    cpus[number % len(cpus)] if cpus else None,
                    barrier,
                    results,
                ),
            )
            for number in range(processes)
        ]
        for child in children:
            child.start()
        parts = [results.get(timeout=args.seconds + 120) for _ in children]
        for child in children:
            child.join()
        events = sum(p[0] for p in parts)
        result = Result(
            path=f"group commit x{processes}",
            writers=writers,
            events=events,
            commands=sum(p[1] for p in parts),
            seconds=max(p[2] for p in parts),
            p50_ms=max(p[3][0] for p in parts),
            p99_ms=max(p[3][1] for p in parts),
            batch=f"{processes} processes",
        )
        return result, check_gap_free(store, events)

    return with_fresh_store(url, True, body)


class InMemoryStore(EventStore):
    """The same application, mapper and encryption, storing in memory: the Python-side ceiling."""

    def construct_env(self, name: str, env: Any = None) -> Environment:
        return Environment(name, {"PERSISTENCE_MODULE": "eventsourcing.popo"})


def run_in_memory(args: argparse.Namespace, writers: int) -> tuple[Result, str]:
    with tempfile.TemporaryDirectory() as data_dir:
        key = base64.b64encode(os.urandom(32)).decode()
        store = InMemoryStore(Settings(data_dir=Path(data_dir), secret_key=key))
        result = measure(store, "in-memory", args, writers)
        return result, "not durable"


def run_path(url: str, path: str, args: argparse.Namespace, writers: int) -> tuple[Result, str]:
    if path == "in-memory":
        return run_in_memory(args, writers)
    if path.startswith("group commit x"):
        return run_processes(url, args, writers, int(path.rpartition("x")[2]))

    def body(store: EventStore) -> tuple[Result, str]:
        result = measure(store, path, args, writers)
        return result, check_gap_free(store, result.events)

    if path == "unchained":
        return with_fresh_store(url, True, body, UnchainedStore)
    return with_fresh_store(url, path == "group commit", body)


def server_settings(url: str) -> str:
    conninfo = parse_database_url(url).conninfo
    with psycopg.connect(conninfo) as connection:
        names = ("server_version", "fsync", "synchronous_commit", "wal_sync_method")
        values = [connection.execute(f"SHOW {name}").fetchone()[0] for name in names]
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_url = os.environ.get(
        "STRATUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--url", default=default_url, help="PostgreSQL server (a database URL)")
    parser.add_argument(
        "--writers", default="32", help="concurrent writer threads; a comma list runs each"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument(
        "--events-per-command",
        default="1,2,3,6",
        help="events each command records; a comma list runs each (Stratus' own commits record "
        "1 to 7, 2 on average: a job's start and end 2, a deploy 3, createAccount 6)",
    )
    parser.add_argument(
        "--paths",
        default="library,group commit,unchained,group commit x2,in-memory",
        help="paths to run, comma separated: library, group commit, unchained (group commit "
        "without the audit hash chain), group commit xN (the writers spread over N processes "
        "on one log), in-memory (no database)",
    )
    parser.add_argument(
        "--cpus",
        type=_cpus_option,
        default=_first_cpu(),
        help="hold the writers on these CPUs (taskset -c notation), as STRATUS_CPUS holds a "
        "server process: the one-process paths on all of them, each process of an xN path on "
        "one of them in turn; 'any' leaves them free (default: this process's first CPU, the "
        "deployment README.md recommends)",
    )
    return parser.parse_args()


def _cpus_option(text: str) -> frozenset[int] | None:
    return None if text == "any" else parse_cpus(text)


def _first_cpu() -> frozenset[int] | None:
    allowed = available_cpus()
    return frozenset({min(allowed)}) if allowed else None


def main() -> None:
    args = parse_args()
    if args.cpus:
        hold_on(args.cpus)
    print(f"PostgreSQL: {server_settings(args.url)}")
    print(f"writers on CPU {format_cpus(args.cpus) if args.cpus else 'any (not held)'}")
    print(
        f"{args.seconds:g} s per run, {int(CREATE_SHARE * 100)}% of commands create a router, "
        "the rest update one; target: 20,000 durable events/s with 32 writers"
    )
    header = f"{'events/cmd':>10}  {'path':<14}{'writers':>8}{'events/s':>10}{'commands/s':>12}"
    header += f"{'p50 ms':>8}{'p99 ms':>8}  {'mean batch':<18}log"
    print(header)
    for size in (int(n) for n in str(args.events_per_command).split(",")):
        args.events_per_command = size
        for writers in (int(w) for w in args.writers.split(",")):
            for path in (p.strip() for p in args.paths.split(",")):
                result, log = run_path(args.url, path, args, writers)
                print(
                    f"{size:>10}  {result.path:<14}{result.writers:>8}"
                    f"{result.events / result.seconds:>10.0f}"
                    f"{result.commands / result.seconds:>12.0f}{result.p50_ms:>8.2f}"
                    f"{result.p99_ms:>8.2f}  {result.batch:<18}{log}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
