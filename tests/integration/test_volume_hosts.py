"""Disk work through the real path with the simulator as the host: command → event → outbox route
→ adapter session → simulator → result handler. The simulated host is looked at directly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from uuid import UUID, uuid4

import pytest

from commands import vms, volume_work
from commands.jobs import SubmitJob, submit_job
from commands.volumes import AttachVolume, CreateVolume, create_volume
from domain.compute import resolve_compute
from domain.job import Job, JobStatus
from domain.volume import DeviceSlots, Volume, device_slots_id
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.integration.test_stuck_jobs import TIMEOUT, _sweeper
from tests.integration.test_vm_lifecycle import SMALL, Cloud


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(replace(settings, hypervisor_job_timeout=TIMEOUT), projections=[])
    try:
        yield Cloud(runtime)
    finally:
        runtime.close()


def _volume(cloud: Cloud, vm_id: UUID, size_gb: int = 10) -> UUID:
    vm = cloud.vm(vm_id)
    volume_id = uuid4()
    create_volume(
        cloud.store,
        CreateVolume(volume_id, "data", vm.account_id, vm.domain_id, vm.zone_id, size_gb, uuid4()),
    )
    return volume_id


def _job(cloud: Cloud, volume_id: UUID) -> UUID:
    outcome = submit_job(
        cloud.store,
        SubmitJob("cmd", uuid4(), uuid4(), "Volume", volume_id, "VOLUME", "", "hypervisor"),
    )
    assert outcome.id is not None
    return outcome.id


def _attach(cloud: Cloud, vm_id: UUID, volume_id: UUID) -> UUID:
    job_id = _job(cloud, volume_id)
    volume_work.attach_volume(cloud.store, AttachVolume(volume_id, vm_id), job_id)
    cloud.pump()
    return job_id


def _host_disks(cloud: Cloud, vm_id: UUID) -> dict[str, tuple[int, int]]:
    """The simulated host's view: disk id → (slot, GiB) of the VM's plugged data disks."""
    name = cloud.vm(vm_id).instance_name
    vm = cloud.world.hosts["h1"].vms[name]
    return {disk_id: (d.device_id, d.size_gb) for disk_id, d in vm.disks.items()}


def _slots(cloud: Cloud, vm_id: UUID) -> dict[int, UUID]:
    return dict(cloud.store.get(DeviceSlots, device_slots_id(vm_id)).slots)


def _job_of(cloud: Cloud, job_id: UUID) -> Job:
    return cloud.store.get(Job, job_id)


def test_a_running_vm_gets_the_disk_plugged_resized_and_unplugged_on_its_host(
    cloud: Cloud,
) -> None:
    vm_id, _ = cloud.deploy([cloud.host("h1")])
    volume_id = _volume(cloud, vm_id)
    attached = _attach(cloud, vm_id, volume_id)
    assert _host_disks(cloud, vm_id) == {str(volume_id): (1, 10)}
    assert cloud.store.get(Volume, volume_id).vm_id == vm_id
    assert _job_of(cloud, attached).status == JobStatus.SUCCEEDED
    resize_job = _job(cloud, volume_id)
    command = volume_work.ResizeAttached(volume_id, 20, uuid4(), job_id=resize_job)
    volume_work.resize_volume(cloud.store, command)
    assert _host_disks(cloud, vm_id) == {str(volume_id): (1, 10)}  # not before the adapter acts
    cloud.pump()
    assert _host_disks(cloud, vm_id) == {str(volume_id): (1, 20)}
    assert cloud.store.get(Volume, volume_id).size_gb == 20
    volume_work.detach_volume(cloud.store, volume_id, _job(cloud, volume_id))
    cloud.pump()
    assert _host_disks(cloud, vm_id) == {}
    assert _slots(cloud, vm_id) == {}
    assert cloud.world.acted["attach_volume"] == cloud.world.acted["detach_volume"] == 1


def test_a_failed_attach_releases_the_slot_and_leaves_the_volume_detached(
    cloud: Cloud,
) -> None:
    vm_id, _ = cloud.deploy([cloud.host("h1")])
    volume_id = _volume(cloud, vm_id)
    cloud.world.fail_next("attach_volume")
    job_id = _attach(cloud, vm_id, volume_id)
    volume = cloud.store.get(Volume, volume_id)
    assert (volume.vm_id, volume.pending, volume.state) == (None, None, "Allocated")
    assert _slots(cloud, vm_id) == {}
    assert _host_disks(cloud, vm_id) == {}
    job = _job_of(cloud, job_id)
    assert job.status == JobStatus.FAILED
    assert job.result["message"].startswith("Unable to attach volume data:")


def test_a_vm_that_never_ran_gets_its_disks_at_its_first_start(cloud: Cloud) -> None:
    host = cloud.host("h1")
    vm_id = uuid4()
    compute = resolve_compute(
        SMALL, {}, template_id=uuid4(), hypervisor="Simulator", template_disk_gb=1
    )
    vms.deploy_vm(
        cloud.store,
        vms.DeployVirtualMachine(
            vm_id, "web", "web", f"i-{vm_id.hex[:8]}-VM", uuid4(), uuid4(), uuid4(), "",
            compute, start=False,
        ),
    )  # fmt: skip
    volume_id = _volume(cloud, vm_id, 7)
    job_id = _attach(cloud, vm_id, volume_id)
    assert _job_of(cloud, job_id).status == JobStatus.SUCCEEDED  # the record alone changed
    assert cloud.world.calls["attach_volume"] == 0
    vms.start_vm(cloud.store, vms.StartVirtualMachine(vm_id, [host], cloud.job(vm_id)))
    cloud.pump()
    assert _host_disks(cloud, vm_id) == {str(volume_id): (1, 7)}


def test_an_attach_no_adapter_answers_is_failed_by_the_sweeper_and_frees_the_slot(
    cloud: Cloud,
) -> None:
    vm_id, _ = cloud.deploy([cloud.host("h1")])
    volume_id = _volume(cloud, vm_id)
    job_id = _job(cloud, volume_id)
    volume_work.attach_volume(cloud.store, AttachVolume(volume_id, vm_id), job_id)
    assert list(_slots(cloud, vm_id).values()) == [volume_id]
    assert _sweeper(cloud, [job_id], later=TIMEOUT * 2).sweep() == 1
    assert _slots(cloud, vm_id) == {}
    assert cloud.store.get(Volume, volume_id).pending is None
    assert "no hypervisor adapter answered" in _job_of(cloud, job_id).result["message"]
