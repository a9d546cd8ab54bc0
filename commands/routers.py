"""Commands on virtual routers: a router per network, template upgrades a bounded number at a
time, refusing network changes while a router upgrades, and what service checks find.

A router is a `SystemVm` with role VIRTUAL_ROUTER (commands.system_vms runs its lifecycle).
Its id derives from its network (domain.router.router_id_for), so "does this network have a
router" is answered by the event store, not by a read model that may lag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome
from commands.offerings import seed_id
from commands.placement import RESERVATION_ATTEMPTS, Candidate
from commands.system_vms import RESULT_HANDLERS as SYSTEM_VM_RESULT_HANDLERS
from commands.system_vms import (
    CreateSystemVm,
    host_access,
    new_system_vm,
    on_system_vm_result,
    place_and_start,
    request_id,
)
from domain.alert import DEFAULT_TYPES, Alert
from domain.compute import Compute
from domain.errors import DomainError, NotFound, ResourceUnavailable
from domain.job import Job, JobStatus
from domain.network import Network
from domain.network_offering import NetworkOffering
from domain.offering import ServiceOffering
from domain.router import (
    DEFAULT_NETWORK_SERVICES,
    RouterUpgrade,
    monitored_daemons,
    router_id_for,
    trim_version,
)
from domain.system_vm import Role, State, SystemVm
from domain.vpc import Vpc
from domain.vpc_offering import VpcOffering
from stratus.messages import WorkResult
from stratus.store.audit import acting

ROUTER_ALERT = 9  # ALERT.SERVICE.DOMAINROUTER
ROUTER_OFFERING = "System Offering For Software Router"
ROUTER_DISK_GB = 0  # an appliance boots its template image: no root volume of its own
JOB_CLASS = "com.cloud.network.router.VirtualNetworkApplianceManager"
UPGRADE_CLASS = "org.apache.cloudstack.api.command.admin.router.RebootRouterCmd"


def router_alert(router: SystemVm, description: str) -> Alert:
    name = DEFAULT_TYPES[ROUTER_ALERT]
    return Alert(ROUTER_ALERT, name, description, router.zone_id, router.pod_id, router.id)


# A router per network -----------------------------------------------------------------------


@dataclass(frozen=True)
class EnsureNetworkRouter:
    """What the networks part knows when a network needs its router: plain values, plus the
    template (`router.template.<hypervisor>` of the zone) and the hosts that may run it."""

    network_id: UUID
    zone_id: UUID
    account_id: UUID
    domain_id: UUID
    hypervisor: str
    template_id: UUID
    candidates: Sequence[Candidate]
    network_services: tuple[str, ...] = DEFAULT_NETWORK_SERVICES
    vpc_id: UUID | None = None
    user_id: UUID | None = None


@dataclass(frozen=True)
class EnsuredRouter:
    position: int
    router_id: UUID
    job_id: UUID | None  # the job starting it; None when it was already running or starting
    created: bool


def current_router(store: Any, network_id: UUID) -> SystemVm | None:
    """The network's router that is not destroyed, following the chain of successors."""
    router_id = router_id_for(network_id)
    while True:
        try:
            router: SystemVm = store.get(SystemVm, router_id, what="router")
        except NotFound:
            return None
        if router.state != State.DESTROYED:
            return router
        router_id = router_id_for(network_id, after=router.id)


def free_router_id(store: Any, network_id: UUID) -> UUID:
    """The id a new appliance keyed by `network_id` takes: the first of the chain unused."""
    router_id = router_id_for(network_id)
    while True:
        try:
            router = store.get(SystemVm, router_id, what="router")
        except NotFound:
            return router_id
        router_id = router_id_for(network_id, after=router.id)


def ensure_network_router(store: Any, command: EnsureNetworkRouter) -> EnsuredRouter:
    """Create and start the network's router when it has none, start it when it is stopped,
    and leave it alone when it runs (or is starting)."""

    def attempt() -> EnsuredRouter:
        router = current_router(store, command.network_id)
        if router is not None and router.state in (State.RUNNING, State.STARTING):
            return EnsuredRouter(0, router.id, None, False)
        created = router is None
        if router is None:
            router = _new_router(store, command)
        job = _start_job(store, command, router)
        outcome = place_and_start(store, router, command.candidates, job.id, job)
        return EnsuredRouter(outcome.position, router.id, job.id, created)

    result: EnsuredRouter = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return result


def router_compute(
    store: Any, template_id: UUID, hypervisor: str, offering_id: UUID | None = None
) -> Compute:
    """The shape of a router (and of an internal load balancer VM): its system offering's
    (`offering_id`, else the default one), booting `template_id`."""
    chosen = offering_id or seed_id("service", ROUTER_OFFERING)
    offering = store.get(ServiceOffering, chosen, what="offering")
    terms = offering.terms
    return Compute(
        offering.id,
        terms.cpu_number,
        terms.cpu_speed,
        terms.memory,
        False,
        template_id,
        hypervisor,
        ROUTER_DISK_GB,
    )


def _network_router_offering(store: Any, command: EnsureNetworkRouter) -> UUID | None:
    """The system offering the network's offering (a VPC's: its VPC offering) names for its
    routers; a router whose network, VPC or offering is not recorded starts with the default."""
    owner = _recorded(store, command.vpc_id or command.network_id)
    if not isinstance(owner, Vpc | Network):
        return None
    offering = _recorded(store, owner.offering_id)
    if isinstance(offering, NetworkOffering | VpcOffering):
        return offering.router_offering_id
    return None


def _recorded(store: Any, aggregate_id: UUID | None) -> Any:
    """The aggregate, if the log holds it."""
    if aggregate_id is None:
        return None
    try:
        return store.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None


def _new_router(store: Any, command: EnsureNetworkRouter) -> SystemVm:
    chosen = _network_router_offering(store, command)
    compute = router_compute(store, command.template_id, command.hypervisor, chosen)
    router_id = free_router_id(store, command.network_id)
    return new_system_vm(
        CreateSystemVm(
            router_id,
            Role.ROUTER,
            f"r-{router_id.hex[:12]}-VM",
            command.zone_id,
            command.account_id,
            command.domain_id,
            compute,
            # A VPC's router is keyed by the VPC (`network_id` is the VPC's id): its tiers
            # are the VPC's, not networks of its own.
            network_ids=(command.network_id,) if command.vpc_id is None else (),
            vpc_id=command.vpc_id,
            services=monitored_daemons(command.network_services),
        )
    )


def _start_job(store: Any, command: EnsureNetworkRouter, router: SystemVm) -> Job:
    """The router's own ROUTER.START job: a caller (a VM deploy, say) may wait for it, but its
    result is the router's, never the caller's job's."""
    return Job(
        JOB_CLASS,
        command.account_id,
        command.user_id or command.account_id,
        "DomainRouter",
        router.id,
        "ROUTER.START",
        f"Starting router {router.name}",
        "hypervisor",
    )


def refuse_if_upgrading(store: Any, network_ids: Sequence[UUID], what: str = "") -> None:
    """Refuse (534) a command that would launch or change services in these networks while a
    router of one of them is being upgraded; the router would miss the change."""
    for network_id in network_ids:
        router = current_router(store, network_id)
        if router is not None and router.upgrading:
            action = what or "change the services of this network"
            raise ResourceUnavailable(
                f"Unable to {action}: router {router.name} of network {network_id} is being "
                "upgraded to a new template. Try again when the upgrade is done."
            )


# Template upgrades -------------------------------------------------------------------------


@dataclass(frozen=True)
class UpgradeTarget:
    router_id: UUID
    template_id: UUID
    template_name: str


@dataclass(frozen=True)
class UpgradeRouters:
    targets: Sequence[UpgradeTarget]
    parallelism: int
    account_id: UUID
    user_id: UUID


@dataclass(frozen=True)
class UpgradePlanned:
    position: int
    upgrade_id: UUID | None
    job_ids: list[UUID]


def upgrade_routers(store: Any, command: UpgradeRouters) -> UpgradePlanned:
    """Give every router its own reboot job, line them up in `parallelism` lanes, and start
    the first router of every lane."""
    if not command.targets:
        return UpgradePlanned(0, None, [])

    def plan() -> tuple[RouterUpgrade, list[Job]]:
        jobs = [_upgrade_job(store, command, t.router_id) for t in command.targets]
        chosen = [store.get(SystemVm, t.router_id, what="router") for t in command.targets]
        refused = {r.id for r, job in zip(chosen, jobs, strict=True) if not _can_wait(r, job)}
        turns = tuple(
            (t.router_id, job.id, t.template_id, t.template_name)
            for t, job in zip(command.targets, jobs, strict=True)
            if t.router_id not in refused
        )
        upgrade = RouterUpgrade(turns, command.parallelism)
        by_id = {router.id: router for router in chosen}
        for index, turn in enumerate(upgrade.turns()):
            by_id[turn.router_id].schedule_upgrade(turn, upgrade.next_in_lane(index))
        store.save(upgrade, *jobs, *chosen)
        return upgrade, jobs

    upgrade, jobs = store.run(plan)
    position = 0
    for head in upgrade.heads:
        outcome = store.run(partial(_start_lane, store, head))
        position = max(position, outcome.position)
    return UpgradePlanned(position, upgrade.id, [job.id for job in jobs])


def _can_wait(router: SystemVm, job: Job) -> bool:
    """Whether the router may wait in an upgrade; when not, its job fails with the reason."""
    if router.state == State.RUNNING and router.pending is None and not router.upgrading:
        return True
    job.fail("InvalidState", f"Unable to upgrade router {router.name} in state {router.state}")
    return False


def _upgrade_job(store: Any, command: UpgradeRouters, router_id: UUID) -> Job:
    router = store.get(SystemVm, router_id, what="router")
    return Job(
        UPGRADE_CLASS,
        command.account_id,
        command.user_id,
        "DomainRouter",
        router_id,
        "ROUTER.UPGRADE",
        f"Upgrading router {router.name} to a new template",
        "hypervisor",
    )


def _start_lane(store: Any, router_id: UUID) -> Outcome:
    changed = _launch(store, router_id)
    return Outcome(store.last_position(store.save(*changed)), router_id)


def _launch(store: Any, router_id: UUID | None) -> list[Any]:
    """Ask the host of the lane's next router to reboot it onto the new template; a router
    that cannot go (stopped meanwhile, host down, job ended) is passed over, its job failed,
    and the one after it goes instead."""
    changed: list[Any] = []
    while router_id is not None:
        router = store.get(SystemVm, router_id, what="router")
        job = store.get(Job, router.upgrade_job_id, what="job") if router.upgrade_job_id else None
        changed += [router, job] if job is not None else [router]
        try:
            if job is None or job.status != JobStatus.PENDING:
                raise ResourceUnavailable(f"The upgrade job of router {router.name} has ended")
            if router.host_id is None or not router.upgrading:
                raise ResourceUnavailable(f"Router {router.name} is not running any more")
            router.request_upgrade(request_id(), host_access(store, router.host_id)[0])
            return changed
        except DomainError as error:
            router.abandon_upgrade(error.message)
            if job is not None and job.status == JobStatus.PENDING:
                job.fail(type(error).__name__, f"Unable to upgrade router {router.name}: {error}")
            router_id = router.next_in_lane
    return changed


def after_upgrade(
    store: Any, router: SystemVm, action: str | None, ok: bool, reason: str
) -> list[Any]:
    """An upgrade's result starts the next router of its lane; a failure raises an alert."""
    if action != "upgrade":
        return []
    changed = _launch(store, router.next_in_lane)
    if not ok:
        changed.append(
            router_alert(
                router,
                f"Upgrade of router {router.name} to a new template failed; it keeps running "
                f"its old template: {reason}",
            )
        )
    return changed


# Service monitoring ------------------------------------------------------------------------


def on_router_check(store: Any, result: WorkResult) -> Outcome:
    """What a service check found: restarts and recoveries are recorded, a service that did
    not come back raises one type 9 alert until it recovers."""
    if not result.ok:
        return Outcome(0)

    def attempt() -> Outcome:
        router = store.get(SystemVm, UUID(result.target_id), what="router")
        if str(router.host_id) != str(result.data.get("host_id")):
            return Outcome(0, router.id)  # a check of an earlier run: it no longer tells
        statuses = {str(k): str(v) for k, v in dict(result.data.get("services", {})).items()}
        version = result.data.get("version")
        failed = router.services_checked(statuses, trim_version(str(version)) if version else None)
        alerts = [
            router_alert(
                router,
                f"Monitoring Service on VR {router.name}: service {service} is down and could "
                "not be restarted",
            )
            for service in failed
        ]
        if not router.pending_events:
            return Outcome(0, router.id)
        # Recorded for the router's owner, so listEvents shows it to them and their admins.
        owner = {"account_id": str(router.account_id), "domain_id": str(router.domain_id)}
        with acting(**owner):
            return Outcome(store.last_position(store.save(router, *alerts)), router.id)

    outcome: Outcome = store.run(attempt)
    return outcome


RESULT_HANDLERS: dict[str, Callable[[Any, WorkResult], Outcome]] = {
    "upgrade_router": partial(on_system_vm_result, after=after_upgrade),
    "check_router": on_router_check,
}


# Requests nobody answered -----------------------------------------------------------------

ACTIONS = {  # the action an appliance's pending work was sent as
    "start": "start_system_vm",
    "stop": "stop_system_vm",
    "reboot": "reboot_system_vm",
    "destroy": "destroy_system_vm",
    "upgrade": "upgrade_router",
    "scale": "scale_system_vm",
    "migrate": "migrate_system_vm",
}


def give_up(store: Any, vm_id: UUID) -> Outcome:
    """An appliance whose job ended while it still waits (the stuck-job sweeper failed it:
    no adapter answered) fails its request as a failed result would: it goes back to its
    state before, gives back its room, and an upgrade queue moves on."""
    vm = store.get(SystemVm, vm_id, what="system vm")
    job = store.get(Job, vm.job_id, what="job") if vm.job_id else None
    if vm.pending is None or vm.request_id is None or job is None:
        return Outcome(0, vm.id)
    if job.status == JobStatus.PENDING:
        return Outcome(0, vm.id)
    reason = str((job.result or {}).get("message", "the job ended without an answer"))
    action = ACTIONS[vm.pending]
    failed = WorkResult(vm.request_id, "", action, str(vm.id), False, {}, reason)
    handler = RESULT_HANDLERS.get(action) or SYSTEM_VM_RESULT_HANDLERS[action]
    return handler(store, failed)
