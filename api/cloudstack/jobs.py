"""Async jobs: running management-side jobs, queryAsyncJobResult and listAsyncJobs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

import domain.errors as domain_errors
from api.access import check_reach, list_scope
from api.catalogue import renderers
from api.cloudstack.common import OWNER_PARAMS, limit_sql, resolve_owner_filters
from api.cloudstack.vm_passwords import with_password
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_date
from api.errors import error_code
from api.owners import with_projects
from api.params import Param, ParamType
from api.tagging import with_tags
from commands import Outcome
from commands.jobs import SubmitJob, fail_job, finish_job, new_job, run_job, start_job, submit_job
from domain.job import Job, JobStatus
from projections.jobs import JobsProjection, get_job, owner_domain_path

log = logging.getLogger(__name__)

JOBS = JobsProjection.name


def executor(call: Call) -> ThreadPoolExecutor:
    return call.services.jobs


def run_async(
    call: Call,
    *,
    instance_type: str,
    instance_id: UUID | None,
    event_type: str,
    description: str,
    work: Callable[[], dict[str, Any]],
    creates: bool = False,
) -> Submitted:
    """Submit a job, answer at once, and do `work` in the background as the same caller.

    Create-style commands (`creates`) also answer with the id of what they create.
    """
    with call.acting():
        outcome = submit_job(
            call.store, _job_of(call, instance_type, instance_id, event_type, description)
        )
    job_id = outcome.id
    assert job_id is not None
    call.accepted(outcome.position)
    executor(call).submit(_execute, call, job_id, work)
    return Submitted(str(job_id), str(instance_id) if creates and instance_id else None)


def adapter_job(
    call: Call, instance_type: str, instance_id: UUID, event_type: str, description: str
) -> UUID:
    """Submit the job of a synchronous command whose work an adapter's result finishes (see
    `await_job`), as this call's command, by its caller."""
    job = _job_of(call, instance_type, instance_id, event_type, description, "hypervisor")
    with call.acting():
        outcome = submit_job(call.store, job)
    assert outcome.id is not None
    return outcome.id


def await_job(call: Call, job_id: str, object_id: str, wait: float) -> None:
    """Wait (bounded) for a job an adapter's result finishes, for the synchronous commands
    4.3 answers only once the device did (addHost, addVmwareDc); its failure is raised."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        call.runtime.runner.wake()
        with call.read() as cursor:
            job = get_job(cursor, job_id)
        if job and job["status"] == 2:
            call.settle(call.store.head(), object_id)
            raise domain_errors.ResourceUnavailable(job["result"]["message"])
        if job and job["status"] == 1:
            call.settle(call.store.head(), object_id)
            return
        time.sleep(0.02)


def hypervisor_job(
    call: Call,
    instance_type: str,
    instance_id: UUID | None,
    event_type: str,
    description: str,
    work: Callable[[UUID], Outcome],
) -> UUID:
    """Submit a job that an adapter's result finishes, with `work`, the command that asks for
    it, in the same commit; a domain error of `work` fails the job at once (CloudStack reports
    errors of the command itself that way). Answers once the read models show both."""
    job = new_job(
        _job_of(call, instance_type, instance_id, event_type, description, runner="hypervisor")
    )
    assert job.id is not None
    with call.acting(job_id=str(job.id)):
        outcome = run_job(call.store, job, work)
    call.accepted(outcome.position)
    return job.id


def _job_of(
    call: Call,
    instance_type: str,
    instance_id: UUID | None,
    event_type: str,
    description: str,
    runner: str = "management",
) -> SubmitJob:
    """The job of this call's command, submitted by its caller."""
    return SubmitJob(
        call.command.java_class or call.command.name,
        UUID(call.caller.account_id),
        UUID(call.caller.user_id),
        instance_type,
        instance_id,
        event_type,
        description,
        runner,
    )


def _execute(call: Call, job_id: UUID, work: Callable[[], dict[str, Any]]) -> None:
    with call.acting(job_id=str(job_id)):
        try:
            start_job(call.store, job_id)
            result = work()
            finish_job(call.store, job_id, result)
        except Exception as error:  # the job's boundary: every failure ends up in its result
            if not isinstance(error, domain_errors.DomainError):
                log.exception("job %s failed", job_id)
            fail_job(call.store, job_id, error)
    call.runtime.runner.wake()


def _job_result(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    result = row["result"]
    if row["status"] == 0 or result is None:
        return {}
    if row["status"] == 2:
        error_class = getattr(domain_errors, result.get("error", ""), domain_errors.DomainError)
        if not (isinstance(error_class, type) and issubclass(error_class, Exception)):
            error_class = domain_errors.DomainError
        code = error_code(error_class(result.get("message", "")))
        return {
            "jobresultcode": 530,
            "jobresulttype": "object",
            "jobresult": {"errorcode": code.status, "errortext": result.get("message", "")},
        }
    # `kind` names the renderer when the object is answered under another's key (an extract
    # under `template`); such an object carries no tags of its own.
    kind = result.get("kind") or result.get("object", "")
    render = renderers().get(kind)
    if render is not None:
        try:
            item = render(call, result["id"])
        except domain_errors.NotFound:
            # What the job made is gone since (deleted, or gone with an expunged VM): the job
            # still succeeded, and its answer still names what it made.
            item = {"id": result["id"]}
        else:
            if kind == result["object"]:
                tagged = [item]
                with_tags(call, result["object"], tagged)
                with_projects(call, tagged)
                item = tagged[0]
        if result["object"] == "virtualmachine":
            item = with_password(call, row, item)
        return {
            "jobresultcode": 0,
            "jobresulttype": "object",
            "jobresult": {result["object"]: item},
        }
    return {"jobresultcode": 0, "jobresulttype": "object", "jobresult": {"success": True}}


def render_job(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accountid": row["account_id"],
        "userid": row["user_id"],
        "cmd": row["command"],
        "jobstatus": int(row["status"]),
        "jobprocstatus": 0,
        "jobresultcode": 0,
    }
    body.update(_job_result(call, row))
    if row["instance_type"]:
        body["jobinstancetype"] = row["instance_type"]
    if row["instance_id"]:
        body["jobinstanceid"] = row["instance_id"]
    body["created"] = format_date(datetime.fromisoformat(row["created"]))
    body["jobid"] = row["id"]
    return body


def query_async_job_result(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """The job as it is; a pending one is held briefly (`STRATUS_JOB_QUERY_HOLD`, 20 ms) in
    case it finishes meanwhile, so a client polling hard learns of the end as it happens
    instead of at its next poll, and asks less often."""
    runner = call.runtime.runner
    deadline = time.monotonic() + call.runtime.settings.job_query_hold
    seen = runner.known(JOBS)
    with call.read() as cursor:
        row = get_job(cursor, args["jobid"]) or _logged_job(call, str(args["jobid"]))
    if row is None:
        raise domain_errors.NotFound(f"Unable to find job by id {args['jobid']}")
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path_of_owner"] or "/",
        what="the job",
    )
    while row["status"] == JobStatus.PENDING:
        if not runner.wait_past(JOBS, seen, deadline - time.monotonic()):
            break
        seen = runner.known(JOBS)
        with call.read() as cursor:
            row = get_job(cursor, args["jobid"]) or row
    return render_job(call, row)


def _logged_job(call: Call, job_id: str) -> dict[str, Any] | None:
    """A job the log holds but the jobs read model does not show yet, as a pending job.

    Its command answered with its id before the read models caught up (`Call.accepted`), so
    the client may poll it first; it is pending to the client until the read model shows it.
    """
    try:
        job = call.store.get(Job, UUID(job_id), what="job")
    except domain_errors.NotFound:
        return None
    with call.read() as cursor:
        owner = owner_domain_path(cursor, str(job.account_id))
    return {
        "id": job_id,
        "account_id": str(job.account_id),
        "user_id": str(job.user_id),
        "command": job.command,
        "status": JobStatus.PENDING,
        "result": None,
        "instance_type": job.instance_type,
        "instance_id": str(job.instance_id) if job.instance_id else None,
        "created": job.created_on.isoformat(),
        "domain_path_of_owner": owner,
    }


def list_async_jobs(call: Call, args: dict[str, Any]) -> Listing:
    owner = resolve_owner_filters(call, args)
    scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
    where, params = [scope.clause], list(scope.params)
    if args.get("startdate"):
        where.append("j.created >= %s")
        params.append(args["startdate"].isoformat())
    sql = " FROM jobs AS j JOIN accounts AS a ON a.id = j.account_id WHERE " + " AND ".join(where)
    paging = args["paging"]
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT j.*, a.domain_path AS domain_path_of_owner"
            + sql
            + " ORDER BY j.created, j.id"
            + limit_sql(paging),
            params,
        ).fetchall()
    return Listing([render_job(call, dict(r, result=_loads(r["result"]))) for r in rows], count)


def _loads(text: str | None) -> Any:
    return orjson.loads(text) if text else None


COMMANDS = (
    ApiCommand(
        "queryAsyncJobResult",
        query_async_job_result,
        (Param("jobid", ParamType.UUID, required=True),),
        shape="flat",
        description="Retrieves the current status of an asynchronous job",
    ),
    ApiCommand(
        "listAsyncJobs",
        list_async_jobs,
        (*OWNER_PARAMS, Param("startdate", ParamType.TZDATE)),
        shape="list",
        item_key="asyncjobs",
        description="Lists all pending asynchronous jobs for the account",
    ),
)
