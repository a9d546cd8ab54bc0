"""The stuck-job sweeper: hypervisor jobs no adapter answered fail through the result handlers,
so the VM or host goes back to a defined state and the room held for the request comes back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from commands import hosts, vms
from commands.jobs import SubmitJob, submit_job
from commands.placement import Candidate
from commands.templates import on_download_result
from domain.compute import resolve_compute
from domain.host import Host
from domain.job import Job, JobStatus
from domain.template import Template, TemplateSpec, os_type_id
from domain.vm import VmState
from entrypoint.installation import open_runtime
from entrypoint.sweeper import StuckJobSweeper, make_sweeper
from stratus.messages import WorkResult
from stratus.settings import Settings
from tests.integration.test_vm_lifecycle import SMALL, Cloud

TIMEOUT = 5.0


@pytest.fixture
def stuck_cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(replace(settings, hypervisor_job_timeout=TIMEOUT), projections=[])
    try:
        yield Cloud(runtime)
    finally:
        runtime.close()


def _sweeper(cloud: Cloud, jobs: list[UUID], *, later: float) -> StuckJobSweeper:
    """The server's sweeper, its clock `later` seconds ahead, over the given pending jobs."""
    sweeper = make_sweeper(cloud.runtime)
    sweeper.pending = lambda: list(jobs)
    sweeper.now = lambda: datetime.now(UTC) + timedelta(seconds=later)
    return sweeper


def _deploy_unanswered(cloud: Cloud, host: Candidate) -> tuple[UUID, UUID]:
    vm_id = uuid4()
    compute = resolve_compute(
        SMALL, {}, template_id=uuid4(), hypervisor="Simulator", template_disk_gb=1
    )
    job_id = cloud.job(vm_id)
    command = vms.DeployVirtualMachine(
        vm_id, "web", "web", f"i-{vm_id.hex[:8]}-VM", uuid4(), uuid4(), uuid4(), "", compute,
        [host], job_id=job_id,
    )  # fmt: skip
    vms.deploy_vm(cloud.store, command)
    return vm_id, job_id


def _failure(cloud: Cloud, job_id: UUID) -> str:
    job = cloud.store.get(Job, job_id)
    assert job.status == JobStatus.FAILED
    return str(job.result["message"])


def test_an_unanswered_deploy_fails_its_job_leaves_error_and_frees_the_room(
    stuck_cloud: Cloud,
) -> None:
    host = stuck_cloud.host("h1")
    vm_id, job_id = _deploy_unanswered(stuck_cloud, host)
    assert stuck_cloud.held(host) == (500, 512)
    assert _sweeper(stuck_cloud, [job_id], later=TIMEOUT * 2).sweep() == 1
    assert stuck_cloud.vm(vm_id).state == VmState.ERROR
    message = _failure(stuck_cloud, job_id)
    assert message.startswith("Unable to start virtual machine web")
    assert "no hypervisor adapter answered within 5 seconds" in message
    assert stuck_cloud.held(host) == (0, 0)


def test_an_unanswered_stop_puts_the_vm_back_running_with_its_room(stuck_cloud: Cloud) -> None:
    host = stuck_cloud.host("h1")
    vm_id, _ = stuck_cloud.deploy([host])
    job_id = stuck_cloud.job(vm_id)
    vms.stop_vm(stuck_cloud.store, vm_id, job_id, forced=False)
    assert stuck_cloud.vm(vm_id).state == VmState.STOPPING
    _sweeper(stuck_cloud, [job_id], later=TIMEOUT * 2).sweep()
    assert stuck_cloud.vm(vm_id).state == VmState.RUNNING
    assert _failure(stuck_cloud, job_id).startswith("Unable to stop virtual machine web")
    assert stuck_cloud.held(host) == (500, 512)


def test_an_unanswered_restore_fails_its_job_and_frees_the_vm_for_the_next_request(
    stuck_cloud: Cloud,
) -> None:
    host = stuck_cloud.host("h1")
    vm_id, _ = stuck_cloud.deploy([host])
    job_id = stuck_cloud.job(vm_id)
    vms.restore_vm(stuck_cloud.store, vm_id, stuck_cloud.vm(vm_id).compute, job_id)
    assert stuck_cloud.vm(vm_id).pending == "restore"
    assert _sweeper(stuck_cloud, [job_id], later=TIMEOUT * 2).sweep() == 1
    assert stuck_cloud.vm(vm_id).pending is None
    assert "no hypervisor adapter answered within 5 seconds" in _failure(stuck_cloud, job_id)


def test_a_stop_given_up_on_that_its_host_did_after_all_is_recorded_with_its_room_back(
    stuck_cloud: Cloud,
) -> None:
    host = stuck_cloud.host("h1")
    vm_id, _ = stuck_cloud.deploy([host])
    job_id = stuck_cloud.job(vm_id)
    vms.stop_vm(stuck_cloud.store, vm_id, job_id, forced=False)
    _sweeper(stuck_cloud, [job_id], later=TIMEOUT * 2).sweep()
    assert stuck_cloud.vm(vm_id).state == VmState.RUNNING
    stuck_cloud.pump()  # the adapter was only slow: it stops the VM and says so
    guest = stuck_cloud.world.hosts["h1"].vms[stuck_cloud.vm(vm_id).instance_name]
    assert guest.state == "Stopped"
    assert stuck_cloud.vm(vm_id).state == VmState.STOPPED
    assert stuck_cloud.held(host) == (0, 0)
    assert stuck_cloud.store.get(Job, job_id).status == JobStatus.FAILED


def test_jobs_younger_than_the_timeout_are_left_waiting(stuck_cloud: Cloud) -> None:
    host = stuck_cloud.host("h1")
    vm_id, job_id = _deploy_unanswered(stuck_cloud, host)
    assert _sweeper(stuck_cloud, [job_id], later=TIMEOUT / 2).sweep() == 0
    assert stuck_cloud.store.get(Job, job_id).status == JobStatus.PENDING
    assert stuck_cloud.vm(vm_id).state == VmState.STARTING


def test_management_jobs_are_not_the_sweepers_business(stuck_cloud: Cloud) -> None:
    outcome = submit_job(
        stuck_cloud.store, SubmitJob("cmd", uuid4(), uuid4(), "None", None, "X", "")
    )
    assert outcome.id is not None
    assert _sweeper(stuck_cloud, [outcome.id], later=TIMEOUT * 10).sweep() == 0
    assert stuck_cloud.store.get(Job, outcome.id).status == JobStatus.PENDING


def test_an_unanswered_host_connect_leaves_the_host_in_alert(stuck_cloud: Cloud) -> None:
    host_id = _add_host_unanswered(stuck_cloud)
    job = submit_job(
        stuck_cloud.store,
        SubmitJob("add", uuid4(), uuid4(), "Host", host_id, "HOST.ADD", "", "hypervisor"),
    )
    assert job.id is not None
    hosts.reconnect_host(stuck_cloud.store, host_id, job.id)
    _sweeper(stuck_cloud, [job.id], later=TIMEOUT * 2).sweep()
    assert stuck_cloud.store.get(Host, host_id).state == "Alert"
    assert "no hypervisor adapter answered" in _failure(stuck_cloud, job.id)


def _add_host_unanswered(cloud: Cloud) -> UUID:
    from domain.infrastructure import Cluster, Pod, Zone

    zone = Zone("z", "Advanced", {}, "", None, "Enabled", False)
    pod = Pod("p", zone.id, "10.0.0.1", "255.255.255.0", "10.0.0.2", "10.0.0.9", "Enabled")
    cluster = Cluster("c", zone.id, pod.id, "Simulator", "CloudManaged", "Enabled")
    cloud.store.save(zone, pod, cluster)
    command = hosts.AddHost(
        zone.id, pod.id, cluster.id, "Simulator", "simulator://h9", "root", "pw"
    )
    outcome = hosts.add_host(cloud.store, command)
    assert outcome.id is not None
    return outcome.id


def test_the_timeout_is_read_from_the_environment() -> None:
    env = {"STRATUS_HYPERVISOR_JOB_TIMEOUT": "12.5"}
    assert Settings.from_env(env).hypervisor_job_timeout == 12.5
    assert Settings.from_env({}).hypervisor_job_timeout == 600.0


class Heartbeats:
    """What the heartbeats told the server: seconds of silence per host (and per kind)."""

    def __init__(self, hosts: dict[str, float] | None = None, default: float = 0.0) -> None:
        self.hosts = hosts or {}
        self.default = default

    def silence(self, host_id: str | None, kind: str) -> float:
        return self.hosts.get(host_id or kind, self.default)


def _sweeper_told(cloud: Cloud, jobs: list[UUID], heartbeats: Heartbeats) -> StuckJobSweeper:
    sweeper = make_sweeper(cloud.runtime, heartbeats)
    sweeper.pending = lambda: list(jobs)
    sweeper.now = lambda: datetime.now(UTC) + timedelta(seconds=TIMEOUT * 2)
    return sweeper


def test_a_deploy_queued_behind_a_busy_host_its_adapter_reports_alive_is_left_waiting(
    stuck_cloud: Cloud,
) -> None:
    host = stuck_cloud.host("h1")
    vm_id, job_id = _deploy_unanswered(stuck_cloud, host)
    alive = Heartbeats({str(host.host_id): 1.0}, default=TIMEOUT * 100)
    assert _sweeper_told(stuck_cloud, [job_id], alive).sweep() == 0
    assert stuck_cloud.store.get(Job, job_id).status == JobStatus.PENDING
    assert stuck_cloud.vm(vm_id).state == VmState.STARTING
    assert stuck_cloud.held(host) == (500, 512)


def test_a_deploy_whose_host_no_adapter_reports_any_more_is_failed(stuck_cloud: Cloud) -> None:
    host = stuck_cloud.host("h1")
    vm_id, job_id = _deploy_unanswered(stuck_cloud, host)
    silent = Heartbeats({str(host.host_id): TIMEOUT * 100})
    assert _sweeper_told(stuck_cloud, [job_id], silent).sweep() == 1
    assert stuck_cloud.vm(vm_id).state == VmState.ERROR
    assert stuck_cloud.held(host) == (0, 0)


def test_a_start_given_up_on_that_ran_after_all_is_stopped_on_its_host(stuck_cloud: Cloud) -> None:
    host = stuck_cloud.host("h1")
    vm_id, job_id = _deploy_unanswered(stuck_cloud, host)
    _sweeper(stuck_cloud, [job_id], later=TIMEOUT * 2).sweep()
    assert stuck_cloud.vm(vm_id).state == VmState.ERROR
    # The adapter was only slow: it starts the VM now and says so; the host is told to stop it.
    stuck_cloud.pump()
    guest = stuck_cloud.world.hosts["h1"].vms[stuck_cloud.vm(vm_id).instance_name]
    assert guest.state == "Stopped"
    assert stuck_cloud.vm(vm_id).state == VmState.ERROR
    assert stuck_cloud.held(host) == (0, 0)
    assert stuck_cloud.store.get(Job, job_id).status == JobStatus.FAILED


def test_a_start_given_up_on_is_left_alone_where_a_later_start_placed_the_vm(
    stuck_cloud: Cloud,
) -> None:
    host = stuck_cloud.host("h1")
    vm_id, _ = stuck_cloud.deploy([host])
    vms.stop_vm(stuck_cloud.store, vm_id, None, forced=False)
    stuck_cloud.pump()
    first = stuck_cloud.job(vm_id)
    vms.start_vm(stuck_cloud.store, vms.StartVirtualMachine(vm_id, [host], first))
    _sweeper(stuck_cloud, [first], later=TIMEOUT * 2).sweep()
    assert stuck_cloud.vm(vm_id).state == VmState.STOPPED
    vms.start_vm(stuck_cloud.store, vms.StartVirtualMachine(vm_id, [host], stuck_cloud.job(vm_id)))
    stuck_cloud.pump()  # both starts answered: the VM runs there by the second
    guest = stuck_cloud.world.hosts["h1"].vms[stuck_cloud.vm(vm_id).instance_name]
    assert guest.state == "Running"
    assert stuck_cloud.vm(vm_id).state == VmState.RUNNING
    assert stuck_cloud.held(host) == (500, 512)


@pytest.fixture
def reading_cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(replace(settings, hypervisor_job_timeout=TIMEOUT))
    try:
        yield Cloud(runtime)
    finally:
        runtime.close()


def _downloading(cloud: Cloud, hypervisor: str) -> tuple[Template, UUID]:
    url, os_type = "http://images.example.org/t.qcow2", os_type_id("Other (64-bit)")
    spec = TemplateSpec("t", "t", url, hypervisor, "QCOW2", os_type)
    owner = {"account_id": uuid4(), "domain_id": uuid4(), "domain_path": "ROOT/"}
    template, zone_id = Template(asdict(spec), owner, id=uuid4()), uuid4()
    template.request_download(zone_id, uuid4().hex)
    cloud.store.save(template)
    cloud.runtime.runner.catch_up()
    return template, zone_id


def test_a_download_no_adapter_of_its_kind_takes_fails_and_a_late_answer_still_counts(
    reading_cloud: Cloud,
) -> None:
    template, zone_id = _downloading(reading_cloud, "KVM")
    request = template.request_in(zone_id)
    assert request is not None
    heartbeats = Heartbeats({"kvm": TIMEOUT * 100})
    assert _sweeper_told(reading_cloud, [], heartbeats).sweep() == 1
    failed = reading_cloud.store.get(Template, template.id).zones[str(zone_id)]
    assert failed["state"] == "Failed"
    assert "no hypervisor adapter answered within 5 seconds" in failed["reason"]
    late = WorkResult(request, "kvm", "download_template", str(template.id), True, {"size": 9})
    on_download_result(reading_cloud.store, late)
    assert reading_cloud.store.get(Template, template.id).ready_in(zone_id)


def test_a_download_an_adapter_of_its_kind_is_alive_for_keeps_downloading(
    reading_cloud: Cloud,
) -> None:
    template, zone_id = _downloading(reading_cloud, "KVM")
    heartbeats = Heartbeats({"kvm": 1.0})
    assert _sweeper_told(reading_cloud, [], heartbeats).sweep() == 0
    copy = reading_cloud.store.get(Template, template.id).zones[str(zone_id)]
    assert copy["state"] == "Downloading"
