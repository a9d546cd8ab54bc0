"""The stuck-job sweeper (relay role): hypervisor jobs pending past the timeout are failed.

An adapter that died, or a kind with no adapter running, leaves its requests unanswered and
their jobs pending forever. Each pass looks at the pending jobs and hands every hypervisor job
older than the timeout to a command that fails its request in flight the way a failed result
would, so the resource returns to a defined state and gives back what it held.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
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
    ) -> None:
        self.pending, self.stuck, self.fail = pending, stuck, fail
        self.timeout, self.wake, self.now = timeout, wake, now

    def sweep(self) -> int:
        """One pass (blocking); returns how many jobs it failed."""
        cutoff = self.now() - timedelta(seconds=self.timeout)
        failed = 0
        for job_id in self.stuck(self.pending(), cutoff):
            with acting(command="stuck-job-sweeper", job_id=str(job_id)):
                position = self.fail(job_id)
            if position:
                failed += 1
                log.warning("job %s: no adapter answered in %gs; failed", job_id, self.timeout)
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


def make_sweeper(runtime: Any) -> StuckJobSweeper:
    """The sweeper over the runtime's store and jobs read model, with every result handler."""
    from commands.results import result_handlers
    from commands.stuck_jobs import fail_stuck_job, stuck_hypervisor_jobs, timed_out
    from projections.jobs import pending_job_ids

    store, timeout = runtime.store, runtime.settings.hypervisor_job_timeout
    handlers = result_handlers()

    def pending() -> list[UUID]:
        with runtime.db.read() as cursor:
            return [UUID(i) for i in pending_job_ids(cursor)]

    return StuckJobSweeper(
        pending,
        lambda job_ids, cutoff: stuck_hypervisor_jobs(store, job_ids, cutoff),
        lambda job_id: fail_stuck_job(store, job_id, timed_out(timeout), handlers),
        timeout=timeout,
        wake=runtime.runner.wake,
    )
