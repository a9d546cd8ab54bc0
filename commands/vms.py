"""Commands on virtual machines, and the handler that turns adapter results into their outcome.

Hypervisor work is requested by an event on the VM and finished by the adapter's result, which
also finishes the VM's job and gives back any room held on the host. Placement holds room on a
host (commands.placement) before a start is requested, under a reservation id of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome, change
from commands.instance_groups import GroupRef
from commands.network_rules import follow_vm_rules
from commands.networks import (
    NicRequest,
    PrepareGuestNics,
    follow_vm_nics,
    prepare_guest_nics,
    release_guest_nics,
)
from commands.placement import Candidate, Reserve, release, reserve
from commands.scaling import Held, give_back, hold_growth
from commands.security_groups import follow_vm_groups
from commands.snapshot_chains import follow_vm_snapshots
from commands.volumes import attached_disks, follow_vm, root_volume
from domain.compute import Compute
from domain.errors import InsufficientCapacity, InvalidState, NotFound
from domain.host import Host, HostState
from domain.job import Job, JobStatus
from domain.vm import HostAccess, VirtualMachine
from stratus.messages import WorkResult

Mutation = Callable[[VirtualMachine, str, HostAccess], Any]


def vm_result(vm_id: UUID) -> dict[str, Any]:
    """What a VM job's result names: the API renders the VM from it."""
    return {"object": "virtualmachine", "id": str(vm_id)}


def request_id() -> str:
    return uuid.uuid4().hex


def host_access(store: Any, host_id: UUID) -> HostAccess:
    """How to reach a host for VM work; refused when the host is gone or not Up."""
    host = store.get(Host, host_id, what="host")
    if host.removed or not host.managed:
        raise InvalidState(f"Host {host.name} cannot run virtual machines")
    if host.state != HostState.UP:
        raise InvalidState(f"Host {host.name} is {host.state}: it cannot act on virtual machines")
    return HostAccess(host.id, host.url, host.username, host.password, host.hypervisor)


def _access_if_live(store: Any, host_id: UUID | None) -> HostAccess | None:
    """A host that left the cloud keeps nothing of the VM: its record alone changes then."""
    if host_id is None:
        return None
    try:
        host = store.get(Host, host_id, what="host")
    except NotFound:
        return None
    if host.removed:
        return None
    return host_access(store, host_id)


def _reservation(vm_id: UUID, request: str) -> str:
    return f"vm:{vm_id}:{request}"


def _job(store: Any, job_id: UUID | None) -> Job | None:
    return store.get(Job, job_id, what="job") if job_id else None


# Deploy and start ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployVirtualMachine:
    vm_id: UUID
    name: str
    display_name: str
    instance_name: str
    account_id: UUID
    domain_id: UUID
    zone_id: UUID
    guest_os_id: str
    compute: Compute
    candidates: Sequence[Candidate] = ()
    start: bool = True
    job_id: UUID | None = None
    networks: Sequence[NicRequest] = ()  # the first is the default NIC
    group: GroupRef | None = None  # the instance group it was admitted to


def deploy_vm(store: Any, command: DeployVirtualMachine) -> Outcome:
    """Record the VM, then place and start it; with no room it is kept in Error, job failed."""
    vm = VirtualMachine(
        command.vm_id,
        command.name,
        command.display_name,
        command.instance_name,
        command.account_id,
        command.domain_id,
        command.zone_id,
        command.guest_os_id,
        command.compute.facts(),
    )
    if command.group is not None:
        vm.move_to_group(command.group.id, command.group.name)
    root = root_volume(vm)  # saved with the VM in whichever outcome follows
    nics = prepare_guest_nics(
        store, PrepareGuestNics(vm.id, vm.account_id, vm.zone_id, command.networks)
    )  # guest IPs are held for the VM from here; given back below if it is not saved
    for nic in nics:
        vm.plug_nic(nic.facts())
    job = _job(store, command.job_id)
    if not command.start:
        if job is not None:
            job.succeed(vm_result(vm.id))
        return _saved(store, vm, job, root)
    try:
        placed, request = _place(store, vm, command.candidates)
    except InsufficientCapacity as error:
        vm.placement_failed(error.message)
        if job is not None:
            job.fail("InsufficientCapacity", error.message)
        return _saved(store, vm, job, root)
    try:
        return _request_start(store, vm, placed, request, command.job_id, root)
    except BaseException:
        release(store, placed, _reservation(vm.id, request))  # the room held for it comes back
        release_guest_nics(store, vm.id, nics)
        raise


def _place(store: Any, vm: VirtualMachine, candidates: Sequence[Candidate]) -> tuple[UUID, str]:
    request = request_id()
    compute = vm.compute
    placed = reserve(
        store,
        Reserve(
            _reservation(vm.id, request),
            compute.cpu_mhz,
            compute.memory,
            candidates,
            what=f"VM[User|{vm.instance_name}]",
        ),
    )
    return placed.host_id, request


def _request_start(
    store: Any,
    vm: VirtualMachine,
    host_id: UUID,
    request: str,
    job_id: UUID | None,
    *also: Any,
    data_disks: tuple[dict[str, Any], ...] = (),
) -> Outcome:
    reservation = _reservation(vm.id, request)
    vm.request_start(request, job_id, host_access(store, host_id), reservation, data_disks)
    return _saved(store, vm, *also)


def _saved(store: Any, *aggregates: Any) -> Outcome:
    present = [a for a in aggregates if a is not None]
    present += follow_vm(store, present)  # an expunged VM takes its ROOT volume with it
    present += follow_vm_nics(store, present)  # ... and gives back its guest IPs
    present += follow_vm_groups(store, present)  # ... and leaves its groups; rules go to hosts
    present += follow_vm_snapshots(store, present)  # ... and its VM snapshots go with it
    present += follow_vm_rules(store, present)  # ... and the address rules that send to it
    return Outcome(store.last_position(store.save(*present)), present[0].id)


@dataclass(frozen=True)
class StartVirtualMachine:
    vm_id: UUID
    candidates: Sequence[Candidate]
    job_id: UUID | None = None


def start_vm(store: Any, command: StartVirtualMachine) -> Outcome:
    """Place a stopped VM (533 when nothing fits) and ask the chosen host to run it."""
    vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
    vm.check_startable()
    host_id, request = _place(store, vm, command.candidates)

    def attempt() -> Outcome:
        fresh = store.get(VirtualMachine, command.vm_id)
        disks = attached_disks(store, fresh.id)  # the hypervisor gets the VM's data disks too
        return _request_start(store, fresh, host_id, request, command.job_id, data_disks=disks)

    try:
        result: Outcome = store.run(attempt)
    except BaseException:
        release(store, host_id, _reservation(vm.id, request))
        raise
    return result


# Work on the VM's current host ---------------------------------------------------------------


def _on_host(store: Any, vm_id: UUID, mutate: Mutation) -> Outcome:
    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, vm_id, what="virtual machine")
        if vm.host_id is None:
            raise InvalidState(f"Virtual machine {vm.name} is not running on any host")
        mutate(vm, request_id(), host_access(store, vm.host_id))
        return _saved(store, vm)

    result: Outcome = store.run(attempt)
    return result


def stop_vm(store: Any, vm_id: UUID, job_id: UUID | None, *, forced: bool) -> Outcome:
    return _on_host(
        store, vm_id, lambda vm, request, access: vm.request_stop(request, job_id, access, forced)
    )


def reboot_vm(store: Any, vm_id: UUID, job_id: UUID | None) -> Outcome:
    return _on_host(
        store, vm_id, lambda vm, request, access: vm.request_reboot(request, job_id, access)
    )


def destroy_vm(store: Any, vm_id: UUID, job_id: UUID | None, *, expunge: bool) -> Outcome:
    """Destroy (or expunge); when no host has to act the job is done at once."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, vm_id, what="virtual machine")
        access = _access_if_live(store, vm.destroy_target(expunge))
        if vm.destroy(request_id(), job_id, expunge, access):
            return _saved(store, vm)
        return _saved(store, vm, _succeeded(store, job_id, vm))

    result: Outcome = store.run(attempt)
    return result


def expunge_vm(store: Any, vm_id: UUID, job_id: UUID | None) -> Outcome:
    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, vm_id, what="virtual machine")
        vm.check_expungeable()
        access = _access_if_live(store, vm.last_host_id)
        if vm.expunge(request_id(), job_id, access):
            return _saved(store, vm)
        return _saved(store, vm, _succeeded(store, job_id, vm))

    result: Outcome = store.run(attempt)
    return result


def _succeeded(store: Any, job_id: UUID | None, vm: VirtualMachine) -> Job | None:
    job = _job(store, job_id)
    if job is not None and job.status == JobStatus.PENDING:
        job.succeed(vm_result(vm.id))
    return job


def recover_vm(store: Any, vm_id: UUID) -> Outcome:
    return change(store, VirtualMachine, vm_id, VirtualMachine.recover, what="virtual machine")


@dataclass(frozen=True)
class UpdateVirtualMachine:
    vm_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)


def update_vm(store: Any, command: UpdateVirtualMachine) -> Outcome:
    return change(
        store,
        VirtualMachine,
        command.vm_id,
        lambda vm: vm.update(command.changes),
        what="virtual machine",
    )


# Compute changes -----------------------------------------------------------------------------


def change_service(store: Any, vm_id: UUID, compute: Compute) -> Outcome:
    """A stopped VM takes a new offering (and custom values) at once."""
    return change(
        store,
        VirtualMachine,
        vm_id,
        lambda vm: vm.change_compute(compute),
        what="virtual machine",
    )


def scale_vm(store: Any, vm_id: UUID, compute: Compute, job_id: UUID | None) -> Outcome:
    """A stopped VM changes at once; a running one holds any extra room and asks its host."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, vm_id, what="virtual machine")
        if vm.state != "Running":
            vm.change_compute(compute)
            return _saved(store, vm, _succeeded(store, job_id, vm))
        vm.check_scalable(compute, running_allowed=True)
        assert vm.host_id is not None
        request = request_id()
        extra = _reservation(vm.id, request)
        capacity = hold_growth(store, vm.host_id, extra, vm.compute, compute)
        vm.request_scale(request, job_id, host_access(store, vm.host_id), compute, extra)
        return _saved(store, vm, capacity)

    result: Outcome = store.run(attempt)
    return result


# Results -------------------------------------------------------------------------------------


def on_vm_result(store: Any, result: WorkResult) -> Outcome:
    """An adapter's answer to the VM's request in flight; stale or repeated ones change nothing."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, UUID(result.target_id), what="virtual machine")
        if not vm.is_current(result.request_id):
            return Outcome(0, vm.id)
        before = Held.of(vm)
        job = _job(store, vm.job_id)
        reason = result.error or "the hypervisor did not answer"
        if result.ok:
            vm.confirm(result.request_id)
        else:
            vm.fail(result.request_id, reason)
        capacity = give_back(store, before, vm, ok=result.ok)
        _finish_job(job, vm, before.action, reason if not result.ok else None)
        return _saved(store, vm, capacity, job)

    outcome: Outcome = store.run(attempt)
    return outcome


_FAILED = {
    "start": "Unable to start",
    "stop": "Unable to stop",
    "reboot": "Unable to reboot",
    "destroy": "Unable to destroy",
    "expunge": "Unable to expunge",
    "scale": "Unable to scale",
}


def _finish_job(job: Job | None, vm: VirtualMachine, action: str | None, error: str | None) -> None:
    if job is None or job.status != JobStatus.PENDING:
        return
    if error is None:
        job.succeed(vm_result(vm.id))
    else:
        verb = _FAILED.get(action or "", "Unable to act on")
        job.fail("DomainError", f"{verb} virtual machine {vm.name}: {error}")


RESULT_HANDLERS = {
    action: on_vm_result
    for action in ("start_vm", "stop_vm", "reboot_vm", "destroy_vm", "scale_vm")
}
