"""Live migration below the API, on SQLite and PostgreSQL: the request leaves through the outbox
route to the machine's host with the destination's login sealed, the simulator moves the guest,
and the result moves the room held from one host to the other in one commit. A failed move
leaves the machine, and its room, where it was. A host's maintenance moves its machines away."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest

from adapters import Credentials, HypervisorError
from adapters.sessions import HostSession, perform
from adapters.simulator.driver import SimulatorDriver
from commands import hosts, migration, security_groups, system_vms, vms
from commands.jobs import SubmitJob
from commands.migration import Evacuee, MigrateMachine, PrepareMaintenance
from commands.outbox import routes
from commands.placement import Candidate
from commands.reservation_cleanup import clean_reservations
from commands.results import result_handlers
from commands.stuck_jobs import fail_stuck_job, timed_out
from domain.compute import OfferingShape, resolve_compute
from domain.errors import InsufficientCapacity, InvalidState
from domain.host import Host, ResourceState
from domain.infrastructure import Cluster, Pod, Zone
from domain.job import Job, JobStatus
from domain.security_group import VmRules, vm_rules_id
from domain.system_vm import Role, SystemVm
from domain.vm import VmState
from entrypoint.installation import open_runtime
from stratus.messages import WorkResult, decode_request, open_credentials
from stratus.settings import Settings
from tests.integration import test_vm_lifecycle

BIG = OfferingShape(uuid4(), 2, 1000, 3 * 1024)


@dataclass
class Cloud(test_vm_lifecycle.Cloud):
    """Two or more simulated hosts in one cluster; the pump hands actions their secrets."""

    cluster: tuple[UUID, UUID, UUID] | None = None
    deployed: list[UUID] = field(default_factory=list)

    def _act(self, payload: bytes) -> WorkResult:
        request = decode_request(payload)
        opened = open_credentials(self.store.box, request.sealed_credentials or "")
        host_id = request.params["host_id"]
        session = self.sessions.setdefault(
            host_id, HostSession(host_id, lambda: SimulatorDriver(self.world))
        )
        credentials = Credentials(opened["url"], opened["username"], opened["password"])
        params = dict(
            request.params, **({"secrets": opened["secrets"]} if "secrets" in opened else {})
        )
        fields = dict(
            request_id=request.request_id,
            hypervisor=request.hypervisor,
            action=request.action,
            target_id=request.target_id,
        )
        try:
            data = perform(session, request.action, params, credentials)
        except HypervisorError as error:
            return WorkResult(**fields, ok=False, error=str(error))
        return WorkResult(**fields, ok=True, data=data)

    def host(self, name: str, query: str = "") -> Candidate:
        if self.cluster is None:
            zone = Zone("z", "Advanced", {}, "", None, "Enabled", False)
            pod = Pod("p", zone.id, "10.0.0.1", "255.255.255.0", "10.0.0.2", "10.0.0.9", "Enabled")
            cluster = Cluster("c", zone.id, pod.id, "Simulator", "CloudManaged", "Enabled")
            self.store.save(zone, pod, cluster)
            self.cluster = (zone.id, pod.id, cluster.id)
        zone_id, pod_id, cluster_id = self.cluster
        url = f"simulator://{name}?cores=4&mhz=1000&memory_gb=4{query}"
        host = hosts.add_host(
            self.store, hosts.AddHost(zone_id, pod_id, cluster_id, "Simulator", url, "root", "pw")
        )
        self.pump()
        assert host.id is not None
        return Candidate(host.id, 4 * 1000, 4 * 1024)

    def migrate(self, vm_id: UUID, to: Candidate) -> UUID:
        job_id = self.job(vm_id)
        migration.migrate_vm(self.store, MigrateMachine(vm_id, (to,), job_id))
        return job_id

    def guests(self, host_name: str) -> set[str]:
        return set(self.world.hosts[host_name].vms)


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings)
    try:
        yield Cloud(runtime)
    finally:
        runtime.close()


def test_a_running_vm_moves_to_the_other_host_and_its_room_follows(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    vm_id, _ = cloud.deploy([h1])
    name = cloud.vm(vm_id).instance_name

    job_id = cloud.migrate(vm_id, h2)
    # While it moves, it runs (and holds room) where it was, and room waits for it there.
    assert cloud.vm(vm_id).state == VmState.RUNNING
    assert cloud.held(h1) == (500, 512) and cloud.held(h2) == (500, 512)
    cloud.pump()

    vm = cloud.vm(vm_id)
    assert (vm.state, vm.host_id, vm.pending) == (VmState.RUNNING, h2.host_id, None)
    assert cloud.held(h1) == (0, 0) and cloud.held(h2) == (500, 512)
    assert name in cloud.guests("h2") and name not in cloud.guests("h1")
    assert cloud.world.hosts["h2"].vms[name].state == "Running"
    assert cloud.job_status(job_id) == JobStatus.SUCCEEDED
    cloud.runtime.runner.catch_up()
    with cloud.runtime.db.read() as cursor:
        row = cursor.execute(
            "SELECT host_id, pending_job_id FROM virtual_machines WHERE id = %s", (str(vm_id),)
        ).fetchone()
    assert (row["host_id"], row["pending_job_id"]) == (str(h2.host_id), None)


def test_a_failed_move_leaves_the_vm_and_its_room_where_they_were(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    vm_id, _ = cloud.deploy([h1])
    cloud.world.fail_always("migrate_vm")

    job_id = cloud.migrate(vm_id, h2)
    cloud.pump()

    vm = cloud.vm(vm_id)
    assert (vm.state, vm.host_id, vm.pending) == (VmState.RUNNING, h1.host_id, None)
    assert cloud.held(h1) == (500, 512) and cloud.held(h2) == (0, 0)
    assert cloud.vm(vm_id).instance_name in cloud.guests("h1")
    job = cloud.store.get(Job, job_id)
    assert job.status == JobStatus.FAILED
    assert job.result["message"].startswith("Unable to migrate virtual machine web")


def test_a_host_without_room_is_refused_and_nothing_changes(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    filler, _ = cloud.deploy([h2], BIG)
    vm_id, _ = cloud.deploy([h1], BIG)
    with pytest.raises(InsufficientCapacity, match="Unable to migrate"):
        cloud.migrate(vm_id, h2)
    assert cloud.vm(vm_id).host_id == h1.host_id and cloud.vm(vm_id).pending is None
    assert cloud.held(h1) == (2000, 3072) and cloud.held(h2) == (2000, 3072)
    assert cloud.vm(filler).host_id == h2.host_id


def test_a_stopped_vm_or_its_own_host_is_refused(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    vm_id, _ = cloud.deploy([h1])
    with pytest.raises(Exception, match="already present on this host"):
        cloud.migrate(vm_id, h1)
    vms.stop_vm(cloud.store, vm_id, None, forced=True)
    cloud.pump()
    with pytest.raises(InvalidState, match="VM is not Running, unable to migrate the vm"):
        cloud.migrate(vm_id, h2)
    assert cloud.held(h1) == (0, 0) and cloud.held(h2) == (0, 0)


def test_a_system_vm_moves_with_its_pod_and_cluster(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    assert cloud.cluster is not None
    zone_id = cloud.cluster[0]
    compute = resolve_compute(
        BIG, {}, template_id=uuid4(), hypervisor="Simulator", template_disk_gb=0
    )
    vm_id = uuid4()
    system_vms.create_system_vm(
        cloud.store,
        system_vms.CreateSystemVm(
            vm_id, Role.CONSOLE, "v-1-VM", zone_id, uuid4(), uuid4(), compute, [h1]
        ),
    )
    cloud.pump()
    job_id = cloud.job(vm_id)
    migration.migrate_system_vm(cloud.store, MigrateMachine(vm_id, (h2,), job_id))
    cloud.pump()
    appliance = cloud.store.get(SystemVm, vm_id)
    assert (appliance.host_id, appliance.state) == (h2.host_id, "Running")
    assert appliance.cluster_id == cloud.cluster[2]
    assert cloud.held(h1) == (0, 0) and cloud.held(h2) == (2000, 3072)
    assert "v-1-VM" in cloud.guests("h2")
    assert cloud.job_status(job_id) == JobStatus.SUCCEEDED


def _maintenance(cloud: Cloud, host: Candidate, destinations: list[Candidate]) -> None:
    placed = [Evacuee(vm_id, "web") for vm_id in cloud_vms_on(cloud, host.host_id)]

    def job_for(evacuee: Evacuee) -> SubmitJob:
        return SubmitJob(
            "maint",
            uuid4(),
            uuid4(),
            "VirtualMachine",
            evacuee.machine_id,
            "VM.MIGRATE",
            "",
            "hypervisor",
        )

    migration.prepare_for_maintenance(
        cloud.store, PrepareMaintenance(host.host_id, placed, destinations, job_for)
    )


def cloud_vms_on(cloud: Cloud, host_id: UUID) -> list[UUID]:
    return [vm_id for vm_id in cloud.deployed if cloud.vm(vm_id).host_id == host_id]


def test_maintenance_moves_every_vm_away_then_the_host_is_in_maintenance(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    cloud.deployed = [cloud.deploy([h1])[0], cloud.deploy([h1])[0]]
    _maintenance(cloud, h1, [h2])
    assert cloud.store.get(Host, h1.host_id).resource_state == ResourceState.PREPARE_FOR_MAINTENANCE
    cloud.pump()
    assert all(cloud.vm(vm_id).host_id == h2.host_id for vm_id in cloud.deployed)
    assert cloud.held(h1) == (0, 0) and cloud.held(h2) == (1000, 1024)
    assert cloud.guests("h1") == set()
    assert cloud.store.get(Host, h1.host_id).resource_state == ResourceState.MAINTENANCE
    hosts.cancel_maintenance(cloud.store, h1.host_id)
    assert cloud.store.get(Host, h1.host_id).resource_state == ResourceState.ENABLED


def test_a_vm_that_cannot_leave_puts_the_host_in_error_in_maintenance(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    cloud.deployed = [cloud.deploy([h1])[0]]
    cloud.world.fail_always("migrate_vm")
    _maintenance(cloud, h1, [h2])
    cloud.pump()
    vm = cloud.vm(cloud.deployed[0])
    assert (vm.host_id, vm.state) == (h1.host_id, VmState.RUNNING)
    assert cloud.held(h1) == (500, 512) and cloud.held(h2) == (0, 0)
    host = cloud.store.get(Host, h1.host_id)
    assert host.resource_state == ResourceState.ERROR_IN_MAINTENANCE
    hosts.cancel_maintenance(cloud.store, h1.host_id)
    assert cloud.store.get(Host, h1.host_id).resource_state == ResourceState.ENABLED


def test_maintenance_with_nowhere_to_go_fails_the_move_at_once(cloud: Cloud) -> None:
    h1 = cloud.host("h1")
    cloud.deployed = [cloud.deploy([h1])[0]]
    _maintenance(cloud, h1, [])
    cloud.pump()
    assert cloud.vm(cloud.deployed[0]).host_id == h1.host_id
    host = cloud.store.get(Host, h1.host_id)
    assert host.resource_state == ResourceState.ERROR_IN_MAINTENANCE


def test_a_move_nobody_answers_is_given_up_and_the_vm_stays_with_its_room(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    vm_id, _ = cloud.deploy([h1])
    job_id = cloud.migrate(vm_id, h2)  # no adapter answers it: nothing is pumped

    fail_stuck_job(cloud.store, routes(cloud.store.box), job_id, timed_out(600), result_handlers())

    vm = cloud.vm(vm_id)
    assert (vm.state, vm.host_id, vm.pending) == (VmState.RUNNING, h1.host_id, None)
    assert cloud.held(h1) == (500, 512) and cloud.held(h2) == (0, 0)
    assert cloud.job_status(job_id) == JobStatus.FAILED


def test_maintenance_moves_system_vms_with_the_guests(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    assert cloud.cluster is not None
    compute = resolve_compute(
        BIG, {}, template_id=uuid4(), hypervisor="Simulator", template_disk_gb=0
    )
    proxy = uuid4()
    system_vms.create_system_vm(
        cloud.store,
        system_vms.CreateSystemVm(
            proxy, Role.CONSOLE, "v-2-VM", cloud.cluster[0], uuid4(), uuid4(), compute, [h1]
        ),
    )
    guest, _ = cloud.deploy([h1])
    cloud.pump()

    def job_for(evacuee: Evacuee) -> SubmitJob:
        kind = "SystemVm" if evacuee.system else "VirtualMachine"
        return SubmitJob("maint", uuid4(), uuid4(), kind, evacuee.machine_id, "MIGRATE", "")

    evacuees = [Evacuee(proxy, "v-2-VM", Role.CONSOLE), Evacuee(guest, "web")]
    migration.prepare_for_maintenance(
        cloud.store, PrepareMaintenance(h1.host_id, evacuees, [h2], job_for)
    )
    cloud.pump()

    assert cloud.store.get(SystemVm, proxy).host_id == h2.host_id
    assert cloud.vm(guest).host_id == h2.host_id
    assert cloud.guests("h1") == set() and cloud.held(h1) == (0, 0)
    assert cloud.store.get(Host, h1.host_id).resource_state == ResourceState.MAINTENANCE


def test_cleaning_reservations_keeps_the_room_a_move_in_flight_holds(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    vm_id, _ = cloud.deploy([h1])
    cloud.migrate(vm_id, h2)

    assert clean_reservations(cloud.store, [h1.host_id, h2.host_id]) == 0
    assert cloud.held(h1) == (500, 512) and cloud.held(h2) == (500, 512)
    cloud.pump()
    assert cloud.vm(vm_id).host_id == h2.host_id
    assert clean_reservations(cloud.store, [h1.host_id, h2.host_id]) == 0
    assert cloud.held(h1) == (0, 0) and cloud.held(h2) == (500, 512)


def test_a_moved_vm_has_its_security_group_rules_sent_to_its_new_host(cloud: Cloud) -> None:
    h1, h2 = cloud.host("h1"), cloud.host("h2")
    assert cloud.cluster is not None
    account, domain = uuid4(), uuid4()
    group = uuid4()
    security_groups.create_group(
        cloud.store, security_groups.CreateSecurityGroup(group, "web", "", account, domain)
    )
    vm_id = uuid4()
    compute = resolve_compute(
        test_vm_lifecycle.SMALL, {}, template_id=uuid4(), hypervisor="Simulator",
        template_disk_gb=1,
    )  # fmt: skip
    join = security_groups.JoinGroups(vm_id, "web", cloud.cluster[0], account, domain, (group,))
    vms.deploy_vm(
        cloud.store,
        vms.DeployVirtualMachine(
            vm_id, "web", "web", "i-9-web-VM", account, domain, cloud.cluster[0], "", compute,
            [h1], groups=join,
        ),
    )  # fmt: skip
    cloud.pump()
    rules = cloud.store.get(VmRules, vm_rules_id(vm_id))
    assert rules.applied_host == h1.host_id

    cloud.migrate(vm_id, h2)
    cloud.pump()

    assert cloud.vm(vm_id).host_id == h2.host_id
    assert cloud.store.get(VmRules, vm_rules_id(vm_id)).applied_host == h2.host_id
