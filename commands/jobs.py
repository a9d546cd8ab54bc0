"""Commands on async jobs: submit, start, succeed, fail; and failing jobs cut off by a restart."""

from __future__ import annotations

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


def submit_job(store: Any, command: SubmitJob) -> Outcome:
    job = Job(
        command.command,
        command.account_id,
        command.user_id,
        command.instance_type,
        command.instance_id,
        command.event_type,
        command.description,
        command.executor,
    )
    return Outcome(store.last_position(store.save(job)), job.id)


def start_job(store: Any, job_id: UUID) -> Outcome:
    return change(store, Job, job_id, Job.start, what="job")


def finish_job(store: Any, job_id: UUID, result: dict[str, Any]) -> Outcome:
    return change(store, Job, job_id, lambda job: job.succeed(result), what="job")


def fail_job(store: Any, job_id: UUID, error: BaseException) -> Outcome:
    """Record a failure; only domain errors keep their message, anything else stays internal."""
    kind = type(error).__name__ if isinstance(error, DomainError) else "InternalError"
    message = error.message if isinstance(error, DomainError) else "Internal error executing job"

    def attempt() -> Outcome:
        job = store.get(Job, job_id, what="job")
        if job.status != JobStatus.PENDING:
            return Outcome(0, job.id)
        job.fail(kind, message)
        return Outcome(store.last_position(store.save(job)), job.id)

    return store.run(attempt)


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
