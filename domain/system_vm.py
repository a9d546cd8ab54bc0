"""SystemVm: an appliance Stratus runs for the cloud itself — a virtual router, an internal
load balancer VM, a secondary storage VM or a console proxy, told apart by `role`.

All three share one lifecycle, so they share one aggregate: hypervisor work is *requested* (an
event naming the request, the host, its sealed credentials and the job) and confirmed or failed
by the adapter's result, exactly as for guest VMs; only the result of the request in flight
counts. Routers add what only they use (networks, the template upgrade, service monitoring);
those parts are inert for the other roles.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.compute import Compute, check_live_scaling
from domain.errors import InvalidParameter, InvalidState
from domain.router import UpgradeTurn
from domain.values import Secret
from domain.vm import HostAccess, Placement, host_request, migration_target


class Role:
    ROUTER = "VIRTUAL_ROUTER"
    INTERNAL_LB = "INTERNAL_LB_VM"  # balances a VPC tier's internal load balancers of one address
    STORAGE = "secondarystoragevm"
    CONSOLE = "consoleproxy"
    SERVICE = "serviceinstance"  # network services between two networks (createServiceInstance)


SYSTEM_VM_ROLES = (Role.STORAGE, Role.CONSOLE)
OFFERING_TYPE = {
    Role.ROUTER: "domainrouter",
    Role.INTERNAL_LB: "internalloadbalancervm",
    Role.STORAGE: Role.STORAGE,
    Role.CONSOLE: Role.CONSOLE,
}


class State:
    STOPPED = "Stopped"
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    DESTROYED = "Destroyed"
    ERROR = "Error"


class SystemVm(Aggregate):
    """A system appliance; at most one hypervisor request is in flight, and only its result
    counts."""

    @event("Created")
    def __init__(
        self,
        id: UUID,  # chosen by the caller (a router's derives from its network)
        role: str,
        instance_name: str,
        zone_id: UUID,
        owner_account_id: UUID,
        owner_domain_id: UUID,
        compute: dict[str, Any],
        network_ids: tuple[UUID, ...] = (),
        vpc_id: UUID | None = None,
        services: tuple[str, ...] = (),
        guest_ip: str = "",  # an internal load balancer VM's address on its tier
        display_name: str = "",
    ) -> None:
        if role not in (Role.ROUTER, Role.INTERNAL_LB, Role.SERVICE, *SYSTEM_VM_ROLES):
            raise InvalidParameter(f"Unknown system VM role {role}")
        self.role, self.name, self.instance_name = role, instance_name, instance_name
        self.display_name = display_name or instance_name
        self.zone_id = zone_id
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self.compute = Compute.from_facts(compute)
        self.network_ids, self.vpc_id = tuple(network_ids), vpc_id
        self.services = tuple(services)  # monitored daemons (routers only)
        self.guest_ip = guest_ip
        self.failed_services: set[str] = set()  # alerted and not recovered since
        self.state = State.STOPPED
        self.release: str | None = None  # the version the appliance reports; None is UNKNOWN
        self.host_id: UUID | None = None
        self.last_host_id: UUID | None = None
        self.pod_id: UUID | None = None
        self.cluster_id: UUID | None = None
        self.root_pool_id: UUID | None = None  # None: on its host's own storage
        self.ever_started = False
        self.reservation: str | None = None
        self.pending: str | None = None
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.state_before = State.STOPPED
        self.upgrade_id: UUID | None = None  # the upgrade this router waits in, if any
        self.last_upgrade_id: UUID | None = None  # the latest one, kept after it is over
        self.upgrade_job_id: UUID | None = None
        self.upgrade_template: tuple[UUID, str] | None = None
        self.next_in_lane: UUID | None = None  # the router whose turn follows this one's
        self.pending_compute: Compute | None = None
        self.scale_reservation: str | None = None  # extra room held while a scale is in flight

    # Checks -------------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return {Role.ROUTER: "router", Role.INTERNAL_LB: "internal lb vm"}.get(
            self.role, "system vm"
        )

    @property
    def upgrading(self) -> bool:
        """Scheduled for an upgrade or being upgraded: its networks must not change meanwhile."""
        return self.upgrade_id is not None

    def _check_state(self, what: str, *allowed: str) -> None:
        if self.pending is not None:
            raise InvalidState(
                f"{self.label.capitalize()} {self.name} is busy ({self.pending} in progress); "
                f"try to {what} it again when that is done"
            )
        if self.state not in allowed:
            raise InvalidState(f"Unable to {what} {self.label} {self.name} in state {self.state}")

    def is_current(self, request_id: str) -> bool:
        """Results of an older or already answered request must change nothing."""
        return request_id == self.request_id

    @property
    def placed_host(self) -> UUID | None:
        return self.host_id or self.last_host_id

    # Start --------------------------------------------------------------------------------

    def check_startable(self) -> None:
        self._check_state("start", State.STOPPED, State.ERROR)

    def place_root(self, pool_id: UUID | None) -> None:
        """Where the appliance's root disk lives from the start being asked for on: a primary
        storage pool of its host's scope, or None for the host's own storage."""
        if pool_id != self.root_pool_id:
            self._root_placed(pool_id=pool_id)

    @event("RootDiskPlaced")
    def _root_placed(self, pool_id: UUID | None) -> None:
        self.root_pool_id = pool_id

    def request_start(
        self, request_id: str, job_id: UUID | None, place: Placement, reservation: str
    ) -> None:
        """Ask `place`'s host to run the appliance; `reservation` holds its room there."""
        self.check_startable()
        self._start_requested(
            **host_request(request_id, job_id, place.access, self.instance_name),
            pod_id=place.pod_id,
            cluster_id=place.cluster_id,
            reservation=reservation,
            compute=self.compute.facts(),
        )

    @event("StartRequested")
    def _start_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        pod_id: UUID | None,
        cluster_id: UUID | None,
        reservation: str,
        compute: dict[str, Any],
    ) -> None:
        self._pend("start", request_id, job_id, State.STARTING)
        self.host_id, self.reservation = host_id, reservation
        self.pod_id, self.cluster_id = pod_id, cluster_id

    def placement_failed(self, reason: str) -> None:
        self._placement_failed(
            reason=reason, state=State.STOPPED if self.ever_started else State.ERROR
        )

    @event("PlacementFailed")
    def _placement_failed(self, reason: str, state: str) -> None:
        self.state = state

    # Stop, reboot, destroy ----------------------------------------------------------------

    def request_stop(
        self, request_id: str, job_id: UUID | None, access: HostAccess, forced: bool
    ) -> None:
        self._check_state("stop", State.RUNNING)
        self._stop_requested(
            **host_request(request_id, job_id, access, self.instance_name), forced=forced
        )

    @event("StopRequested")
    def _stop_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        forced: bool,
    ) -> None:
        self._pend("stop", request_id, job_id, State.STOPPING)

    def request_reboot(self, request_id: str, job_id: UUID | None, access: HostAccess) -> None:
        self._check_state("reboot", State.RUNNING)
        self._reboot_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            template_id=self.compute.template_id,
        )

    @event("RebootRequested")
    def _reboot_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        template_id: UUID,
    ) -> None:
        self._pend("reboot", request_id, job_id, State.RUNNING)

    def destroy(self, request_id: str, job_id: UUID | None, access: HostAccess | None) -> bool:
        """Destroy the appliance; True when its host must remove it first."""
        self._check_state("destroy", State.RUNNING, State.STOPPED, State.ERROR)
        if access is None:
            self._destroyed(request_id=None)
            return False
        self._destroy_requested(**host_request(request_id, job_id, access, self.instance_name))
        return True

    @event("DestroyRequested")
    def _destroy_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
    ) -> None:
        self._pend("destroy", request_id, job_id, State.STOPPING)

    @event("Destroyed")
    def _destroyed(self, request_id: str | None) -> None:
        self._settle(State.DESTROYED)
        self._leave_host()
        self.upgrade_id = None

    # Offering changes ---------------------------------------------------------------------

    def change_compute(self, compute: Compute) -> None:
        """A stopped appliance takes a new system offering (or custom size) at once."""
        self._check_state("change the service offering of", State.STOPPED)
        self._check_new_compute(compute)
        self._compute_changed(compute=compute.facts())

    def _check_new_compute(self, compute: Compute) -> None:
        if compute == self.compute:
            raise InvalidParameter(
                f"The {self.label} {self.name} already has the requested service offering"
            )

    @event("ComputeChanged")
    def _compute_changed(self, compute: dict[str, Any]) -> None:
        self.compute = Compute.from_facts(compute)

    def request_scale(
        self,
        request_id: str,
        job_id: UUID | None,
        access: HostAccess,
        compute: Compute,
        reservation: str,
    ) -> None:
        """Ask the host to resize the running appliance; `reservation` holds any extra room."""
        self._check_state("scale", State.RUNNING)
        self._check_new_compute(compute)
        check_live_scaling(self.compute.hypervisor)
        self._scale_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            compute=compute.facts(),
            previous=self.compute.facts(),
            scale_reservation=reservation,
        )

    @event("ScaleRequested")
    def _scale_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        compute: dict[str, Any],
        previous: dict[str, Any],
        scale_reservation: str,
    ) -> None:
        self._pend("scale", request_id, job_id, State.RUNNING)
        self.pending_compute = Compute.from_facts(compute)
        self.scale_reservation = scale_reservation

    @event("Scaled")
    def _scaled(self, request_id: str, compute: dict[str, Any]) -> None:
        self.compute = Compute.from_facts(compute)
        self._settle(State.RUNNING)

    # Template upgrade (routers) -----------------------------------------------------------

    def schedule_upgrade(self, turn: UpgradeTurn, next_router_id: UUID | None) -> None:
        """Wait in an upgrade's lane; `next_router_id` goes when this router's turn is over."""
        self._check_state("upgrade", State.RUNNING)
        if self.upgrading:
            raise InvalidState(f"Router {self.name} is already being upgraded")
        self._upgrade_scheduled(
            upgrade_id=turn.upgrade_id,
            job_id=turn.job_id,
            template_id=turn.template_id,
            template_name=turn.template_name,
            next_router_id=next_router_id,
        )

    @event("UpgradeScheduled")
    def _upgrade_scheduled(
        self,
        upgrade_id: UUID,
        job_id: UUID,
        template_id: UUID,
        template_name: str,
        next_router_id: UUID | None,
    ) -> None:
        self.upgrade_id = self.last_upgrade_id = upgrade_id
        self.upgrade_job_id, self.next_in_lane = job_id, next_router_id
        self.upgrade_template = (template_id, template_name)

    def request_upgrade(self, request_id: str, access: HostAccess) -> None:
        """Reboot onto the scheduled template; the router keeps its old one unless that works."""
        self._check_state("upgrade", State.RUNNING)
        if not self.upgrading or self.upgrade_template is None:
            raise InvalidState(f"Router {self.name} is not scheduled for an upgrade")
        template_id, name = self.upgrade_template
        upgraded = Compute.from_facts({**self.compute.facts(), "template_id": template_id})
        self._upgrade_requested(
            **host_request(request_id, self.upgrade_job_id, access, self.instance_name),
            template_id=template_id,
            template_name=name,
            previous_template_id=self.compute.template_id,
            compute=upgraded.facts(),
        )

    @event("UpgradeRequested")
    def _upgrade_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        template_id: UUID,
        template_name: str,
        previous_template_id: UUID,
        compute: dict[str, Any],
    ) -> None:
        self._pend("upgrade", request_id, job_id, State.RUNNING)
        self.pending_compute = Compute.from_facts(compute)

    def abandon_upgrade(self, reason: str) -> None:
        """The router could not take its turn (stopped, host gone): it leaves the upgrade."""
        if self.upgrading and self.pending != "upgrade":
            self._upgrade_abandoned(reason=reason)

    @event("UpgradeAbandoned")
    def _upgrade_abandoned(self, reason: str) -> None:
        self.upgrade_id = None

    # Migrate ------------------------------------------------------------------------------

    def check_migratable(self, destination_host_id: UUID) -> None:
        """Only an idle running appliance moves, and only to another host (4.3's words)."""
        if self.pending is not None:
            raise InvalidState(
                f"{self.label.capitalize()} {self.name} is busy ({self.pending} in progress); "
                "try to migrate it again when that is done"
            )
        if self.state != State.RUNNING:
            raise InvalidState(f"VM is not Running, unable to migrate the vm {self.name}")
        if destination_host_id == self.host_id:
            raise InvalidParameter(
                "Cannot migrate VM, VM is already present on this host, please specify valid "
                "destination host to migrate the VM"
            )

    def request_migrate(
        self,
        request_id: str,
        job_id: UUID | None,
        access: HostAccess,
        destination: Placement,
        reservation: str,
    ) -> None:
        """Ask the appliance's host to move it live to `destination` (its pod and cluster
        recorded too), whose room `reservation` holds meanwhile."""
        self.check_migratable(destination.access.host_id)
        self._migrate_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            **migration_target(destination.access),
            destination_pod_id=destination.pod_id,
            destination_cluster_id=destination.cluster_id,
            migration_reservation=reservation,
            compute=self.compute.facts(),
        )

    class MigrateRequested(Aggregate.Event):
        """The appliance's host is asked to move it live to the destination host."""

        request_id: str
        job_id: UUID | None
        host_id: UUID
        url: str
        username: str
        password: Secret
        hypervisor: str
        instance_name: str
        destination_host_id: UUID
        destination_url: str
        destination_username: str
        destination_password: Secret
        destination_pod_id: UUID | None
        destination_cluster_id: UUID | None
        migration_reservation: str
        compute: dict[str, Any]

    @event(MigrateRequested)
    def _migrate_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        destination_host_id: UUID,
        destination_url: str,
        destination_username: str,
        destination_password: Secret,
        destination_pod_id: UUID | None,
        destination_cluster_id: UUID | None,
        migration_reservation: str,
        compute: dict[str, Any],
    ) -> None:
        self._pend("migrate", request_id, job_id, State.RUNNING)
        self.migration: tuple[UUID, str, UUID | None, UUID | None] | None = (
            destination_host_id,
            migration_reservation,
            destination_pod_id,
            destination_cluster_id,
        )

    @property
    def migrating_to(self) -> tuple[UUID, str] | None:
        """The host a migration in flight goes to, and the room held there for it."""
        migration = getattr(self, "migration", None)  # appliances recorded before have none
        return (migration[0], migration[1]) if migration else None

    @event("Migrated")
    def _migrated(
        self,
        request_id: str,
        from_host_id: UUID,
        host_id: UUID,
        pod_id: UUID | None,
        cluster_id: UUID | None,
        reservation: str,
    ) -> None:
        self._settle(State.RUNNING)
        self.host_id, self.last_host_id, self.reservation = host_id, host_id, reservation
        self.pod_id, self.cluster_id = pod_id, cluster_id

    # Results ------------------------------------------------------------------------------

    def confirm(self, request_id: str, release: str | None) -> None:
        """The adapter did what the request in flight asked; `release` is what it reports."""
        if self.pending == "start":
            self._started(request_id=request_id, host_id=self.host_id, release=release)
        elif self.pending == "stop":
            self._stopped(request_id=request_id)
        elif self.pending == "reboot":
            self._rebooted(request_id=request_id, release=release)
        elif self.pending == "destroy":
            self._destroyed(request_id=request_id)
        elif self.pending == "upgrade" and self.pending_compute is not None:
            self._upgraded(
                request_id=request_id, compute=self.pending_compute.facts(), release=release
            )
        elif self.pending == "scale" and self.pending_compute is not None:
            self._scaled(request_id=request_id, compute=self.pending_compute.facts())
        elif self.pending == "migrate" and self.host_id:
            self._confirm_migration(request_id, self.host_id)

    def _confirm_migration(self, request_id: str, from_host_id: UUID) -> None:
        migration = getattr(self, "migration", None)
        if migration is None:
            return
        host_id, reservation, pod_id, cluster_id = migration
        self._migrated(
            request_id=request_id,
            from_host_id=from_host_id,
            host_id=host_id,
            pod_id=pod_id,
            cluster_id=cluster_id,
            reservation=reservation,
        )

    @event("Started")
    def _started(self, request_id: str, host_id: UUID | None, release: str | None) -> None:
        self._settle(State.RUNNING)
        self.ever_started, self.release = True, release
        self.failed_services = set()

    @event("Stopped")
    def _stopped(self, request_id: str) -> None:
        self._settle(State.STOPPED)
        self._leave_host()

    @event("Rebooted")
    def _rebooted(self, request_id: str, release: str | None) -> None:
        self._settle(State.RUNNING)
        self.release = release
        self.failed_services = set()

    @event("Upgraded")
    def _upgraded(self, request_id: str, compute: dict[str, Any], release: str | None) -> None:
        self.compute = Compute.from_facts(compute)
        self._settle(State.RUNNING)
        self.release, self.upgrade_id = release, None
        self.failed_services = set()

    def fail(self, request_id: str, reason: str) -> None:
        """The adapter could not do it: a first start ends in Error, anything else goes back
        (a failed upgrade leaves the router running its old template)."""
        if self.pending == "start":
            after = State.STOPPED if self.ever_started else State.ERROR
            self._start_failed(request_id=request_id, reason=reason, state=after)
        elif self.pending is not None:
            self._request_failed(
                request_id=request_id, action=self.pending, reason=reason, state=self.state_before
            )

    @event("StartFailed")
    def _start_failed(self, request_id: str, reason: str, state: str) -> None:
        self._settle(state)
        self._leave_host()

    @event("RequestFailed")
    def _request_failed(self, request_id: str, action: str, reason: str, state: str) -> None:
        self._settle(state)
        if action == "upgrade":
            self.upgrade_id = None

    # Service monitoring (routers) ---------------------------------------------------------

    def services_checked(self, statuses: dict[str, str], release: str | None) -> list[str]:
        """Record what a check found; returns the services that newly failed (alert them).

        "restarted" was down and brought back; "failed" did not come back. A failed service
        is reported once, until it recovers: the next failure is news again.
        """
        if self.state != State.RUNNING or self.pending is not None:
            return []
        newly_failed = []
        for service, status in sorted(statuses.items()):
            if status == "failed" and service not in self.failed_services:
                self._service_failed(service=service, router_name=self.name)
                newly_failed.append(service)
            elif status in ("running", "restarted") and service in self.failed_services:
                self._service_recovered(service=service, router_name=self.name)
            elif status == "restarted":
                self._service_restarted(service=service, router_name=self.name)
        if release is not None and release != self.release:
            self._release_reported(release=release)
        return newly_failed

    @event("ServiceRestarted")
    def _service_restarted(self, service: str, router_name: str) -> None:
        pass

    @event("ServiceFailed")
    def _service_failed(self, service: str, router_name: str) -> None:
        self.failed_services = self.failed_services | {service}

    @event("ServiceRecovered")
    def _service_recovered(self, service: str, router_name: str) -> None:
        self.failed_services = self.failed_services - {service}

    @event("ReleaseReported")
    def _release_reported(self, release: str) -> None:
        self.release = release

    # State helpers ------------------------------------------------------------------------

    def _pend(self, action: str, request_id: str, job_id: UUID | None, state: str) -> None:
        self.pending, self.request_id, self.job_id = action, request_id, job_id
        self.state_before, self.state = self.state, state

    def _settle(self, state: str) -> None:
        self.state = state
        self.pending, self.request_id, self.pending_compute = None, None, None
        self.scale_reservation = None
        self.migration = None

    def _leave_host(self) -> None:
        if self.host_id is not None:
            self.last_host_id = self.host_id
        self.host_id, self.reservation = None, None
