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
from commands.affinity_groups import follow_vm_affinity, has_groups, kept_apart
from commands.baremetal_boot import BaremetalPlan, baremetal_boot
from commands.hosts import machine_left
from commands.instance_groups import GroupRef
from commands.network_claims import ALLOCATION_ATTEMPTS, released
from commands.network_rules import follow_vm_rules, refuse_if_ruled
from commands.networks import (
    NicRequest,
    PrepareGuestNics,
    follow_vm_nics,
    guest_addresses,
    guest_nics,
)
from commands.placement import RESERVATION_ATTEMPTS, Candidate, Reserve, hold_room
from commands.scaling import Held, give_back, hold_growth
from commands.security_groups import JoinGroups, follow_vm_groups, joined, regrouped
from commands.snapshot_chains import follow_vm_snapshots
from commands.vm_access import GuestAccess, give_access
from commands.volume_placement import (
    PoolNeeds,
    place_disks,
    placed_on_pools,
    root_pool,
    settle_moves,
    with_pools,
)
from commands.volumes import (
    NewDataDisk,
    attached_disks,
    deploy_data_disk,
    disk_entry,
    follow_vm,
    owned_volumes,
    root_io_limits,
    root_volume,
)
from domain.affinity_group import admits as affinity_admits
from domain.capacity import HostCapacity
from domain.compute import Compute
from domain.errors import InsufficientCapacity, InvalidState, NotFound
from domain.host import Host, HostState
from domain.job import Job, JobStatus
from domain.network_claims import ClaimKind
from domain.storage_qos import io_limits_of
from domain.template import Template
from domain.vm import HostAccess, VirtualMachine
from domain.volume import Volume
from stratus.messages import ABANDONED, WorkResult

Mutation = Callable[[VirtualMachine, str, HostAccess], Any]


def vm_result(vm_id: UUID) -> dict[str, Any]:
    """What a VM job's result names: the API renders the VM from it."""
    return {"object": "virtualmachine", "id": str(vm_id)}


def request_id() -> str:
    return uuid.uuid4().hex


def host_access(store: Any, host_id: UUID) -> HostAccess:
    """How to reach a host for VM work; refused when the host is gone or not Up."""
    host = store.get(Host, host_id, what="host")
    if host.removed or not (host.managed or host.hypervisor == "BareMetal"):
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
    groups: JoinGroups | None = None  # security groups to join (zones that have them)
    key_pair: tuple[str, str] | None = None  # (name, public key) the guest is to let in
    password_enabled: bool = False  # the template takes a password: one is made for it
    in_affinity_groups: bool = False  # placement then keeps it apart from their members
    group: GroupRef | None = None  # the instance group it was admitted to
    user_data: str = ""  # Base64, checked by the API; every start carries it to the guest
    root_pool: PoolNeeds = field(default_factory=PoolNeeds)  # the ROOT disk's pool needs
    data_disk: NewDataDisk | None = None  # a data disk made and attached with it
    iso_id: UUID | None = None  # the ISO it boots from (its ROOT disk starts blank)
    root_offering_id: UUID | None = None  # the ROOT disk's disk offering (deploying an ISO)
    root_qos: dict[str, Any] = field(default_factory=dict)  # the ROOT disk's storage QoS
    baremetal: BaremetalPlan | None = None  # a bare-metal template's servers (its network boot)
    keyboard: str = ""  # its console's keyboard layout ("": the hypervisor's default)
    hidden: bool = False  # kept from end users' lists (displayvm=false, a root admin's choice)


def deploy_vm(store: Any, command: DeployVirtualMachine) -> Outcome:
    """Record the VM, then place and start it; with no room it is kept in Error, job failed.

    One commit records everything the deploy takes: the VM and its ROOT volume, its guest IPs,
    its security groups, the room held on its host with the start request, and the job riding
    along (`commands.jobs.run_job`). A crash or an outage of the database then leaves all of it
    or none of it, never a pending job or held room for a VM that does not exist.
    """

    def attempt() -> Outcome:
        vm = _new_vm(command)
        if command.iso_id is not None:
            vm.boot_from_iso(
                store.get(Template, command.iso_id, what="ISO").drive_facts(vm.zone_id)
            )
        root = root_volume(vm, command.root_offering_id, command.root_qos)
        disks = _with_data_disk(vm, root, command)
        nics, claims = guest_nics(
            store, PrepareGuestNics(vm.id, vm.account_id, vm.zone_id, command.networks)
        )
        for nic in nics:
            vm.plug_nic(nic.facts())
        give_access(vm, _access(command))
        taken = [*disks, *claims, *(joined(store, command.groups) if command.groups else ())]
        job = _job(store, command.job_id)
        if not command.start:
            if job is not None:
                job.succeed(vm_result(vm.id))
            return _saved(store, vm, job, *taken)
        volumes = [d for d in disks if isinstance(d, Volume)]
        try:
            capacity, request = _hold(store, vm, command.candidates, command.in_affinity_groups)
            pools = placed_on_pools(store, volumes, capacity.host_id, _pool_needs(command, root))
        except InsufficientCapacity as error:
            vm.placement_failed(error.message)
            if job is not None:
                job.fail("InsufficientCapacity", error.message)
            return _saved(store, vm, job, *taken)
        access = host_access(store, capacity.host_id)
        reservation = _reservation(vm.id, request)
        data = tuple(disk_entry(v, v.device_id or 0) for v in volumes if v.id != root.id)
        boot = None
        if command.baremetal is not None:
            boot = baremetal_boot(
                store, command.baremetal, capacity.host_id, vm.name, vm.start_nics()
            )
        vm.request_start(
            request,
            command.job_id,
            access,
            reservation,
            data,
            root.pool_id,
            boot,
            io_limits_of(root.qos),
        )
        return _saved(store, vm, capacity, *taken, *pools)

    outcome: Outcome = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return outcome


def _with_data_disk(vm: VirtualMachine, root: Volume, command: DeployVirtualMachine) -> list[Any]:
    """The new VM's ROOT volume and, when one was asked for, its data disk with the VM's device
    slots: all saved in the deploy's commit."""
    if command.data_disk is None:
        return [root]
    disk, slots = deploy_data_disk(vm, command.data_disk)
    return [root, disk, slots]


def _pool_needs(command: DeployVirtualMachine, root: Volume) -> dict[UUID, PoolNeeds]:
    """What each of the new VM's disks needs of its pool."""
    needs = {root.id: command.root_pool}
    if command.data_disk is not None:
        needs[command.data_disk.volume_id] = command.data_disk.pool
    return needs


def _new_vm(command: DeployVirtualMachine) -> VirtualMachine:
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
        keyboard=command.keyboard,
    )
    if command.hidden:
        vm.update({"display": False})
    if command.group is not None:
        vm.move_to_group(command.group.id, command.group.name)
    if command.user_data:
        vm.update({"user_data": command.user_data})
    return vm


def _access(command: DeployVirtualMachine) -> GuestAccess:
    enabled = command.password_enabled
    return GuestAccess(command.vm_id, command.job_id, command.key_pair, enabled, enabled)


def _hold(
    store: Any, vm: VirtualMachine, candidates: Sequence[Candidate], grouped: bool
) -> tuple[HostCapacity, str]:
    """Room for `vm` on the first candidate that fits (and that its affinity groups admit),
    under a new request's reservation."""
    request = request_id()
    compute = vm.compute
    reservation = Reserve(
        _reservation(vm.id, request),
        compute.cpu_mhz,
        compute.memory,
        candidates,
        what=f"VM[User|{vm.instance_name}]",
        admits=kept_apart_rule(store, vm.id) if grouped else None,
    )
    return hold_room(store, reservation), request


def kept_apart_rule(store: Any, vm_id: UUID) -> Callable[[HostCapacity], bool]:
    """A host admits the VM when no VM its affinity groups keep it apart from holds room there
    (read afresh in each reservation attempt, after the host's capacity)."""

    def admits(capacity: HostCapacity) -> bool:
        return affinity_admits(kept_apart(store, vm_id), _holders(capacity))

    return admits


def _holders(capacity: HostCapacity) -> set[UUID]:
    """The user VMs holding room on a host, from their reservation ids (`_reservation`)."""
    found: set[UUID] = set()
    for reservation in capacity.reservations:
        kind, _, rest = reservation.partition(":")
        if kind == "vm":
            found.add(UUID(rest.split(":", 1)[0]))
    return found


def _saved(store: Any, *aggregates: Any) -> Outcome:
    present = [a for a in aggregates if a is not None]
    present += follow_vm(store, present)  # an expunged VM takes its ROOT volume with it
    present += follow_vm_nics(store, present)  # ... and gives back its guest IPs
    present += follow_vm_groups(store, present)  # ... and leaves its groups; rules go to hosts
    present += follow_vm_snapshots(store, present)  # ... and its VM snapshots go with it
    present += follow_vm_rules(store, present)  # ... and the address rules that send to it
    present += follow_vm_affinity(store, present)  # ... expunged or in Error, leaves its groups
    return Outcome(store.last_position(store.save(*present)), present[0].id)


@dataclass(frozen=True)
class StartVirtualMachine:
    vm_id: UUID
    candidates: Sequence[Candidate]
    job_id: UUID | None = None
    pools: dict[UUID, PoolNeeds] = field(default_factory=dict)  # by disk: what it needs


def start_vm(store: Any, command: StartVirtualMachine) -> Outcome:
    """Place a stopped VM (533 when nothing fits) and ask the chosen host to run it; the room
    and the request are one commit."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        vm.check_startable()
        capacity, request = _hold(store, vm, command.candidates, has_groups(store, vm.id))
        disks = attached_disks(store, vm.id)  # the hypervisor gets the VM's data disks too
        # The disks of a VM no host ever held (deployed without starting) are made now, on a
        # pool of the host's scope; a VM that had a host keeps its disks where they are.
        placed = (
            []
            if vm.placed_host is not None
            else place_disks(store, owned_volumes(store, vm.id), capacity.host_id, command.pools)
        )
        disks = with_pools(disks, placed)
        access = host_access(store, capacity.host_id)
        reservation = _reservation(vm.id, request)
        root = root_pool(store, vm.id, placed)
        limits = root_io_limits(store, vm.id)
        vm.request_start(
            request, command.job_id, access, reservation, disks, root, root_io_limits=limits
        )
        return _saved(store, vm, capacity, *placed)

    result: Outcome = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
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


def restore_vm(store: Any, vm_id: UUID, compute: Compute, job_id: UUID | None) -> Outcome:
    """Make the VM's root disk anew (from `compute`'s template) on the host that holds it; a
    VM whose disk no host holds is done at once."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, vm_id, what="virtual machine")
        vm.check_restorable()
        access = _access_if_live(store, vm.restore_target())
        if vm.restore(request_id(), job_id, access, compute):
            return _saved(store, vm)
        return _saved(store, vm, _succeeded(store, job_id, vm))

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class AssignVirtualMachine:
    """A stopped VM handed to another account, with what it moves to there: NICs on these
    networks (None: its NICs stay, it has none) and these security groups (None: a zone
    without them; empty: the new owner's `default` group)."""

    vm_id: UUID
    account_id: UUID
    domain_id: UUID
    networks: Sequence[NicRequest] | None = None
    groups: tuple[UUID, ...] | None = None


def assign_vm(store: Any, command: AssignVirtualMachine) -> Outcome:
    """Hand a stopped VM, its ROOT volume and its data disks to another account, its NICs moved
    to the new owner's networks (their addresses given back and new ones claimed) and its
    security groups to the new owner's: one commit."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        vm.assign(command.account_id, command.domain_id)
        moved = _moved_nics(store, vm, command)
        groups = regrouped(
            store,
            JoinGroups(
                vm.id, vm.name, vm.zone_id, command.account_id, command.domain_id, command.groups
            ),
        )
        volumes = owned_volumes(store, vm.id)
        for volume in volumes:
            volume.follow_owner(command.account_id, command.domain_id)
        return _saved(store, vm, *moved, *groups, *volumes)

    result: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return result


def _moved_nics(store: Any, vm: VirtualMachine, command: AssignVirtualMachine) -> list[Any]:
    """The VM's NICs exchanged for NICs on the new owner's networks: the old addresses' claims
    given back, the new ones' taken, none saved here."""
    if command.networks is None:
        return []
    before = guest_addresses(vm)
    for network_id in {network for network, _, _ in before}:
        refuse_if_ruled(store, vm, network_id, "assign to another account")
    given_back = [
        claim
        for network, address, holder in before
        if (claim := released(store, ClaimKind.GUEST_IP, network, address, holder)) is not None
    ]
    asked = PrepareGuestNics(vm.id, command.account_id, vm.zone_id, list(command.networks))
    nics, taken = guest_nics(store, asked)
    vm.replace_nics([nic.facts() for nic in nics])
    return [*given_back, *taken]


# Results -------------------------------------------------------------------------------------


def on_vm_result(store: Any, result: WorkResult) -> Outcome:
    """An adapter's answer to the VM's request in flight; stale or repeated ones change nothing."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, UUID(result.target_id), what="virtual machine")
        if not vm.is_current(result.request_id):
            return _late(store, vm, result)
        before = Held.of(vm)
        job = _job(store, vm.job_id)
        reason = result.error or "the hypervisor did not answer"
        if result.ok:
            vm.confirm(result.request_id)
        elif result.data.get(ABANDONED):
            vm.abandon(result.request_id, reason)
        else:
            vm.fail(result.request_id, reason)
        capacity = give_back(store, before, vm, ok=result.ok)
        _finish_job(job, vm, before.action, reason if not result.ok else None)
        host = _evacuated(store, before, vm, reason if not result.ok else None)
        disks = (
            settle_moves(store, owned_volumes(store, vm.id), result.request_id, result.ok, reason)
            if before.action == "migrate"
            else []
        )
        return _saved(store, vm, capacity, job, host, *disks)

    outcome: Outcome = store.run(attempt)
    return outcome


def _evacuated(store: Any, before: Held, vm: VirtualMachine, error: str | None) -> Host | None:
    """A migration answered: the host it left (or did not), if its maintenance waits for it."""
    if before.action != "migrate":
        return None
    return machine_left(store, before.host_id, vm.id, error)


def _late(store: Any, vm: VirtualMachine, result: WorkResult) -> Outcome:
    """A late answer to a request given up on that its host did after all is not dropped: a
    stop is recorded (with its room given back) while the VM is as the sweeper left it, a
    start is undone. Any other late or repeated answer changes nothing."""
    if not result.ok:
        return Outcome(0, vm.id)
    before = Held.of(vm)
    if vm.stopped_late(result.request_id):
        return _saved(store, vm, give_back(store, before, vm, ok=True))
    return _undo_if_stray(store, vm, result)


def _undo_if_stray(store: Any, vm: VirtualMachine, result: WorkResult) -> Outcome:
    """A late answer to a start given up on, saying the VM runs on that host after all: the
    host is asked to stop it (as CloudStack cleans up after a failed start), so the hypervisor
    agrees with what the cloud and its user were told, and no room is used that nothing holds."""
    host_id = vm.stray_host(result.request_id)
    host = _host_if_kept(store, host_id) if host_id is not None else None
    if host is None:
        return Outcome(0, vm.id)
    # Whatever state the cloud gives the host now: an adapter just reached it.
    access = HostAccess(host.id, host.url, host.username, host.password, host.hypervisor)
    vm.request_stray_stop(request_id(), result.request_id, access)
    return Outcome(store.last_position(store.save(vm)), vm.id)


def _host_if_kept(store: Any, host_id: UUID) -> Host | None:
    """The host, unless it left the cloud (it then keeps nothing running for us)."""
    try:
        host: Host = store.get(Host, host_id, what="host")
    except NotFound:
        return None
    return None if host.removed or not host.managed else host


_FAILED = {
    "start": "Unable to start",
    "stop": "Unable to stop",
    "reboot": "Unable to reboot",
    "destroy": "Unable to destroy",
    "expunge": "Unable to expunge",
    "scale": "Unable to scale",
    "attach_iso": "Unable to attach the ISO to",
    "detach_iso": "Unable to detach the ISO from",
    "restore": "Unable to restore",
    "migrate": "Unable to migrate",
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
    for action in (
        "start_vm",
        "stop_vm",
        "reboot_vm",
        "destroy_vm",
        "scale_vm",
        "attach_iso",
        "detach_iso",
        "restore_vm",
        "migrate_vm",
    )
}
