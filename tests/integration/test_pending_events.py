"""listEvents with `duration` and `entrytime`: the jobs started within the window that never
completed, as 4.3 lists events left pending; a finished job's entries are not among them."""

from __future__ import annotations

from uuid import UUID

import orjson

from commands.jobs import SubmitJob, finish_job, start_job, submit_job
from stratus.settings import Settings
from tests.support.app import App, running_app


def _events(app: App, **params: str) -> tuple[int, dict]:
    answer = app.http.get(
        "/client/api", params=app.signed({"command": "listEvents", "listall": "true", **params})
    )
    (body,) = orjson.loads(answer.content).values()
    return answer.status_code, body


def _started_job(app: App, event_type: str) -> UUID:
    with app.runtime.db.read() as cursor:
        user = cursor.execute("SELECT * FROM users WHERE username = 'admin'").fetchone()
    command = SubmitJob(
        "test", UUID(user["account_id"]), UUID(user["id"]), "", None, event_type, event_type
    )
    job_id = submit_job(app.runtime.store, command).id
    assert job_id is not None
    start_job(app.runtime.store, job_id)
    return job_id


def test_pending_events_are_the_started_jobs_that_never_completed(settings: Settings) -> None:
    with running_app(settings) as app:
        _started_job(app, "VM.START")
        finished = _started_job(app, "VM.STOP")
        finish_job(app.runtime.store, finished, {})
        app.runtime.runner.catch_up()

        status, body = _events(app, duration="0", entrytime="3600")
        assert status == 200, body
        assert [(e["type"], e["state"]) for e in body["event"]] == [("VM.START", "Started")]
        # Started less than a minute ago: not pending for a minute yet.
        assert _events(app, duration="60", entrytime="3600")[1] == {}
        everything = _events(app)[1]["event"]
        assert {("VM.STOP", "Completed"), ("VM.START", "Scheduled")} <= {
            (e["type"], e["state"]) for e in everything
        }


def test_duration_and_entry_time_go_together_the_entry_time_further_back(
    settings: Settings,
) -> None:
    with running_app(settings) as app:
        for params in (
            {"duration": "10"},
            {"entrytime": "10"},
            {"duration": "10", "entrytime": "10"},
        ):
            status, body = _events(app, **params)
            assert status == 431, body
