"""Replaying usage on several processes at once, each over one partition of the resources.

Usage is a fold per resource, so the resources can be split: partition k of n holds the
resources whose id ends in a hex digit equal to k modulo n. A worker process reads, from its
own read-only connection, the events whose topic touches only the event's own resource
(`domain.usage.BY_ORIGINATOR`: a VM's starts, stops and scales, the bulk of any log) for the
originators of its partition, and every other usage event (deploys, volumes, readings, names),
whose extractors may need another resource's identity; its ledger then keeps only the usage of
its own resources. The partitions' totals are disjoint (a total's head names its resource), so
the whole is their union: the same records, in the same order, as one process would make.

A log too small to repay starting processes is replayed in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from billing.decode import MAX_PARTITIONS, FactReader, Partition
from billing.replay import Progress, Replay, no_cycle_collection, replay, usage_calendar
from domain.usage_periods import PeriodIndex
from stratus.db import Cursor
from stratus.settings import Settings

# Below this many events a replay stays in one process: starting one costs about a second.
EVENTS_PER_WORKER = 200_000
_POLL_SECONDS = 0.2
_LAST_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class ReadOnlyLog:
    """Opens the store read-only, in whichever process calls it (it crosses to workers)."""

    settings: Settings

    @property
    def dialect(self) -> str:
        return "sqlite" if self.settings.postgres is None else "postgres"

    @contextmanager
    def __call__(self) -> Iterator[Cursor]:
        from stratus.store.readonly import open_readonly

        with open_readonly(self.settings) as source, source.cursor() as cursor:
            yield cursor


class ReplayFailed(RuntimeError):
    pass


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_PARTITIONS))


def replay_log(
    log: ReadOnlyLog,
    now: int,
    *,
    until: int | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Replay:
    """`billing.replay.replay` of the whole log, on up to `workers` processes (None: one
    per CPU, as the log's size repays; a number: exactly that many)."""
    with log() as cursor:
        head = until if until is not None else FactReader(log.dialect).head(cursor)
        calendar = usage_calendar(cursor, log.dialect, head)
    count = workers if workers is not None else min(default_workers(), head // EVENTS_PER_WORKER)
    count = max(1, min(count, MAX_PARTITIONS))
    if count == 1:
        return replay(log, log.dialect, now, until=head, progress=progress)
    parts = _run(log, now, head, count, progress)
    with no_cycle_collection():
        return _merge(Replay(calendar, now), parts)


def _run(
    log: ReadOnlyLog, now: int, head: int, count: int, progress: Progress | None
) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")  # this process may hold threads and a pool
    reached = context.Array("q", 2 * count, lock=False)  # position and events read, per worker
    results: Any = context.Queue()
    workers = [
        context.Process(
            target=_work,
            args=(log, now, head, Partition(k, count), reached, results),
            name=f"usage-replay-{k}",
            daemon=True,
        )
        for k in range(count)
    ]
    for worker in workers:
        worker.start()
    try:
        return _collect(workers, results, reached, head, progress)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()


def _collect(
    workers: list[Any], results: Any, reached: Any, head: int, progress: Progress | None
) -> list[dict[str, Any]]:
    parts: dict[int, dict[str, Any]] = {}
    while len(parts) < len(workers):
        gone = [w.name for k, w in enumerate(workers) if k not in parts and not w.is_alive()]
        try:  # a worker that has exited may still have its result in the pipe: one last wait
            index, outcome = results.get(timeout=_LAST_WAIT_SECONDS if gone else _POLL_SECONDS)
        except queue.Empty:
            if gone:
                raise ReplayFailed(f"{gone[0]} stopped without a result") from None
        else:
            if isinstance(outcome, str):
                raise ReplayFailed(f"usage replay worker {index} failed:\n{outcome}")
            parts[index] = outcome
        if progress is not None:
            positions = reached[0::2]
            progress(min(positions), head, sum(reached[1::2]))
    return [parts[k] for k in range(len(workers))]


def _work(
    log: ReadOnlyLog, now: int, head: int, partition: Partition, reached: Any, results: Any
) -> None:
    """One partition's replay, in a worker process; its totals (or the failure) to `results`."""

    def report(position: int, _: int, read: int) -> None:
        reached[2 * partition.index], reached[2 * partition.index + 1] = position, read

    try:
        part = replay(log, log.dialect, now, until=head, progress=report, partition=partition)
        outcome: Any = {
            "totals": part.totals,
            "origin": None if part.index is None else part.index.origin,
            "events_read": part.events_read,
            "labels": part.ledger.labels,
        }
    except BaseException:  # the parent reports it; a worker has no one else to tell
        outcome = traceback.format_exc()
    results.put((partition.index, outcome))


def _merge(result: Replay, parts: list[dict[str, Any]]) -> Replay:
    origins = [part["origin"] for part in parts if part["origin"] is not None]
    if origins:
        result.index = PeriodIndex(result.calendar, min(origins), result.now)
    for part in parts:
        result.totals.update(part["totals"])  # disjoint: each head names its own resource
        result.events_read += part["events_read"]
    result.ledger.labels = parts[0]["labels"]
    return result
