"""A job and the work it asks a hypervisor for are recorded in one commit, on both backends."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event

from commands import Outcome
from commands.jobs import SubmitJob, new_job, run_job
from domain.errors import InvalidParameter
from domain.job import Job, JobStatus
from entrypoint.installation import open_runtime
from stratus.settings import Settings


class Machine(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[str] = []

    @event("WorkRequested")
    def request(self, job_id: UUID) -> None:
        self.requests.append(str(job_id))


@pytest.fixture
def store(settings: Settings) -> Any:
    runtime = open_runtime(settings, projections=[])  # creates the schema on PostgreSQL
    runtime.db.close()
    store = runtime.store
    commits: list[int] = []
    store.commit_listeners.append(lambda notifications: commits.append(1))
    store.commits = commits  # type: ignore[attr-defined]
    yield store
    store.close()


def _job() -> Job:
    return new_job(
        SubmitJob("StartVMCmd", uuid4(), uuid4(), "VirtualMachine", None, "VM.START", "Start")
    )


def _machine(store: Any) -> UUID:
    machine = Machine("m-1")
    store.save(machine)
    store.commits.clear()
    return machine.id


def _topics(store: Any, after: int) -> list[str]:
    return [n.topic.rpartition(".")[2] for n in store.recorder.select_notifications(after + 1, 50)]


def test_the_job_is_recorded_in_the_commit_of_its_works_first_save(store: Any) -> None:
    machine_id, job = _machine(store), _job()

    def work(job_id: UUID) -> Outcome:
        machine = store.get(Machine, machine_id)
        machine.request(job_id)
        return Outcome(store.last_position(store.save(machine)), machine.id)

    outcome = run_job(store, job, work)
    assert _topics(store, 1) == ["Submitted", "WorkRequested"]
    assert store.commits == [1]
    assert outcome.id == job.id and outcome.position == store.head()
    assert store.get(Job, job.id).status == JobStatus.PENDING


def test_the_work_can_load_its_job_and_finish_it_before_it_is_recorded(store: Any) -> None:
    job = _job()

    def work(job_id: UUID) -> Outcome:
        loaded = store.get(Job, job_id)
        loaded.succeed({"success": True})
        return Outcome(store.last_position(store.save(loaded)), job_id)

    run_job(store, job, work)
    assert _topics(store, 0) == ["Submitted", "Succeeded"]
    assert store.commits == [1]
    assert store.get(Job, job.id).status == JobStatus.SUCCEEDED


def test_a_refused_work_that_saved_nothing_leaves_the_job_failed(store: Any) -> None:
    job = _job()

    def work(job_id: UUID) -> Outcome:
        raise InvalidParameter("The VM is already running")

    outcome = run_job(store, job, work)
    assert _topics(store, 0) == ["Submitted", "Failed"]
    assert store.commits == [1] and outcome.position == store.head()
    failed = store.get(Job, job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.result == {"error": "InvalidParameter", "message": "The VM is already running"}


def test_a_work_refused_after_it_saved_fails_the_job_after_that_commit(store: Any) -> None:
    machine_id, job = _machine(store), _job()

    def work(job_id: UUID) -> Outcome:
        machine = store.get(Machine, machine_id)
        machine.request(job_id)
        store.save(machine)
        raise InvalidParameter("No host has room")

    run_job(store, job, work)
    assert _topics(store, 1) == ["Submitted", "WorkRequested", "Failed"]
    assert store.commits == [1, 1]
    assert store.get(Job, job.id).status == JobStatus.FAILED


def test_a_work_that_saves_nothing_still_records_its_job(store: Any) -> None:
    job = _job()
    outcome = run_job(store, job, lambda job_id: Outcome(0, job_id))
    assert _topics(store, 0) == ["Submitted"] and outcome.position == 1


def test_a_conflicting_save_takes_the_job_along_when_it_is_retried(store: Any) -> None:
    machine_id, job = _machine(store), _job()
    tries: list[int] = []

    def work(job_id: UUID) -> Outcome:
        def attempt() -> Outcome:
            machine = store.get(Machine, machine_id)
            if not tries:  # another writer (another thread) gets there first, once
                rival = threading.Thread(target=_request_elsewhere, args=(store, machine_id))
                rival.start()
                rival.join()
            tries.append(1)
            machine.request(job_id)
            return Outcome(store.last_position(store.save(machine)), machine.id)

        return store.run(attempt)  # type: ignore[no-any-return]

    run_job(store, job, work)
    assert len(tries) == 2
    assert _topics(store, 1) == ["WorkRequested", "Submitted", "WorkRequested"]
    assert store.commits == [1, 1]
    assert store.get(Machine, machine_id).requests[-1] == str(job.id)


def _request_elsewhere(store: Any, machine_id: UUID) -> None:
    rival = store.get(Machine, machine_id)
    rival.request(uuid4())
    store.save(rival)


def test_an_unexpected_failure_of_the_work_records_nothing(store: Any) -> None:
    job = _job()

    def work(job_id: UUID) -> Outcome:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        run_job(store, job, work)
    assert store.head() == 0
