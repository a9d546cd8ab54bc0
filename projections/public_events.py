"""The public form of the listEvents entries, for consumers outside Stratus (NATS, webhooks).

Each notification of the log gives at most one entry, the same one the events read model keeps
(same id, type, level, state and description), plus what a consumer needs to act without asking
the API: the resource, the job, and the log's own sequence number, which orders the entries and
names each one uniquely.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.job import Job
from projections.events import DIRECT, KINDED, describe, direct_entry, entry_id
from stratus.store.audit import meta_of

JobLookup = Callable[[UUID], Any]

_JOB_STEPS: dict[type, tuple[str, str, str]] = {
    Job.Started: ("Started", "INFO", "Starting job"),
    Job.Succeeded: ("Completed", "INFO", "Successfully completed"),
    Job.Failed: ("Completed", "ERROR", "Error: {message}"),
}


def feed_topics() -> frozenset[str]:
    """The stored event topics that can give a public entry; the others are skipped unread."""
    classes = (*DIRECT, *KINDED, Job.Submitted, *_JOB_STEPS)
    return frozenset(get_topic(cls) for cls in classes)


def public_event(event: Any, sequence: int, job: JobLookup) -> dict[str, Any] | None:
    """The entry for one stored event at `sequence` of the log, or None when it gives none.

    `job` loads a job by id: a job's Started and Completed entries repeat the type, text,
    owner and resource of its submission.
    """
    if isinstance(event, Job.Submitted):
        return _job_entry(event, sequence, event, "Scheduled", "INFO", "")
    step = _JOB_STEPS.get(type(event))
    if step is not None:
        state, level, text = step
        suffix = ". " + text.format(message=getattr(event, "message", ""))
        return _job_entry(event, sequence, job(event.originator_id), state, level, suffix)
    found = direct_entry(event)
    meta = meta_of(event)
    if found is None or meta.get("job_id"):
        return None  # no entry, or one reported by its job's entries
    kind, text = found
    kinded = type(event) in KINDED  # one event class of several aggregates: `kind` names it
    resource_type = event.kind if kinded else type(event).__qualname__.split(".")[0]
    return _body(
        event,
        sequence,
        id=entry_id(event.originator_id, event.originator_version),
        type=kind,
        level="INFO",
        state="Completed",
        description=describe(event, text),
        resource_type=resource_type,
        resource_id=str(event.originator_id),
        account_id=meta.get("account_id"),
        user_id=meta.get("user_id"),
        job_id=None,
        parent_id=None,
    )


def _job_entry(
    event: Any, sequence: int, job: Any, state: str, level: str, suffix: str
) -> dict[str, Any]:
    scheduled = entry_id(event.originator_id, "scheduled")
    return _body(
        event,
        sequence,
        id=scheduled if state == "Scheduled" else entry_id(event.originator_id, state),
        type=job.event_type,
        level=level,
        state=state,
        description=job.description + suffix,
        resource_type=job.instance_type or None,
        resource_id=str(job.instance_id) if job.instance_id else None,
        account_id=str(job.account_id),
        user_id=str(job.user_id),
        job_id=str(event.originator_id),
        parent_id=None if state == "Scheduled" else scheduled,
    )


def _body(event: Any, sequence: int, **fields: Any) -> dict[str, Any]:
    meta = meta_of(event)
    return {
        "sequence": sequence,
        **fields,
        "domain_id": meta.get("domain_id"),
        "created": event.timestamp.isoformat(),
    }
