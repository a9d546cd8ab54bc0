"""Commands on system appliances (routers, secondary storage VMs, console proxies) and the
handler that turns adapter results into their outcome.

The lifecycle is the VM one: placement holds room on a host (commands.placement) under a
reservation id of the request, the appliance records `<Action>Requested`, the outbox relay sends
it to the host's adapter, and the result confirms or fails the request in flight, finishes the
job and gives back the room in the same save. Router upgrades ride on the same result handler
(commands.routers adds what happens to the upgrade queue).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.hosts import machine_left
from commands.placement import RESERVATION_ATTEMPTS, Candidate, Reserve, hold_room
from commands.scaling import Held, give_back, hold_growth
from commands.volume_placement import scope_pools
from domain.compute import Compute
from domain.errors import InsufficientCapacity, InvalidState, NotFound
from domain.host import Host, HostState
from domain.job import Job, JobStatus
from domain.router import trim_version
from domain.system_vm import Placement, Role, State, SystemVm
from domain.vm import HostAccess
from stratus.messages import WorkResult

# Extra work saved with a result (the upgrade queue's next turn, an alert): given the store,
# the appliance, the action that finished, whether it worked and why not.
AfterResult = Callable[[Any, SystemVm, str | None, bool, str], list[Any]]


def request_id() -> str:
    return uuid.uuid4().hex


def appliance_result(appliance: SystemVm) -> dict[str, Any]:
    """What an appliance job's result names: the API renders it from this."""
    kinds = {
        Role.ROUTER: "router",
        Role.INTERNAL_LB: "internalloadbalancervm",
        Role.SERVICE: "serviceinstance",
    }
    return {"object": kinds.get(appliance.role, "systemvm"), "id": str(appliance.id)}


def host_access(store: Any, host_id: UUID) -> tuple[HostAccess, Host]:
    """How to reach a host; refused when it is gone or not Up."""
    host = store.get(Host, host_id, what="host")
    if host.removed or not host.managed:
        raise InvalidState(f"Host {host.name} cannot run system VMs")
    if host.state != HostState.UP:
        raise InvalidState(f"Host {host.name} is {host.state}: it cannot act on system VMs")
    return HostAccess(host.id, host.url, host.username, host.password, host.hypervisor), host


def _job(store: Any, job_id: UUID | None) -> Job | None:
    return store.get(Job, job_id, what="job") if job_id else None


def _reservation(vm_id: UUID, request: str) -> str:
    return f"systemvm:{vm_id}:{request}"


def _saved(store: Any, *aggregates: Any) -> Outcome:
    present = [a for a in aggregates if a is not None]
    return Outcome(store.last_position(store.save(*present)), present[0].id)


# Create and start ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateSystemVm:
    vm_id: UUID
    role: str
    instance_name: str
    zone_id: UUID
    account_id: UUID
    domain_id: UUID
    compute: Compute
    candidates: Sequence[Candidate] = ()
    network_ids: tuple[UUID, ...] = ()
    vpc_id: UUID | None = None
    services: tuple[str, ...] = ()
    job_id: UUID | None = None
    guest_ip: str = ""
    display_name: str = ""


def new_system_vm(command: CreateSystemVm) -> SystemVm:
    return SystemVm(
        command.vm_id,
        command.role,
        command.instance_name,
        command.zone_id,
        command.account_id,
        command.domain_id,
        command.compute.facts(),
        network_ids=command.network_ids,
        vpc_id=command.vpc_id,
        services=command.services,
        guest_ip=command.guest_ip,
        display_name=command.display_name,
    )


def create_system_vm(store: Any, command: CreateSystemVm) -> Outcome:
    """Record the appliance, then place and start it; with no room it stays in Error."""

    def attempt() -> Outcome:
        return place_and_start(store, new_system_vm(command), command.candidates, command.job_id)

    result: Outcome = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return result


def place_and_start(
    store: Any, vm: SystemVm, candidates: Sequence[Candidate], job_id: UUID | None, *also: Any
) -> Outcome:
    """Hold room on the first candidate that fits and ask its host to run `vm`: the room, the
    request and `also` are one commit (run it in an attempt: a conflict means look again)."""
    return _saved(store, vm, *placed(store, vm, candidates, job_id), *also)


def placed(
    store: Any,
    vm: SystemVm,
    candidates: Sequence[Candidate],
    job_id: UUID | None,
    *,
    refuse: bool = False,
) -> list[Any]:
    """Ask the first candidate with room to run `vm` (nothing saved): what to save beside
    `vm`, the room held. When nothing fits, `vm` records it and its job fails, or with
    `refuse` the error is raised (533) and nothing is to be saved."""
    vm.check_startable()
    request = request_id()
    reservation = _reservation(vm.id, request)
    kind = {Role.ROUTER: "DomainRouter", Role.INTERNAL_LB: "InternalLoadBalancerVm"}.get(
        vm.role, "SystemVm"
    )
    room = Reserve(
        reservation, vm.compute.cpu_mhz, vm.compute.memory, candidates, f"VM[{kind}|{vm.name}]"
    )
    try:
        capacity = hold_room(store, room)
    except InsufficientCapacity as error:
        if refuse:
            raise
        vm.placement_failed(error.message)
        job = _job(store, job_id)
        if job is not None:
            job.fail("InsufficientCapacity", error.message)
        return [job]
    access, host = host_access(store, capacity.host_id)
    placement = Placement(access, host.pod_id, host.cluster_id)
    vm.place_root(_root_pool(store, vm, host))
    vm.request_start(request, job_id, placement, reservation)
    return [capacity]


def _root_pool(store: Any, vm: SystemVm, host: Host) -> UUID | None:
    """The pool an appliance's root disk lives on when it starts on `host`: the one it is on
    while the host reaches it, else the Up pool of the host's scope with the most room (none:
    the host's own storage). Stratus makes no volume for it, so the pool's bytes are not
    counted."""
    pools = [pool for pool in scope_pools(store, host) if pool.takes(0, (), 1.0)]
    if any(pool.id == vm.root_pool_id for pool in pools):
        return vm.root_pool_id
    if not pools:
        return None
    return max(pools, key=lambda pool: pool.total_bytes - pool.allocated_bytes).id


def start_system_vm(
    store: Any, vm_id: UUID, candidates: Sequence[Candidate], job_id: UUID | None
) -> Outcome:
    """Place a stopped appliance (533 when nothing fits) and ask the chosen host to run it."""

    def attempt() -> Outcome:
        vm = store.get(SystemVm, vm_id, what="system vm")
        return place_and_start(store, vm, candidates, job_id)

    result: Outcome = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return result


# Work on the current host --------------------------------------------------------------------


def _on_host(
    store: Any, vm_id: UUID, mutate: Callable[[SystemVm, str, HostAccess], Any]
) -> Outcome:
    def attempt() -> Outcome:
        vm = store.get(SystemVm, vm_id, what="system vm")
        if vm.host_id is None:
            raise InvalidState(f"The {vm.label} {vm.name} is not running on any host")
        mutate(vm, request_id(), host_access(store, vm.host_id)[0])
        return _saved(store, vm)

    result: Outcome = store.run(attempt)
    return result


def stop_system_vm(store: Any, vm_id: UUID, job_id: UUID | None, *, forced: bool) -> Outcome:
    return _on_host(
        store, vm_id, lambda vm, req, access: vm.request_stop(req, job_id, access, forced)
    )


def reboot_system_vm(store: Any, vm_id: UUID, job_id: UUID | None) -> Outcome:
    return _on_host(store, vm_id, lambda vm, req, access: vm.request_reboot(req, job_id, access))


def destroy_system_vm(store: Any, vm_id: UUID, job_id: UUID | None) -> Outcome:
    """Destroy; when no host has to act (stopped, or its host left) the job is done at once."""

    def attempt() -> Outcome:
        vm = store.get(SystemVm, vm_id, what="system vm")
        access = live_access(store, vm.host_id)
        if vm.destroy(request_id(), job_id, access):
            return _saved(store, vm)
        return _saved(store, vm, _succeeded(store, job_id, vm))

    result: Outcome = store.run(attempt)
    return result


def _succeeded(store: Any, job_id: UUID | None, vm: SystemVm) -> Job | None:
    """The job of work that needed no host is done at once."""
    job = _job(store, job_id)
    if job is not None and job.status == JobStatus.PENDING:
        job.succeed(appliance_result(vm))
    return job


def live_access(store: Any, host_id: UUID | None) -> HostAccess | None:
    """How to reach the host, or None when it is gone (nothing there to act on)."""
    if host_id is None:
        return None
    try:
        host = store.get(Host, host_id, what="host")
    except NotFound:
        return None
    return None if host.removed else host_access(store, host_id)[0]


def change_compute(store: Any, vm_id: UUID, compute: Compute) -> Outcome:
    """A stopped appliance takes a new system offering (and custom values) at once."""

    def attempt() -> Outcome:
        vm = store.get(SystemVm, vm_id, what="system vm")
        vm.change_compute(compute)
        return _saved(store, vm)

    result: Outcome = store.run(attempt)
    return result


def scale_system_vm(store: Any, vm_id: UUID, compute: Compute, job_id: UUID | None) -> Outcome:
    """A stopped appliance changes at once; a running one holds any extra room on its host and
    asks the host to resize it (only where the hypervisor resizes running guests)."""

    def attempt() -> Outcome:
        vm = store.get(SystemVm, vm_id, what="system vm")
        if vm.state != State.RUNNING or vm.host_id is None:
            vm.change_compute(compute)
            return _saved(store, vm, _succeeded(store, job_id, vm))
        request = request_id()
        extra = _reservation(vm.id, request)
        access = host_access(store, vm.host_id)[0]
        vm.request_scale(request, job_id, access, compute, extra)
        capacity = hold_growth(store, vm.host_id, extra, vm.compute, compute)
        return _saved(store, vm, capacity)

    result: Outcome = store.run(attempt)
    return result


# Results -------------------------------------------------------------------------------------


def on_system_vm_result(
    store: Any, result: WorkResult, after: AfterResult | None = None
) -> Outcome:
    """An adapter's answer to the appliance's request in flight; stale ones change nothing."""

    def attempt() -> Outcome:
        vm = store.get(SystemVm, UUID(result.target_id), what="system vm")
        if not vm.is_current(result.request_id):
            return Outcome(0, vm.id)
        before = Held.of(vm)
        job = _job(store, vm.job_id)
        reason = result.error or "the hypervisor did not answer"
        if result.ok:
            vm.confirm(result.request_id, _version(result.data))
        else:
            vm.fail(result.request_id, reason)
        capacity = give_back(store, before, vm, ok=result.ok)
        _finish_job(job, vm, before.action, None if result.ok else reason)
        extra = after(store, vm, before.action, result.ok, reason) if after is not None else []
        if before.action == "migrate":  # the host it left, if its maintenance waits for it
            extra.append(machine_left(store, before.host_id, vm.id, None if result.ok else reason))
        return _saved(store, vm, capacity, job, *extra)

    outcome: Outcome = store.run(attempt)
    return outcome


def _version(data: dict[str, Any]) -> str | None:
    """The version in what the appliance reported ("Cloudstack Release 4.3.0 …" or "4.3.0")."""
    version = data.get("version")
    return trim_version(str(version)) if version else None


_FAILED = {
    "start": "Unable to start",
    "stop": "Unable to stop",
    "reboot": "Unable to reboot",
    "destroy": "Unable to destroy",
    "upgrade": "Unable to upgrade",
    "scale": "Unable to scale",
    "migrate": "Unable to migrate",
}


def _finish_job(job: Job | None, vm: SystemVm, action: str | None, error: str | None) -> None:
    if job is None or job.status != JobStatus.PENDING:
        return
    if error is None:
        job.succeed(appliance_result(vm))
    else:
        verb = _FAILED.get(action or "", "Unable to act on")
        job.fail("ResourceUnavailable", f"{verb} {vm.label} {vm.name}: {error}")


RESULT_HANDLERS = {
    action: on_system_vm_result
    for action in (
        "start_system_vm",
        "stop_system_vm",
        "reboot_system_vm",
        "destroy_system_vm",
        "scale_system_vm",
        "migrate_system_vm",
    )
}


# Outbox routes -------------------------------------------------------------------------------


def system_vm_routes(box: Any, prefix: str) -> dict[str, Any]:
    """Appliance requests: each names the appliance by its instance name on the host."""
    from eventsourcing.utils import get_topic

    from stratus.messages import WorkRequest, seal_credentials
    from stratus.outbox import Outgoing, origin, work

    def outgoing(e: Any, action: str, params: dict[str, Any]) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=action,
            target_id=str(e.originator_id),
            params={"host_id": str(e.host_id), "name": e.instance_name, **params},
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    def shape(compute: dict[str, Any]) -> dict[str, Any]:
        # The appliance boots its template's image: Stratus makes no root volume for it.
        return {
            "cpu_number": compute["cpu_number"],
            "cpu_speed_mhz": compute["cpu_speed"],
            "memory_mb": compute["memory"],
            "template": str(compute["template_id"]),
        }

    def scale(e: Any) -> Outgoing:
        sizes = {"cpu_number": e.compute["cpu_number"], "memory_mb": e.compute["memory"]}
        return outgoing(e, "scale_system_vm", sizes)

    def upgrade(e: Any) -> Outgoing:
        params = {**shape(e.compute), "old_template": str(e.previous_template_id)}
        return outgoing(e, "upgrade_router", params)

    vm: Any = SystemVm  # events made by the library's decorator: mypy cannot see them
    return {
        get_topic(vm.StartRequested): lambda e: outgoing(e, "start_system_vm", shape(e.compute)),
        get_topic(vm.StopRequested): lambda e: outgoing(e, "stop_system_vm", {"forced": e.forced}),
        get_topic(vm.RebootRequested): lambda e: outgoing(e, "reboot_system_vm", {}),
        get_topic(vm.DestroyRequested): lambda e: outgoing(e, "destroy_system_vm", {}),
        get_topic(vm.UpgradeRequested): upgrade,
        get_topic(vm.ScaleRequested): scale,
    }


OUTBOX_ROUTES = system_vm_routes
