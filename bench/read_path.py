"""The read side of the event store: how fast the notification log reads, how far projections lag.

Run: .venv/bin/python bench/read_path.py [--url postgresql://postgres@127.0.0.1:5432/test]

Prints, for the embedded store (SQLite) and, with --url, for PostgreSQL:
- notification-log read rate, raw rows and decoded events, in pages of 1,000;
- projection lag p50/p99 while a writer commits a steady 1,000 events/s for --seconds: the time
  from an event's commit until the read model includes it.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from entrypoint.installation import open_runtime
from stratus.settings import Settings, parse_database_url
from tests.support.counters import Counter, CountersProjection, create_tables

KEY = base64.b64encode(os.urandom(32)).decode()


def populate(store, events: int) -> None:
    batch = []
    made = 0
    while made < events:
        counter = Counter(name=f"c{made}")
        for step in range(9):
            counter.increment(by=step)
        batch.append(counter)
        made += 10
        if len(batch) == 100:
            store.save(*batch)
            batch = []
    if batch:
        store.save(*batch)


def read_rates(store) -> tuple[float, float, int]:
    recorder, mapper = store.recorder, store.mapper
    for decode in (False, True):
        started, count, position = time.perf_counter(), 0, 0
        while page := recorder.select_notifications(position, 1000, inclusive_of_start=False):
            if decode:
                for notification in page:
                    mapper.to_domain_event(notification)
            count += len(page)
            position = page[-1].id
        elapsed = time.perf_counter() - started
        if not decode:
            raw = count / elapsed
    return raw, count / elapsed, count


def projection_lag(runtime, seconds: float, rate: int = 1000) -> list[float]:
    """Milliseconds from commit to visibility, for every event written at `rate` per second."""
    committed: dict[int, float] = {}
    lags: list[float] = []
    stop = threading.Event()

    def write() -> None:
        tick = 0.01
        per_tick = max(1, rate // 100)
        next_at = time.perf_counter()
        while not stop.is_set():
            counter = Counter(name="steady")
            for _ in range(per_tick - 1):
                counter.increment()
            recordings = runtime.store.save(counter)
            now = time.perf_counter()
            for recording in recordings:
                committed[recording.notification.id] = now
            runtime.runner.wake()
            next_at += tick
            time.sleep(max(0.0, next_at - time.perf_counter()))

    def watch() -> None:
        seen = runtime.store.head()
        while not stop.is_set() or seen < max(committed, default=0):
            position = runtime.runner.positions().get("counters", 0)
            now = time.perf_counter()
            for notification_id in range(seen + 1, position + 1):
                if notification_id in committed:
                    lags.append((now - committed[notification_id]) * 1000)
            seen = max(seen, position)
            time.sleep(0.0005)

    runtime.runner.start()
    writer, watcher = threading.Thread(target=write), threading.Thread(target=watch)
    watcher.start()
    writer.start()
    time.sleep(seconds)
    stop.set()
    writer.join()
    watcher.join(timeout=30)
    runtime.runner.stop()
    return lags


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def run(name: str, settings: Settings, events: int, seconds: float) -> None:
    runtime = open_runtime(settings, projections=[CountersProjection()])
    try:
        create_tables(runtime.db)
        populate(runtime.store, events)
        raw, decoded, count = read_rates(runtime.store)
        runtime.runner.catch_up()
        lags = projection_lag(runtime, seconds)
    finally:
        runtime.close()
    print(
        f"{name:<10} log read {count:>8} events: raw {raw:>10,.0f} ev/s, "
        f"decoded {decoded:>9,.0f} ev/s | projection lag at 1,000 ev/s: "
        f"p50 {statistics.median(lags):6.1f} ms, p99 {percentile(lags, 0.99):6.1f} ms "
        f"({len(lags)} events)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (also measures the embedded store)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        run("sqlite", Settings(data_dir=Path(directory), secret_key=KEY), args.events, args.seconds)
    if args.url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp()),
            secret_key=KEY,
            postgres=parse_database_url(f"{args.url}?schema={schema}"),
        )
        try:
            run("postgres", settings, args.events, args.seconds)
        finally:
            with psycopg.connect(parse_database_url(args.url).conninfo, autocommit=True) as c:
                c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
