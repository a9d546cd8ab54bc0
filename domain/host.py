"""Host: a hypervisor server, its connection state, its resource (maintenance) state, inventory."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.values import Secret


class HostState:
    CONNECTING = "Connecting"
    UP = "Up"
    DOWN = "Down"
    DISCONNECTED = "Disconnected"
    ALERT = "Alert"


class ResourceState:
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PREPARE_FOR_MAINTENANCE = "PrepareForMaintenance"
    MAINTENANCE = "Maintenance"
    ERROR_IN_MAINTENANCE = "ErrorInMaintenance"


IN_MAINTENANCE = (
    ResourceState.MAINTENANCE,
    ResourceState.PREPARE_FOR_MAINTENANCE,
    ResourceState.ERROR_IN_MAINTENANCE,
)


class Host(Aggregate):
    """A host in a cluster; only results of the connection request in flight change its state."""

    @event("Added")
    def __init__(
        self,
        name: str,
        zone_id: UUID,
        pod_id: UUID,
        cluster_id: UUID,
        hypervisor: str,
        url: str,
        username: str,
        password: Secret,
        allocation_state: str,
        host_tags: tuple[str, ...],
    ) -> None:
        if allocation_state not in (ResourceState.ENABLED, ResourceState.DISABLED):
            raise InvalidParameter("Invalid allocation state: use Enabled or Disabled")
        self.name = name
        self.zone_id, self.pod_id, self.cluster_id = zone_id, pod_id, cluster_id
        self.hypervisor = hypervisor
        self.url, self.username, self.password = url, username, password
        self.resource_state = allocation_state
        self.host_tags = tuple(host_tags)
        self.state = HostState.UP if hypervisor == "BareMetal" else HostState.CONNECTING
        self.inventory: dict[str, Any] = {}
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.removed = False

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"Host {self.name} has been removed")

    @property
    def managed(self) -> bool:
        """Whether an adapter drives this host (bare-metal hosts are records only)."""
        return self.hypervisor != "BareMetal"

    def request_connect(self, request_id: str, job_id: UUID | None, *, probe: bool = False) -> None:
        """Ask an adapter to connect. A probe (sent after lost heartbeats) keeps the host's
        state until an adapter answers, so a host that nobody can reach still goes Down."""
        self._check_live()
        if not self.managed:
            raise InvalidParameter("Bare-metal hosts have no hypervisor to connect to")
        self._connect_requested(
            request_id=request_id,
            job_id=job_id,
            url=self.url,
            username=self.username,
            password=self.password,
            hypervisor=self.hypervisor,
            probe=probe,
        )

    @event("ConnectRequested")
    def _connect_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        probe: bool,
    ) -> None:
        self.request_id, self.job_id = request_id, job_id
        if not probe:
            self.state = HostState.CONNECTING

    def is_current(self, request_id: str) -> bool:
        """Results of an older or already answered request must change nothing."""
        return not self.removed and request_id == self.request_id

    @event("Connected")
    def connected(self, request_id: str, inventory: dict[str, Any]) -> None:
        self.inventory = dict(inventory)
        self.state = HostState.UP
        self.request_id = None

    @event("ConnectionFailed")
    def connection_failed(self, request_id: str, reason: str) -> None:
        self.state = HostState.ALERT
        self.request_id = None

    def lose_heartbeat(self) -> bool:
        if self.removed or self.state != HostState.UP:
            return False
        self._disconnected()
        return True

    @event("Disconnected")
    def _disconnected(self) -> None:
        self.state = HostState.DISCONNECTED

    def mark_down(self) -> bool:
        if self.removed or self.state != HostState.DISCONNECTED:
            return False
        self._went_down()
        return True

    @event("WentDown")
    def _went_down(self) -> None:
        self.state = HostState.DOWN

    def heartbeat_returned(self) -> bool:
        if self.removed or self.state not in (HostState.DISCONNECTED, HostState.DOWN):
            return False
        self._reconnected()
        return True

    @event("Reconnected")
    def _reconnected(self) -> None:
        self.state = HostState.UP

    def describe(self, inventory: dict[str, Any]) -> None:
        """A bare-metal host's inventory, as the operator gives it (no adapter reports one)."""
        self._check_live()
        if self.managed:
            raise InvalidParameter("Only a bare-metal host's inventory is given by the operator")
        self._described(inventory=dict(inventory))

    @event("Described")
    def _described(self, inventory: dict[str, Any]) -> None:
        self.inventory = dict(inventory)

    def change_credentials(self, username: str, password: Secret) -> None:
        """The login Stratus uses for this host from now on (every later request carries it)."""
        self._check_live()
        if not username:
            raise InvalidParameter("Specify the username")
        self._credentials_changed(username=username, password=password)

    @event("CredentialsChanged")
    def _credentials_changed(self, username: str, password: Secret) -> None:
        self.username, self.password = username, password

    def release_reservation(self, machine_ids: tuple[UUID, ...]) -> None:
        """The machines whose planner holds this host to their account (4.3's host
        reservation) no longer do: other planners may place beside them."""
        self._check_live()
        if not machine_ids:
            raise InvalidParameter(f"Host {self.name} holds no reservation to release")
        self._reservation_released(machine_ids=[str(m) for m in machine_ids])

    @event("ReservationReleased")
    def _reservation_released(self, machine_ids: list[str]) -> None:
        pass

    def update(self, changes: dict[str, Any]) -> None:
        self._check_live()
        state = changes.get("resource_state")
        if state is not None and state not in (ResourceState.ENABLED, ResourceState.DISABLED):
            raise InvalidParameter("Invalid allocation state: use Enable or Disable")
        if state and self.resource_state in IN_MAINTENANCE:
            raise InvalidState("Cannot change the allocation state of a host in maintenance")
        if changes:
            self._updated(changes=dict(changes))

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, tuple(value) if key == "host_tags" else value)

    def prepare_for_maintenance(self, machine_ids: tuple[UUID, ...] = ()) -> None:
        """PrepareForMaintenance while the machines placed here are moved away (each move
        reports back with `machine_left`); Maintenance at once when none is."""
        self._check_live()
        if self.resource_state in IN_MAINTENANCE:
            raise InvalidState(f"Host {self.name} is already in maintenance")
        self._maintenance_requested()
        if machine_ids:
            self._evacuation_started(machine_ids=list(machine_ids))
        else:
            self._maintenance_entered()

    @event("MaintenanceRequested")
    def _maintenance_requested(self) -> None:
        self.resource_state = ResourceState.PREPARE_FOR_MAINTENANCE

    @event("EvacuationStarted")
    def _evacuation_started(self, machine_ids: list[UUID]) -> None:
        self.evacuating = {str(machine_id): "" for machine_id in machine_ids}

    @property
    def waits_for(self) -> dict[str, str]:
        """Machines a maintenance still moves away ("") or could not move (why)."""
        return dict(getattr(self, "evacuating", {}))  # hosts recorded before have none

    def machine_left(self, machine_id: UUID, reason: str | None) -> bool:
        """A machine this host's maintenance moves away has moved (`reason` None) or could
        not; when none is left to move, the host is in Maintenance, or ErrorInMaintenance if
        one could not leave. False when the host was not waiting for it."""
        waiting = self.waits_for
        if self.resource_state != ResourceState.PREPARE_FOR_MAINTENANCE:
            return False
        if waiting.get(str(machine_id)) != "":
            return False
        self._machine_left(machine_id=machine_id, reason=reason)
        failed = [why for why in self.waits_for.values() if why]
        if all(self.waits_for.values()):
            if failed:
                self._maintenance_failed(reason=failed[0])
            else:
                self._maintenance_entered()
        return True

    @event("MachineLeft")
    def _machine_left(self, machine_id: UUID, reason: str | None) -> None:
        kept = self.waits_for
        if reason:
            kept[str(machine_id)] = reason
        else:
            kept.pop(str(machine_id), None)
        self.evacuating = kept

    @event("MaintenanceFailed")
    def _maintenance_failed(self, reason: str) -> None:
        self.resource_state = ResourceState.ERROR_IN_MAINTENANCE
        self.evacuating = {}

    @event("MaintenanceEntered")
    def _maintenance_entered(self) -> None:
        self.resource_state = ResourceState.MAINTENANCE
        self.evacuating = {}

    def cancel_maintenance(self) -> None:
        self._check_live()
        if self.resource_state not in IN_MAINTENANCE:
            raise InvalidState(f"Host {self.name} is not in maintenance")
        self._maintenance_cancelled()

    @event("MaintenanceCancelled")
    def _maintenance_cancelled(self) -> None:
        self.resource_state = ResourceState.ENABLED
        self.evacuating = {}

    def remove(self, forced: bool, vm_count: int) -> None:
        self._check_live()
        if vm_count and not forced:
            raise ResourceInUse(f"Host {self.name} still runs virtual machines")
        running = self.state == HostState.UP and self.managed
        if running and self.resource_state != ResourceState.MAINTENANCE and not forced:
            raise InvalidState(
                f"Host {self.name} must be in maintenance (or the removal forced) to be deleted"
            )
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True
        self.request_id = None
