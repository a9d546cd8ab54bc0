"""Live migration of guest VMs and system VMs, and a host's maintenance moving them away.

A migration is hypervisor work like a start: one commit holds the machine's room on the
destination host (under a reservation of the request) and records `MigrateRequested` on the
machine; the relay asks the machine's host to move it; the answer, in one commit, records
`Migrated` and gives back the source's room, or fails and gives back the destination's
(`commands.scaling.give_back`). Until then the machine runs, and holds room, where it was.

`prepareHostForMaintenance` records on the host which machines it waits for and asks for each
one's migration; every answer tells the host (`Host.machine_left`) in the same commit, and the
last one puts it in Maintenance, or ErrorInMaintenance when one could not leave.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome, hosts
from commands.affinity_groups import has_groups
from commands.jobs import SubmitJob, new_job, run_job
from commands.placement import RESERVATION_ATTEMPTS, Candidate, Reserve, hold_room
from commands.system_vms import host_access as appliance_host
from commands.vms import host_access, kept_apart_rule
from commands.volume_migration import DiskMove, join_moves
from domain.capacity import HostCapacity
from domain.errors import DomainError, InsufficientCapacity
from domain.host import Host
from domain.job import Job, JobStatus
from domain.system_vm import SystemVm
from domain.vm import Placement, VirtualMachine
from stratus.messages import WorkRequest, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work


@dataclass(frozen=True)
class MigrateMachine:
    """Move a running guest VM or system VM to the first of `destinations` with room."""

    machine_id: UUID
    destinations: Sequence[Candidate]
    job_id: UUID | None = None
    volumes: Mapping[UUID, DiskMove] = field(default_factory=dict)  # disks to other pools


def _reservation(kind: str, machine_id: UUID, request: str) -> str:
    return f"{kind}:{machine_id}:{request}"


def _hold(
    store: Any,
    machine: Any,
    reservation: str,
    destinations: Sequence[Candidate],
    admits: Callable[[HostCapacity], bool] | None,
) -> HostCapacity:
    """Room for the machine on the first destination that has it (533 when none has)."""
    compute = machine.compute
    wanted = Reserve(reservation, compute.cpu_mhz, compute.memory, destinations, admits=admits)
    try:
        return hold_room(store, wanted)
    except InsufficientCapacity:
        raise InsufficientCapacity(
            f"Unable to migrate {machine.name}: no destination host has room for "
            f"{compute.cpu_mhz} MHz and {compute.memory} MiB that its affinity groups admit"
        ) from None


def migrate_vm(store: Any, command: MigrateMachine) -> Outcome:
    """Hold room on the destination and ask the VM's host to move it, in one commit."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.machine_id, what="virtual machine")
        _check_first(vm, command.destinations)
        request = uuid.uuid4().hex
        reservation = _reservation("vm", vm.id, request)
        admits = kept_apart_rule(store, vm.id) if has_groups(store, vm.id) else None
        capacity = _hold(store, vm, reservation, command.destinations, admits)
        source = host_access(store, vm.host_id)
        destination = host_access(store, capacity.host_id)
        disks, moving = join_moves(store, vm, command.volumes, request, capacity.host_id)
        vm.request_migrate(request, command.job_id, source, destination, reservation, disks)
        return Outcome(store.last_position(store.save(vm, capacity, *moving)), vm.id)

    outcome: Outcome = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return outcome


def migrate_system_vm(store: Any, command: MigrateMachine) -> Outcome:
    """The same for a router, secondary storage VM or console proxy."""

    def attempt() -> Outcome:
        vm = store.get(SystemVm, command.machine_id, what="system vm")
        _check_first(vm, command.destinations)
        request = uuid.uuid4().hex
        reservation = _reservation("systemvm", vm.id, request)
        capacity = _hold(store, vm, reservation, command.destinations, None)
        source, _ = appliance_host(store, vm.host_id)
        access, host = appliance_host(store, capacity.host_id)
        place = Placement(access, host.pod_id, host.cluster_id)
        vm.request_migrate(request, command.job_id, source, place, reservation)
        return Outcome(store.last_position(store.save(vm, capacity)), vm.id)

    outcome: Outcome = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return outcome


def _check_first(machine: Any, destinations: Sequence[Candidate]) -> None:
    """The machine's own checks before any room is looked for (state, same host)."""
    for candidate in destinations[:1]:
        machine.check_migratable(candidate.host_id)
    if not destinations:
        raise InsufficientCapacity(
            f"Unable to migrate {machine.name}: no other Up, Enabled host of its cluster"
        )


# Host maintenance ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evacuee:
    """A machine placed on the host going into maintenance, and where it may go."""

    machine_id: UUID
    name: str
    role: str = ""  # a system VM's role (router, secondary storage VM, console proxy); "" a guest

    @property
    def system(self) -> bool:
        return bool(self.role)


@dataclass(frozen=True)
class PrepareMaintenance:
    host_id: UUID
    evacuees: Sequence[Evacuee]
    destinations: Sequence[Candidate]  # Up, Enabled hosts of the cluster, most room first
    job_for: Callable[[Evacuee], SubmitJob]  # each migration's own job (VM.MIGRATE, ...)


def prepare_for_maintenance(store: Any, command: PrepareMaintenance) -> Outcome:
    """The host goes PrepareForMaintenance waiting for its machines (Maintenance at once when
    it has none), then each is asked to move, under a job of its own; one that cannot even be
    asked to (no room anywhere, busy) is reported to the host with its job's failure."""

    placed = tuple(evacuee.machine_id for evacuee in command.evacuees)
    outcome = hosts.prepare_for_maintenance(store, command.host_id, placed)
    for evacuee in command.evacuees:
        _evacuate(store, command, evacuee)
    return outcome


def _evacuate(store: Any, command: PrepareMaintenance, evacuee: Evacuee) -> Outcome:
    migrate = migrate_system_vm if evacuee.system else migrate_vm

    def work(job_id: UUID) -> Outcome:
        try:
            return migrate(store, MigrateMachine(evacuee.machine_id, command.destinations, job_id))
        except DomainError as error:
            return _not_moved(store, command.host_id, evacuee.machine_id, job_id, error)

    return run_job(store, new_job(command.job_for(evacuee)), work)


def _not_moved(
    store: Any, host_id: UUID, machine_id: UUID, job_id: UUID, error: DomainError
) -> Outcome:
    """The machine cannot be moved: its job fails and the host hears it, in one commit."""

    def attempt() -> Outcome:
        host = store.get(Host, host_id, what="host")
        job = store.get(Job, job_id, what="job")
        if job.status == JobStatus.PENDING:
            job.fail(type(error).__name__, error.message)
        host.machine_left(machine_id, error.message)
        return Outcome(store.last_position(store.save(host, job)), host.id)

    outcome: Outcome = store.run(attempt)
    return outcome


# Outbox routes -------------------------------------------------------------------------------


def migration_routes(box: Any, prefix: str) -> dict[str, Route]:
    """`migrate_vm` / `migrate_system_vm` go to the machine's host; the destination's login
    travels sealed with the host's, as a secret of the action."""

    def route(action: str) -> Route:
        def outgoing(e: Any) -> Outgoing:
            destination = {
                "url": e.destination_url,
                "username": e.destination_username,
                "password": e.destination_password.reveal(),
            }
            sealed = seal_credentials(
                box, e.url, e.username, e.password.reveal(), secrets={"destination": destination}
            )
            request = WorkRequest(
                request_id=e.request_id,
                hypervisor=e.hypervisor.lower(),
                action=action,
                target_id=str(e.originator_id),
                params={
                    "host_id": str(e.host_id),
                    "name": e.instance_name,
                    "destination_host_id": str(e.destination_host_id),
                    # disks that move to other pools first (appliances' requests carry none)
                    "volumes": getattr(e, "volumes", []),
                },
                sealed_credentials=sealed,
                **origin(e),
            )
            return work(request, prefix)

        return outgoing

    vm: Any = VirtualMachine  # events made by the library's decorator: mypy cannot see them
    appliance: Any = SystemVm
    return {
        get_topic(vm.MigrateRequested): route("migrate_vm"),
        get_topic(appliance.MigrateRequested): route("migrate_system_vm"),
    }


OUTBOX_ROUTES = migration_routes
