"""Commands on async jobs: submit, start, succeed, fail; and failing jobs cut off by a restart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome, change
from domain.errors import DomainError
from domain.job import Job, JobStatus

INTERRUPTED = "The job was interrupted by a restart of the management server"


@dataclass(frozen=True)
class SubmitJob:
    command: str
    account_id: UUID
    user_id: UUID
    instance_type: str
    instance_id: UUID | None
    event_type: str
    description: str
    executor: str = "management"


def new_job(command: SubmitJob) -> Job:
    """The job, not recorded yet: `submit_job` records it alone, `run_job` with its work."""
    return Job(
        command.command,
        command.account_id,
        command.user_id,
        command.instance_type,
        command.instance_id,
        command.event_type,
        command.description,
        command.executor,
    )


def submit_job(store: Any, command: SubmitJob) -> Outcome:
    job = new_job(command)
    return Outcome(store.last_position(store.save(job)), job.id)


def run_job(store: Any, job: Job, work: Callable[[UUID], Outcome]) -> Outcome:
    """Submit `job` and run the command that asks a hypervisor for its work.

    The job is recorded in the transaction of the work's first save, so the two are one
    commit. A domain error of the work fails the job; a job whose work saved nothing (or
    failed before saving) is recorded on its own, with that failure.
    """
    assert job.id is not None
    with store.alongside(job) as rider:
        try:
            position = work(job.id).position
        except DomainError as error:
            if rider.saved:
                return fail_job(store, job.id, error)
            job.fail(*_failure(error))
            position = 0
        if not rider.saved:
            position = max(position, store.last_position(store.save(job)))
    return Outcome(position, job.id)


def start_job(store: Any, job_id: UUID) -> Outcome:
    return change(store, Job, job_id, Job.start, what="job")


def finish_job(store: Any, job_id: UUID, result: dict[str, Any]) -> Outcome:
    return change(store, Job, job_id, lambda job: job.succeed(result), what="job")


def fail_job(store: Any, job_id: UUID, error: BaseException) -> Outcome:
    """Record a failure; only domain errors keep their message, anything else stays internal."""

    def attempt() -> Outcome:
        job = store.get(Job, job_id, what="job")
        if job.status != JobStatus.PENDING:
            return Outcome(0, job.id)
        job.fail(*_failure(error))
        return Outcome(store.last_position(store.save(job)), job.id)

    return store.run(attempt)


def _failure(error: BaseException) -> tuple[str, str]:
    if isinstance(error, DomainError):
        return type(error).__name__, error.message
    return "InternalError", "Internal error executing job"


def fail_interrupted(store: Any, job_ids: list[UUID]) -> int:
    """Fail management jobs left pending by a process that stopped; returns how many."""
    failed = 0
    for job_id in job_ids:
        job = store.get(Job, job_id, what="job")
        if job.status == JobStatus.PENDING and job.executor == "management":
            job.fail("ResourceUnavailable", INTERRUPTED)
            store.save(job)
            failed += 1
    return failed
