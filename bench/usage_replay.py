"""Usage replay speed on PostgreSQL: a year of a cloud, replayed into usage records.

Run: .venv/bin/python bench/usage_replay.py --url postgresql://postgres@127.0.0.1:5432/test
         [--vms 10000] [--events 10000000] [--schema NAME] [--keep] [--workers N]

Generates (unless --schema names one that already holds a log) a year of VM lifecycles: each
VM is deployed with its ROOT volume, started and stopped on a steady cycle, scaled every fourth
cycle while stopped, and one in ten is destroyed and expunged before the year ends. Events are
real domain events, encoded by the store's mapper and inserted through its recorder in batches
of 10,000, day by day in time order. Then, in the same run, it prints:
- the notification-log read rate: raw rows, and rows decoded to domain events (pages of 10,000);
- the usage replay rate (events/s) of `stratus usage replay`'s code (`billing.parallel.
  replay_log`, pages of 20,000 usage events folded into records) in one process, then split
  over --workers processes (default: one per CPU), each beside the target and as a share of the
  decoded read rate.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from billing.parallel import ReadOnlyLog, default_workers, replay_log
from domain.compute import Compute
from domain.usage_periods import to_ms
from domain.vm import VirtualMachine
from domain.volume import Volume, root_volume_id
from entrypoint.installation import open_runtime
from stratus.settings import Settings, parse_database_url

KEY = base64.b64encode(os.urandom(32)).decode()
NS = UUID("3c2f7b1e-9d84-4c55-8f0e-2a6b5c4d3e1f")
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
BATCH = 10_000
TARGET = 100_000
VM: Any = VirtualMachine
VOLUME: Any = Volume


def _shapes() -> list[dict[str, Any]]:
    template = uuid5(NS, "template")
    fixed = [(uuid5(NS, f"offering-{n}"), n, 1000, 1024 * n, False) for n in (1, 2, 4)]
    custom = [(uuid5(NS, "custom"), n, 2000, 2048 * n, True) for n in (1, 2, 3)]
    return [
        Compute(o, cpu, mhz, mem, c, template, "KVM", 20).facts()
        for o, cpu, mhz, mem, c in fixed + custom
    ]


class VmPlan:
    """One VM's year: when it is deployed, how often it cycles, whether it goes away."""

    def __init__(self, index: int, cycle: timedelta, shapes: list[dict[str, Any]]) -> None:
        self.id = uuid5(NS, f"vm-{index}")
        self.index, self.cycle, self.shapes = index, cycle, shapes
        self.deploy_at = START + timedelta(seconds=(index * 7919) % 86400)
        self.destroy_at = START + timedelta(days=300 + index % 60) if index % 10 == 0 else None
        self.version, self.cycles, self.shape = 0, 0, shapes[index % len(shapes)]
        self.next_at, self.running, self.gone = self.deploy_at, False, False

    def _base(self, at: datetime, vm_id: UUID | None = None) -> dict[str, Any]:
        self.version += 1
        return {
            "originator_id": vm_id or self.id,
            "originator_version": self.version,
            "timestamp": at,
        }

    def events_until(self, end: datetime) -> list[Any]:
        made: list[Any] = []
        while not self.gone and self.next_at < end:
            at = self.next_at
            if self.destroy_at is not None and at >= self.destroy_at:
                made += self._destroy(self.destroy_at)
            elif self.version == 0:
                made += self._deploy(at)
            else:
                made += self._step(at)
        return made

    def _deploy(self, at: datetime) -> list[Any]:
        name = f"vm-{self.index}"
        deployed = VM.Deployed(
            **self._base(at),
            originator_topic="domain.vm:VirtualMachine",
            name=name,
            display_name=name,
            instance_name=f"i-2-{self.index}-VM",
            owner_account_id=uuid5(NS, f"account-{self.index % 500}"),
            owner_domain_id=uuid5(NS, "domain"),
            zone_id=uuid5(NS, "zone"),
            guest_os_id="linux",
            compute=self.shape,
            keyboard="",
        )
        root = VOLUME.Created(
            originator_id=root_volume_id(self.id),
            originator_version=1,
            timestamp=at,
            originator_topic="domain.volume:Volume",
            name=f"ROOT-{self.index}",
            kind="ROOT",
            owner_account_id=deployed.owner_account_id,
            owner_domain_id=deployed.owner_domain_id,
            zone_id=deployed.zone_id,
            size_gb=20,
            disk_offering_id=self.shape["offering_id"],
            template_id=self.shape["template_id"],
            vm_id=self.id,
        )
        self.next_at = at + timedelta(minutes=5)
        return [deployed, root]

    def _step(self, at: datetime) -> list[Any]:
        if self.running:
            self.running = False
            self.next_at = at + self.cycle * 0.4
            return [VM.Stopped(**self._base(at), request_id="r", compute=self.shape)]
        self.cycles += 1
        made = []
        if self.cycles % 4 == 0:
            self.shape = self.shapes[(self.index + self.cycles) % len(self.shapes)]
            made.append(VM.Scaled(**self._base(at), request_id=None, compute=self.shape))
            at += timedelta(seconds=30)
        self.running = True
        self.next_at = at + self.cycle * 0.6
        made.append(VM.Started(**self._base(at), request_id="r", host_id=None, compute=self.shape))
        return made

    def _destroy(self, at: datetime) -> list[Any]:
        self.gone = True
        later = at + timedelta(minutes=1)
        volume = root_volume_id(self.id)
        return [
            VM.Destroyed(**self._base(at), request_id="r", compute=self.shape),
            VM.Expunged(**self._base(later), request_id="r", compute=self.shape),
            VOLUME.Destroyed(originator_id=volume, originator_version=2, timestamp=later, facts={}),
        ]


def generate(store: Any, vms: int, events: int) -> int:
    """Write about `events` events for `vms` VMs over a year; returns how many were written."""
    per_vm = max(events * 1.03 / vms - 4, 3)  # a few VMs go away before the year ends
    cycle = timedelta(days=DAYS) / (per_vm / 2.25)
    plans = [VmPlan(i, cycle, _shapes()) for i in range(vms)]
    mapper, recorder, written, batch = store.mapper, store.recorder, 0, []
    for day in range(1, DAYS + 1):
        end = START + timedelta(days=day)
        todays = [e for plan in plans for e in plan.events_until(end)]
        todays.sort(key=lambda e: e.timestamp)
        for event in todays:
            batch.append(mapper.to_stored_event(event))
            if len(batch) == BATCH:
                recorder.insert_events(batch)
                written, batch = written + len(batch), []
        if day % 30 == 0 or day == DAYS:
            print(f"generating: day {day}/{DAYS}, {written:,} events", file=sys.stderr)
    if batch:
        recorder.insert_events(batch)
        written += len(batch)
    print(file=sys.stderr)
    return written


def read_rates(store: Any) -> tuple[float, float, int]:
    """(raw rows/s, decoded events/s, events) over the whole notification log."""
    recorder, mapper = store.recorder, store.mapper
    rates = []
    for decode in (False, True):
        started, count, position = time.perf_counter(), 0, 0
        while page := recorder.select_notifications(position, 10_000, inclusive_of_start=False):
            if decode:
                for notification in page:
                    mapper.to_domain_event(notification)
            count += len(page)
            position = page[-1].id
        rates.append(count / (time.perf_counter() - started))
    return rates[0], rates[1], count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--schema", help="reuse (or create and keep) this schema")
    parser.add_argument("--keep", action="store_true", help="keep the generated schema")
    parser.add_argument("--workers", type=int, help="replay processes (default: one per CPU)")
    args = parser.parse_args()
    schema = args.schema or f"bench_usage_{uuid.uuid4().hex[:8]}"
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp()),
        postgres=parse_database_url(f"{args.url}?schema={schema}"),
        secret_key=KEY,
    )
    runtime = open_runtime(settings, projections=[])
    try:
        _run(runtime, args)
    finally:
        runtime.close()
        if not (args.keep or args.schema):
            base = parse_database_url(args.url)
            with psycopg.connect(base.conninfo, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(f"schema: {schema}{' (kept)' if args.keep or args.schema else ' (dropped)'}")


def _run(runtime: Any, args: argparse.Namespace) -> None:
    store = runtime.store
    if (store.recorder.max_notification_id() or 0) < args.events // 2:
        started = time.perf_counter()
        written = generate(store, args.vms, args.events)
        took = time.perf_counter() - started
        print(
            f"generated {written:,} events for {args.vms:,} VMs in {took:,.1f} s "
            f"({written / took:,.0f} events/s)"
        )
    raw, decoded, total = read_rates(store)
    print(
        f"notification log: {total:,} events; raw read {raw:,.0f} rows/s; "
        f"decoded read {decoded:,.0f} events/s"
    )
    now = to_ms(START + timedelta(days=DAYS))
    for workers in (1, args.workers or default_workers()):
        started = time.perf_counter()
        result = replay_log(ReadOnlyLog(runtime.settings), now, workers=workers)
        took = time.perf_counter() - started
        rate = result.events_read / took
        records = sum(map(len, result.totals.values()))
        print(
            f"usage replay, {workers} process{'es' if workers > 1 else ''}: "
            f"{result.events_read:,} events in {took:,.1f} s = {rate:,.0f} events/s "
            f"({rate / decoded:.0%} of the decoded read rate); {records:,} records "
            f"(target {TARGET:,} events/s)"
        )
    started = time.perf_counter()
    ordered = result.records()
    print(
        f"sorting the records for output: {time.perf_counter() - started:,.1f} s "
        f"({len(ordered):,} records)"
    )


if __name__ == "__main__":
    main()
