"""Snapshot commands through the real path (event, route, simulator adapter, result handler):
results count once, unanswered requests fail through the sweeper, and an expunged VM takes its
VM snapshots with it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from commands import snapshots, vm_snapshots, vms
from commands.jobs import SubmitJob, submit_job
from commands.outbox import routes
from commands.results import result_handlers
from domain.job import Job, JobStatus
from domain.snapshot import Snapshot, SnapshotState
from domain.vm_snapshot import VMSnapshot, VmSnapshotChain, VmSnapshotState, chain_id
from domain.volume import root_volume_id
from entrypoint.installation import open_runtime
from entrypoint.sweeper import make_sweeper
from stratus.messages import WorkResult, decode_request
from stratus.settings import Settings
from tests.integration.test_vm_lifecycle import Cloud

TIMEOUT = 5.0


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(replace(settings, hypervisor_job_timeout=TIMEOUT), projections=[])
    try:
        yield Cloud(runtime)
    finally:
        runtime.close()


def _job(cloud: Cloud, kind: str, target: UUID) -> UUID:
    outcome = submit_job(
        cloud.store, SubmitJob("cmd", uuid4(), uuid4(), kind, target, "SNAP", "", "hypervisor")
    )
    assert outcome.id is not None
    return outcome.id


def _vm_snapshot(cloud: Cloud, vm_id: UUID, name: str, **extra: object) -> tuple[UUID, UUID]:
    snapshot_id = uuid4()
    job_id = _job(cloud, "VMSnapshot", snapshot_id)
    command = vm_snapshots.CreateVmSnapshot(
        snapshot_id, vm_id, f"i-x_VS_{name}", name, "", False, [root_volume_id(vm_id)], job_id
    )
    vm_snapshots.create_vm_snapshot(cloud.store, replace(command, **extra))
    return snapshot_id, job_id


def _instance(cloud: Cloud, vm_id: UUID) -> str:
    return str(cloud.vm(vm_id).instance_name)


def test_a_vm_snapshot_is_taken_on_the_host_and_a_repeated_result_changes_nothing(
    cloud: Cloud,
) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host])
    snapshot_id, job_id = _vm_snapshot(cloud, vm_id, "one")
    request = cloud.store.get(VMSnapshot, snapshot_id).request_id
    cloud.pump()

    done = cloud.store.get(VMSnapshot, snapshot_id)
    assert (done.state, cloud.job_status(job_id)) == (VmSnapshotState.READY, JobStatus.SUCCEEDED)
    assert cloud.world.hosts["h1"].vms[_instance(cloud, vm_id)].snapshots.keys() == {done.name}
    assert cloud.store.get(VmSnapshotChain, chain_id(vm_id)).current == snapshot_id
    stale = replace(_result_of(cloud, request, snapshot_id), ok=False, error="late")
    assert vm_snapshots.on_vm_snapshot_result(cloud.store, stale).position == 0
    assert cloud.store.get(VMSnapshot, snapshot_id).state == VmSnapshotState.READY


def _result_of(cloud: Cloud, request_id: str | None, target: UUID) -> WorkResult:
    assert request_id is not None
    return WorkResult(request_id, "simulator", "create_vm_snapshot", str(target), ok=True)


def test_an_unanswered_vm_snapshot_fails_through_the_sweeper_and_frees_the_vm(
    cloud: Cloud,
) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host])
    snapshot_id, job_id = _vm_snapshot(cloud, vm_id, "lost")  # no pump: no adapter answers
    sweeper = make_sweeper(cloud.runtime)
    sweeper.pending = lambda: [job_id]
    sweeper.now = lambda: datetime.now(UTC) + timedelta(seconds=TIMEOUT * 2)

    assert sweeper.sweep() == 1

    assert cloud.store.get(VMSnapshot, snapshot_id).state == VmSnapshotState.ERROR
    job = cloud.store.get(Job, job_id)
    assert job.status == JobStatus.FAILED
    assert "no hypervisor adapter answered" in job.result["message"]
    assert cloud.store.get(VmSnapshotChain, chain_id(vm_id)).busy is None


def test_an_expunged_vm_takes_its_vm_snapshots_but_not_its_volume_snapshots(
    cloud: Cloud,
) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host])
    vm_snapshot_id, _ = _vm_snapshot(cloud, vm_id, "one")
    volume_snapshot_id = uuid4()
    snapshots.create_snapshot(
        cloud.store, snapshots.CreateSnapshot(volume_snapshot_id, root_volume_id(vm_id), "copy")
    )
    cloud.pump()
    assert cloud.world.acted["create_snapshot"] == 2  # the VM snapshot, and the volume's copy
    assert cloud.world.acted["delete_snapshot"] == 1  # the copy's snapshot left the host

    vms.destroy_vm(cloud.store, vm_id, None, expunge=True)
    cloud.pump()

    assert cloud.store.get(VMSnapshot, vm_snapshot_id).removed
    assert cloud.store.get(VmSnapshotChain, chain_id(vm_id)).members == {}
    kept = cloud.store.get(Snapshot, volume_snapshot_id)
    assert (kept.state, kept.removed) == (SnapshotState.BACKED_UP, False)
    assert _instance(cloud, vm_id) not in cloud.world.hosts["h1"].vms


def test_every_snapshot_request_is_routed_to_the_vm_host(cloud: Cloud) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host])
    snapshot_id, _ = _vm_snapshot(cloud, vm_id, "routed")
    table = routes(cloud.store.box)
    events = [
        cloud.store.mapper.to_domain_event(n)
        for n in cloud.store.recorder.select_notifications(0, 1000)
        if n.topic in table and n.originator_id == snapshot_id
    ]
    (outgoing,) = [table[get_topic(type(e))](e) for e in events]
    assert outgoing is not None
    request = decode_request(outgoing.payload)
    assert (request.action, request.params["name"]) == (
        "create_vm_snapshot",
        _instance(cloud, vm_id),
    )
    assert request.params["host_id"] == str(host.host_id)
    assert result_handlers()[request.action] is vm_snapshots.on_vm_snapshot_result
