"""The answer to an aggregate's request in flight (`request_id`, `job_id`, `is_current`): a
stale or repeated result changes nothing; the current one is applied and finishes its job in
the same save."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.job import Job
from stratus.messages import WorkResult


def settle_request(
    store: Any,
    kind: type,
    result: WorkResult,
    settle: Callable[[Any], list[Any]],
    job_result: Callable[[Any], dict[str, Any]],
) -> Outcome:
    """`settle` applies the result to the aggregate and answers what else to save with it;
    `job_result` is what the job's success names."""

    def attempt() -> Outcome:
        aggregate = store.get(kind, UUID(result.target_id))
        if not aggregate.is_current(result.request_id):
            return Outcome(0, aggregate.id)
        job = store.get(Job, aggregate.job_id) if aggregate.job_id else None
        saved = [aggregate, *settle(aggregate)]
        if job is not None and job.status == 0:
            if result.ok:
                job.succeed(job_result(aggregate))
            else:
                job.fail("ResourceUnavailable", result.error or "the adapter did not answer")
            saved.append(job)
        return Outcome(store.last_position(store.save(*saved)), aggregate.id)

    outcome: Outcome = store.run(attempt)
    return outcome
