"""VM commands end to end below the API: requests leave through the outbox routes, a simulator
answers them, and the results finish jobs and give back the room held on hosts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError

from adapters import HypervisorError
from adapters.sessions import HostSession, perform
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from commands import hosts, vms
from commands.jobs import SubmitJob, submit_job
from commands.networks import NicRequest
from commands.outbox import routes
from commands.placement import Candidate
from commands.results import result_handlers
from domain.capacity import capacity_id
from domain.compute import OfferingShape, resolve_compute
from domain.errors import InvalidState
from domain.infrastructure import Cluster, Pod, Zone
from domain.job import Job, JobStatus
from domain.vm import VirtualMachine, VmState
from entrypoint.installation import open_runtime
from stratus.messages import WorkResult, decode_request, open_credentials
from stratus.runtime import Runtime
from stratus.settings import Settings

SMALL = OfferingShape(uuid4(), 1, 500, 512)
CUSTOM = OfferingShape(uuid4(), None, None, None)


@dataclass
class Cloud:
    """A store, a simulated world, and a pump that plays the adapters' part synchronously."""

    runtime: Runtime
    world: SimulatedWorld = field(default_factory=SimulatedWorld)
    position: int = 0
    sessions: dict[str, HostSession] = field(default_factory=dict)
    driver: Callable[[SimulatedWorld], Any] = SimulatorDriver  # what each host's session drives

    @property
    def store(self) -> Any:
        return self.runtime.store

    def pump(self) -> None:
        """Answer every request recorded since the last pump, until none is left."""
        table, handlers = routes(self.store.box), result_handlers()
        while True:
            notifications = self.store.recorder.select_notifications(
                self.position, 100, inclusive_of_start=False
            )
            if not notifications:
                return
            for notification in notifications:
                self.position = notification.id
                if notification.topic in table:
                    event = self.store.mapper.to_domain_event(notification)
                    outgoing = table[notification.topic](event)
                    assert outgoing is not None
                    result = self._act(outgoing.payload)
                    handlers[result.action](self.store, result)

    def _act(self, payload: bytes) -> WorkResult:
        from adapters import Credentials

        request = decode_request(payload)
        opened = open_credentials(self.store.box, request.sealed_credentials or "")
        host_id = request.params["host_id"]
        session = self.sessions.setdefault(
            host_id, HostSession(host_id, lambda: self.driver(self.world))
        )
        credentials = Credentials(opened["url"], opened["username"], opened["password"])
        fields = dict(
            request_id=request.request_id,
            hypervisor=request.hypervisor,
            action=request.action,
            target_id=request.target_id,
        )
        try:
            data = perform(session, request.action, dict(request.params), credentials)
        except HypervisorError as error:
            return WorkResult(**fields, ok=False, error=str(error))
        return WorkResult(**fields, ok=True, data=data)

    def host(self, name: str, query: str = "", hypervisor: str = "Simulator") -> Candidate:
        """A host of its own zone; `name` is its URL for another hypervisor than the simulator."""
        zone = Zone("z", "Advanced", {}, "", None, "Enabled", False)
        pod = Pod("p", zone.id, "10.0.0.1", "255.255.255.0", "10.0.0.2", "10.0.0.9", "Enabled")
        cluster = Cluster("c", zone.id, pod.id, hypervisor, "CloudManaged", "Enabled")
        self.store.save(zone, pod, cluster)
        url = f"simulator://{name}?cores=4&mhz=1000&memory_gb=4{query}"
        if hypervisor != "Simulator":
            url = name
        added = hosts.AddHost(zone.id, pod.id, cluster.id, hypervisor, url, "root", "pw")
        host = hosts.add_host(self.store, added)
        self.pump()
        assert host.id is not None
        return Candidate(host.id, 4 * 1000, 4 * 1024)

    def job(self, vm_id: UUID) -> UUID:
        outcome = submit_job(
            self.store,
            SubmitJob("cmd", uuid4(), uuid4(), "VirtualMachine", vm_id, "VM", "", "hypervisor"),
        )
        assert outcome.id is not None
        return outcome.id

    def deploy(
        self,
        candidates: list[Candidate],
        offering: OfferingShape = SMALL,
        *,
        zone_id: UUID | None = None,
        networks: Sequence[NicRequest] = (),  # the first is its default NIC
        **values: str,
    ):
        vm_id = uuid4()
        compute = resolve_compute(
            offering, values, template_id=uuid4(), hypervisor="Simulator", template_disk_gb=1
        )
        job_id = self.job(vm_id)
        vms.deploy_vm(
            self.store,
            vms.DeployVirtualMachine(
                vm_id,
                "web",
                "web",
                f"i-{vm_id.hex[:8]}-VM",
                uuid4(),
                uuid4(),
                zone_id or uuid4(),
                "",
                compute,
                candidates,
                job_id=job_id,
                networks=networks,
            ),
        )
        self.pump()
        return vm_id, job_id

    def vm(self, vm_id: UUID) -> VirtualMachine:
        return self.store.get(VirtualMachine, vm_id)

    def held(self, host: Candidate) -> tuple[int, int]:
        try:
            capacity = self.store.repository.get(capacity_id(host.host_id))
        except AggregateNotFoundError:
            return 0, 0  # nothing was ever held there
        return capacity.cpu_used, capacity.memory_used

    def job_status(self, job_id: UUID) -> int:
        return self.store.get(Job, job_id).status


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings, projections=[])
    try:
        yield Cloud(runtime)
    finally:
        runtime.close()


def test_deploy_runs_the_vm_on_a_host_and_holds_its_room(cloud: Cloud) -> None:
    host = cloud.host("h1")
    vm_id, job_id = cloud.deploy([host])
    machine = cloud.vm(vm_id)
    assert (machine.state, machine.host_id) == (VmState.RUNNING, host.host_id)
    assert cloud.job_status(job_id) == JobStatus.SUCCEEDED
    assert cloud.held(host) == (500, 512)
    guest = cloud.world.hosts["h1"].vms[machine.instance_name]
    assert (guest.spec.cpu_number, guest.spec.memory_mb, guest.state) == (1, 512, "Running")


def test_stop_then_start_gives_back_the_room_then_holds_it_again(cloud: Cloud) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host])
    vms.stop_vm(cloud.store, vm_id, cloud.job(vm_id), forced=True)
    cloud.pump()
    assert cloud.vm(vm_id).state == VmState.STOPPED and cloud.held(host) == (0, 0)
    vms.start_vm(cloud.store, vms.StartVirtualMachine(vm_id, [host], cloud.job(vm_id)))
    cloud.pump()
    assert cloud.vm(vm_id).state == VmState.RUNNING and cloud.held(host) == (500, 512)


def test_a_failing_first_start_leaves_error_a_failed_job_and_no_room_held(cloud: Cloud) -> None:
    host = cloud.host("bad", "&fail=start_vm")
    vm_id, job_id = cloud.deploy([host])
    assert cloud.vm(vm_id).state == VmState.ERROR
    assert cloud.job_status(job_id) == JobStatus.FAILED
    assert "start_vm fails on bad" in cloud.store.get(Job, job_id).result["message"]
    assert cloud.held(host) == (0, 0)


def test_no_room_anywhere_fails_the_deploy_with_nothing_held(cloud: Cloud) -> None:
    host = cloud.host("h1")
    vm_id, job_id = cloud.deploy([host], CUSTOM, cpu_number="8", cpu_speed="1000", memory="512")
    assert cloud.vm(vm_id).state == VmState.ERROR
    job = cloud.store.get(Job, job_id)
    assert job.result["error"] == "InsufficientCapacity"
    assert job.result["message"].startswith("Unable to create a deployment for VM[User|")
    assert cloud.held(host) == (0, 0)


def test_scaling_a_running_vm_resizes_it_and_its_reservation(cloud: Cloud) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host], CUSTOM, cpu_number="1", cpu_speed="500", memory="512")
    bigger = resolve_compute(
        CUSTOM,
        {"cpu_number": "2", "cpu_speed": "500", "memory": "1024"},
        template_id=cloud.vm(vm_id).compute.template_id,
        hypervisor="Simulator",
        template_disk_gb=1,
    )
    job_id = cloud.job(vm_id)
    vms.scale_vm(cloud.store, vm_id, bigger, job_id)
    cloud.pump()
    assert cloud.vm(vm_id).compute == bigger and cloud.job_status(job_id) == JobStatus.SUCCEEDED
    assert cloud.held(host) == (1000, 1024)
    guest = cloud.world.hosts["h1"].vms[cloud.vm(vm_id).instance_name]
    assert (guest.spec.cpu_number, guest.spec.memory_mb) == (2, 1024)


def test_a_failed_scale_keeps_the_old_shape_and_reservation(cloud: Cloud) -> None:
    host = cloud.host("h1", "&fail=scale_vm")
    vm_id, _ = cloud.deploy([host], CUSTOM, cpu_number="1", cpu_speed="500", memory="512")
    old = cloud.vm(vm_id).compute
    bigger = resolve_compute(
        CUSTOM,
        {"cpu_number": "2", "cpu_speed": "500", "memory": "1024"},
        template_id=old.template_id,
        hypervisor="Simulator",
        template_disk_gb=1,
    )
    job_id = cloud.job(vm_id)
    vms.scale_vm(cloud.store, vm_id, bigger, job_id)
    cloud.pump()
    assert cloud.vm(vm_id).compute == old and cloud.job_status(job_id) == JobStatus.FAILED
    assert cloud.held(host) == (500, 512)


def test_destroy_with_expunge_removes_the_guest_and_gives_back_its_room(cloud: Cloud) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host])
    name = cloud.vm(vm_id).instance_name
    job_id = cloud.job(vm_id)
    vms.destroy_vm(cloud.store, vm_id, job_id, expunge=True)
    cloud.pump()
    assert cloud.vm(vm_id).removed and cloud.job_status(job_id) == JobStatus.SUCCEEDED
    assert name not in cloud.world.hosts["h1"].vms and cloud.held(host) == (0, 0)
    with pytest.raises(InvalidState):
        vms.start_vm(cloud.store, vms.StartVirtualMachine(vm_id, [host]))


def test_a_repeated_result_changes_nothing(cloud: Cloud) -> None:
    host = cloud.host("h1")
    vm_id, _ = cloud.deploy([host])
    vms.reboot_vm(cloud.store, vm_id, cloud.job(vm_id))
    before = cloud.position
    cloud.pump()
    version = cloud.vm(vm_id).version
    cloud.position = before  # the relay starts over: the same request is answered again
    cloud.pump()
    assert cloud.vm(vm_id).version == version
