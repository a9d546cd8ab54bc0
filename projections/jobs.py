"""The async jobs read model behind queryAsyncJobResult and listAsyncJobs."""

from __future__ import annotations

from typing import Any

import orjson

from domain.job import Job, JobStatus
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on


class JobsProjection(Projection):
    """One row per job: who submitted it, on what, its status and its result."""

    name = "jobs"
    summary = "asynchronous jobs and their results"
    tables = ("jobs",)

    @on(Job.Submitted)
    def submitted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.jobs} (id, account_id, user_id, command, status, instance_type, "
            "instance_id, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                str(e.account_id),
                str(e.user_id),
                e.command,
                JobStatus.PENDING,
                e.instance_type,
                str(e.instance_id) if e.instance_id else None,
                e.timestamp.isoformat(),
            ),
        )

    @on(Job.Succeeded)
    def succeeded(self, e: Any, c: Cursor, t: Tables) -> None:
        self._finish(c, t, e, JobStatus.SUCCEEDED, e.result)

    @on(Job.Failed)
    def failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._finish(c, t, e, JobStatus.FAILED, {"error": e.error, "message": e.message})

    def _finish(self, c: Cursor, t: Tables, e: Any, status: int, result: Any) -> None:
        c.execute(
            f"UPDATE {t.jobs} SET status = %s, result = %s, completed = %s WHERE id = %s",
            (status, orjson.dumps(result).decode(), e.timestamp.isoformat(), str(e.originator_id)),
        )


def get_job(cursor: Cursor, job_id: str) -> dict[str, Any] | None:
    row = cursor.execute(
        "SELECT j.*, a.domain_path AS domain_path_of_owner FROM jobs AS j "
        "LEFT JOIN accounts AS a ON a.id = j.account_id WHERE j.id = %s",
        (job_id,),
    ).fetchone()
    return _decoded(row) if row else None


def owner_domain_path(cursor: Cursor, account_id: str) -> str | None:
    """The domain path of a job's owning account (what get_job joins in), None if unknown."""
    row = cursor.execute("SELECT domain_path FROM accounts WHERE id = %s", (account_id,)).fetchone()
    return row["domain_path"] if row else None


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["result"] = orjson.loads(row["result"]) if row.get("result") else None
    return row


def pending_job_ids(cursor: Cursor) -> list[str]:
    rows = cursor.execute("SELECT id FROM jobs WHERE status = %s", (JobStatus.PENDING,)).fetchall()
    return [row["id"] for row in rows]


READ_MODELS = (JobsProjection,)
