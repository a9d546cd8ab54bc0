"""A deploy (or a start) records its job, the room it holds on a host and its request in one
commit: a database outage or a crash at any point leaves all of it or none of it, never a
pending job or held room for a VM that does not exist."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands import vms
from commands.jobs import SubmitJob, new_job, run_job
from commands.placement import Candidate
from domain.compute import resolve_compute
from domain.errors import NotFound
from domain.job import Job, JobStatus
from domain.vm import VirtualMachine, VmState
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.integration.test_vm_lifecycle import SMALL, Cloud


class DatabaseDown(Exception):
    """The database went away in the middle of a command."""


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings, projections=[])
    try:
        yield Cloud(runtime)
    finally:
        runtime.close()


def _outage_from_save(cloud: Cloud, number: int) -> Callable[[], None]:
    """From the `number`th save on, saves fail as if the database were gone; returns the cure."""
    store = cloud.store
    save = store.save
    calls = [0]

    def failing(*aggregates: Any, **options: Any) -> Any:
        calls[0] += 1
        if calls[0] >= number:
            raise DatabaseDown("the database is gone")
        return save(*aggregates, **options)

    store.save = failing

    def cure() -> None:
        del store.save

    return cure


def _deploy_as_job(cloud: Cloud, host: Candidate) -> tuple[UUID, UUID]:
    vm_id = uuid4()
    compute = resolve_compute(
        SMALL, {}, template_id=uuid4(), hypervisor="Simulator", template_disk_gb=1
    )
    job = new_job(
        SubmitJob(
            "deploy", uuid4(), uuid4(), "VirtualMachine", vm_id, "VM.CREATE", "", "hypervisor"
        )
    )
    assert job.id is not None
    command = vms.DeployVirtualMachine(
        vm_id, "web", "web", f"i-{vm_id.hex[:8]}-VM", uuid4(), uuid4(), uuid4(), "", compute,
        [host], job_id=job.id,
    )  # fmt: skip
    with contextlib.suppress(DatabaseDown):
        run_job(cloud.store, job, lambda job_id: vms.deploy_vm(cloud.store, command))
    return vm_id, job.id


def _job_status(cloud: Cloud, job_id: UUID) -> int | None:
    try:
        return int(cloud.store.get(Job, job_id).status)
    except NotFound:
        return None


def _vm(cloud: Cloud, vm_id: UUID) -> VirtualMachine | None:
    try:
        return cloud.store.get(VirtualMachine, vm_id)
    except NotFound:
        return None


@pytest.mark.parametrize("failing_save", [1, 2, 3])
def test_a_deploy_cut_off_by_an_outage_leaves_no_orphan_job_nor_held_room(
    cloud: Cloud, failing_save: int
) -> None:
    host = cloud.host("h1")
    cure = _outage_from_save(cloud, failing_save)
    vm_id, job_id = _deploy_as_job(cloud, host)
    cure()
    vm, status = _vm(cloud, vm_id), _job_status(cloud, job_id)
    if vm is None:
        assert status is None, "a job was recorded for a VM that does not exist"
        assert cloud.held(host) == (0, 0), "room is held for a VM that does not exist"
    else:
        assert vm.state == VmState.STARTING and status == JobStatus.PENDING
        assert cloud.held(host) == (500, 512)
        cloud.pump()
        assert cloud.vm(vm_id).state == VmState.RUNNING


@pytest.mark.parametrize("failing_save", [1, 2])
def test_a_start_cut_off_by_an_outage_holds_no_room_for_a_request_never_made(
    cloud: Cloud, failing_save: int
) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host])
    vms.stop_vm(cloud.store, vm_id, None, forced=False)
    cloud.pump()
    assert cloud.held(host) == (0, 0)
    cure = _outage_from_save(cloud, failing_save)
    with contextlib.suppress(DatabaseDown):
        vms.start_vm(cloud.store, vms.StartVirtualMachine(vm_id, [host]))
    cure()
    if cloud.vm(vm_id).state == VmState.STOPPED:
        assert cloud.held(host) == (0, 0), "room is held for a start that was never requested"
    else:
        assert cloud.vm(vm_id).state == VmState.STARTING
        assert cloud.held(host) == (500, 512)
