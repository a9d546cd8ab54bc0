"""The stuck-job sweeper (relay role): hypervisor work no adapter is answering is given up on.

An adapter that died, or a kind with no adapter running, leaves its requests unanswered and
their jobs (or template downloads) pending forever. Each pass hands every hypervisor job older
than the timeout, whose request went where the adapters have been silent for as long, to a
command that fails its request in flight the way a failed result would, so the resource returns
to a defined state and gives back what it held. The silence is measured by the heartbeats: an
adapter reports the hosts it works for alive, busy ones too, so work queued behind a slow host
or being done on it is never taken for lost; the clock of a host no adapter reports (its
adapter died) runs from the last heartbeat that named it, or from this process's start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from stratus.store.audit import acting

log = logging.getLogger(__name__)


class StuckJobSweeper:
    """Fails hypervisor jobs that waited longer than `timeout` seconds for an adapter."""

    def __init__(
        self,
        pending: Callable[[], list[UUID]],
        stuck: Callable[[list[UUID], datetime], list[UUID]],
        fail: Callable[[UUID], int],
        *,
        timeout: float,
        wake: Callable[[], None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        downloads: Callable[[datetime], int] = lambda cutoff: 0,
    ) -> None:
        self.pending, self.stuck, self.fail = pending, stuck, fail
        self.timeout, self.wake, self.now = timeout, wake, now
        self.downloads = downloads

    def sweep(self) -> int:
        """One pass (blocking); returns how many jobs and downloads it failed."""
        cutoff = self.now() - timedelta(seconds=self.timeout)
        failed = 0
        for job_id in self.stuck(self.pending(), cutoff):
            with acting(command="stuck-job-sweeper", job_id=str(job_id)):
                position = self.fail(job_id)
            if position:
                failed += 1
                log.warning("job %s: no adapter answered in %gs; failed", job_id, self.timeout)
        with acting(command="stuck-job-sweeper"):
            failed += self.downloads(cutoff)
        if failed:
            self.wake()
        return failed

    @property
    def interval(self) -> float:
        """Often enough to fail a job soon after its deadline, never busily."""
        return min(max(self.timeout / 4, 0.2), 30.0)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:  # a process boundary: keep sweeping
                log.exception("stuck-job sweep failed")
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                continue


class Liveness(Protocol):
    """What the heartbeats tell (`stratus.results.HeartbeatMonitor`)."""

    def silence(self, host_id: str | None, kind: str) -> float: ...


def make_sweeper(runtime: Any, liveness: Liveness | None = None) -> StuckJobSweeper:
    """The sweeper over the runtime's store and read models, with every result handler; with
    no `liveness` every host counts as silent (the clock runs from a job's submission)."""
    from commands.outbox import routes
    from commands.results import result_handlers
    from commands.stuck_jobs import always_quiet, fail_stuck_job, stuck_hypervisor_jobs, timed_out
    from commands.templates import give_up_downloads
    from commands.volume_uploads import give_up_uploads
    from projections.jobs import pending_job_ids
    from projections.templates import downloads_in_flight
    from projections.volumes import uploads_in_flight

    settings = runtime.settings
    store, timeout = runtime.store, settings.hypervisor_job_timeout
    handlers = result_handlers()
    sent = routes(store.box, settings.bus_prefix)  # what each request event was sent as
    quiet = always_quiet if liveness is None else _quiet(liveness, settings)

    def pending() -> list[UUID]:
        with runtime.db.read() as cursor:
            return [UUID(i) for i in pending_job_ids(cursor)]

    def downloads(cutoff: datetime) -> int:
        with runtime.db.read() as cursor:
            waiting = downloads_in_flight(cursor, cutoff)
            uploads = uploads_in_flight(cursor, cutoff)
        reason = timed_out(timeout)
        failed = give_up_downloads(store, waiting, quiet, reason)
        return failed + give_up_uploads(store, uploads, quiet, reason)

    return StuckJobSweeper(
        pending,
        lambda job_ids, cutoff: stuck_hypervisor_jobs(store, sent, job_ids, cutoff, quiet),
        lambda job_id: fail_stuck_job(store, sent, job_id, timed_out(timeout), handlers),
        timeout=timeout,
        wake=runtime.runner.wake,
        downloads=downloads,
    )


def _quiet(liveness: Liveness, settings: Any) -> Callable[[UUID | None, str], bool]:
    """Silent for the timeout, and at least as long as a host takes to count as Disconnected:
    heartbeats come only every `STRATUS_HEARTBEAT_INTERVAL`, which may be longer than the
    timeout."""
    limit = max(settings.hypervisor_job_timeout, settings.heartbeat_timeout)

    def quiet(host_id: UUID | None, kind: str) -> bool:
        return liveness.silence(str(host_id) if host_id else None, kind) > limit

    return quiet
