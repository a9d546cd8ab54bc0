"""queryAsyncJobResult holds a poll of a pending job briefly, and answers the moment it ends."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any
from uuid import UUID

import orjson

from commands.jobs import SubmitJob, finish_job, submit_job
from stratus.settings import Settings
from tests.support.app import App, running_app


def _pending_job(app: App) -> UUID:
    with app.runtime.db.read() as cursor:
        admin = cursor.execute(
            "SELECT id, account_id FROM users WHERE username = 'admin'"
        ).fetchone()
    outcome = submit_job(
        app.runtime.store,
        SubmitJob(
            "ReconnectHostCmd",
            UUID(admin["account_id"]),
            UUID(admin["id"]),
            "Host",
            None,
            "HOST.RECONNECT",
            "Reconnecting host h1",
            executor="hypervisor",
        ),
    )
    assert outcome.id is not None and app.runtime.runner.wait_for(outcome.position, 5)
    return outcome.id


def _poll(app: App, job_id: UUID) -> tuple[dict[str, Any], float]:
    params = app.signed({"command": "queryAsyncJobResult", "jobid": str(job_id)})
    started = time.monotonic()
    answer = app.http.get("/client/api", params=params)
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    return orjson.loads(answer.content)["queryasyncjobresultresponse"], took


def _finish_later(app: App, job_id: UUID, after: float) -> threading.Thread:
    def finish() -> None:
        time.sleep(after)  # the behaviour under test: the job finishes while a poll waits
        finish_job(app.runtime.store, job_id, {"success": True})

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def test_a_job_that_ends_while_its_poll_is_held_is_answered_done(
    sqlite_settings: Settings,
) -> None:
    settings = dataclasses.replace(sqlite_settings, job_query_hold=5.0)
    with running_app(settings) as app:
        job_id = _pending_job(app)
        finisher = _finish_later(app, job_id, after=0.2)
        job, took = _poll(app, job_id)
        finisher.join()
        assert job["jobstatus"] == 1 and job["jobresult"] == {"success": True}
        assert took < 4.0, "answered when the job ended, not when the hold ran out"


def test_a_pending_job_is_answered_pending_once_the_hold_runs_out(
    sqlite_settings: Settings,
) -> None:
    for hold in (0.0, 0.3):
        settings = dataclasses.replace(sqlite_settings, job_query_hold=hold)
        with running_app(settings) as app:
            job_id = _pending_job(app)
            job, took = _poll(app, job_id)
            assert job["jobstatus"] == 0 and job["jobid"] == str(job_id)
            assert took >= hold


def test_the_runner_tells_a_waiter_when_a_read_model_moves_past_a_position(
    sqlite_settings: Settings,
) -> None:
    with running_app(sqlite_settings) as app:
        runner = app.runtime.runner
        seen = runner.known("jobs")
        assert not runner.wait_past("jobs", seen, timeout=0.2)  # nothing new
        job_id = _pending_job(app)
        assert runner.wait_past("jobs", seen, timeout=5.0)
        assert runner.known("jobs") > seen
        runner.stop()
        finish_job(app.runtime.store, job_id, {"success": True})
        assert not runner.wait_past("jobs", runner.known("jobs"), timeout=5.0)  # not running


def test_the_hold_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).job_query_hold == 0.02
    assert Settings.from_env({"STRATUS_JOB_QUERY_HOLD": "0"}).job_query_hold == 0.0
