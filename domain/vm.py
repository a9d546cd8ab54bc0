"""VirtualMachine: a guest's lifecycle, the compute shape it was given, and the host work in flight.

Every change a hypervisor must make is first *requested* (an event naming the request, the host,
its sealed credentials and the job), then confirmed or failed by the adapter's result. Only the
result of the request in flight counts. The compute shape (offering, CPUs, speed, memory, template,
hypervisor, root disk) rides on every lifecycle event: usage is computed from these facts alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.compute import Compute, check_live_scaling
from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret

# `group` was once free text changed here; instance groups now change it (`move_to_group`).
# `display` is whether end users are shown the VM; `user_data` the guest's user data (Base64).
UPDATABLE = frozenset(
    {
        "display_name",
        "ha_enabled",
        "guest_os_id",
        "name",
        "dynamically_scalable",
        "display",
        "user_data",
    }
)
# The console keyboard layouts 4.3 takes at deploy (DeployVMCmd `keyboard`).
KEYBOARDS = (
    "de", "de-ch", "es", "fi", "fr", "fr-be", "fr-ch", "is", "it", "jp", "nl-be", "no", "pt",
    "uk", "us",
)  # fmt: skip


def keyboard_refusal(keyboard: str) -> str:
    return f"Invalid keyboard {keyboard}: valid values are {', '.join(KEYBOARDS)}"


MAX_SECONDARY_IPS = 256  # per NIC: 4.3's vm.network.nic.max.secondary.ipaddresses default
_GIVEN_UP_KEPT = 4  # a VM has one request in flight at a time: a few past ones are plenty


class VmState:
    STOPPED = "Stopped"
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    DESTROYED = "Destroyed"
    EXPUNGING = "Expunging"
    ERROR = "Error"


@dataclass(frozen=True)
class HostAccess:
    """Where a request goes: the host, how to log in to it (sealed at rest) and its kind."""

    host_id: UUID
    url: str
    username: str
    password: Secret = field(repr=False)
    hypervisor: str


class Placement:
    """Where a system VM's start goes: the host to reach and the pod and cluster it stands in."""

    def __init__(self, access: HostAccess, pod_id: UUID | None, cluster_id: UUID | None) -> None:
        self.access, self.pod_id, self.cluster_id = access, pod_id, cluster_id


class VirtualMachine(Aggregate):
    """A guest VM; at most one hypervisor request is in flight, and only its result counts."""

    @event("Deployed")
    def __init__(
        self,
        id: UUID,  # chosen by the caller, so its job can name the VM before it exists
        name: str,
        display_name: str,
        instance_name: str,
        owner_account_id: UUID,
        owner_domain_id: UUID,
        zone_id: UUID,
        guest_os_id: str,
        compute: dict[str, Any],
        keyboard: str = "",  # its console's keyboard layout ("": the hypervisor's default)
    ) -> None:
        if not name:
            raise InvalidParameter("A virtual machine needs a name")
        if keyboard and keyboard not in KEYBOARDS:
            raise InvalidParameter(keyboard_refusal(keyboard))
        self.name, self.display_name, self.instance_name = name, display_name, instance_name
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self.zone_id, self.guest_os_id = zone_id, guest_os_id
        self.compute = Compute.from_facts(compute)
        self.keyboard = keyboard
        self.state = VmState.STOPPED
        self.host_id: UUID | None = None
        self.last_host_id: UUID | None = None
        self.ever_started = False
        self.ha_enabled = False
        self.group = ""
        self.group_id: UUID | None = None  # its instance group (see domain.instance_group)
        self.removed = False
        self.reservation: str | None = None  # room held on host_id while placed there
        self.pending: str | None = None
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.state_before = VmState.STOPPED
        self.pending_compute: Compute | None = None
        self.scale_reservation: str | None = None
        self.key_pair: str | None = None  # the name of the key pair whose key it was given
        self.public_key = ""
        self.password: Secret | None = None
        self.password_job_id: UUID | None = None
        self.iso: dict[str, Any] | None = None  # the ISO in its CD drive: id, name, display text
        self.pending_iso: dict[str, Any] | None = None
        self.pending_nic: dict[str, Any] | None = None  # the NIC being plugged or unplugged

    # Checks -------------------------------------------------------------------------------

    def _check_idle(self, what: str) -> None:
        if self.removed:
            raise InvalidState(f"Virtual machine {self.name} has been expunged")
        if self.pending is not None:
            raise InvalidState(
                f"Virtual machine {self.name} is busy ({self.pending} in progress); try {what} "
                "again when it is done"
            )

    def _check_state(self, what: str, *allowed: str) -> None:
        self._check_idle(what)
        if self.state not in allowed:
            raise InvalidState(
                f"Unable to {what} virtual machine {self.name} in state {self.state}"
            )

    def is_current(self, request_id: str) -> bool:
        """Results of an older or already answered request must change nothing."""
        return not self.removed and request_id == self.request_id

    @property
    def placed_host(self) -> UUID | None:
        """The host a new start should prefer: where the VM runs or last ran."""
        return self.host_id or self.last_host_id

    # Start --------------------------------------------------------------------------------

    def check_startable(self) -> None:
        self._check_state("start", VmState.STOPPED)

    def request_start(
        self,
        request_id: str,
        job_id: UUID | None,
        access: HostAccess,
        reservation: str,
        data_disks: tuple[dict[str, Any], ...] = (),
        root_pool_id: UUID | None = None,
        boot: dict[str, Any] | None = None,
        root_io_limits: dict[str, int] | None = None,
    ) -> None:
        """Ask `access`'s host to run the VM; `reservation` holds its room there meanwhile.
        `data_disks` (disk id, device id, size) are the data disks attached to it;
        `root_pool_id` the primary storage pool its ROOT disk is on (None: the host's own); the
        ISO in its CD drive, if any, goes along (a VM deployed from an ISO boots from it).
        `boot` is a bare-metal host's network boot (`commands.baremetal_boot`), kept for its
        later starts and its destroy. `root_io_limits` are the I/O throttling rates of its ROOT
        disk (`domain.storage_qos`), which the hypervisor applies where it can."""
        self.check_startable()
        boot = boot if boot is not None else getattr(self, "network_boot", None)
        iso = self.iso_in_drive
        self._start_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            reservation=reservation,
            compute=self.compute.facts(),
            data_disks=[dict(disk) for disk in data_disks],
            ssh_key=self.public_key,
            user_data=getattr(self, "user_data", ""),  # VMs recorded before it have none
            iso=dict(iso) if iso is not None else None,
            root_pool_id=str(root_pool_id) if root_pool_id else "",
            nics=self.start_nics(),
            boot=boot,
            keyboard=self.keyboard,
            root_io_limits=dict(root_io_limits or {}),
        )

    def start_nics(self) -> list[dict[str, str]]:
        """What a start tells the hypervisor of each guest NIC (MAC, broadcast URI, address),
        in device order with the default NIC first: the VM comes up with these and no others."""
        ordered = sorted(getattr(self, "nics", ()), key=lambda nic: not nic["is_default"])
        return [
            {
                "mac_address": str(nic["mac_address"]),
                "broadcast_uri": str(nic.get("broadcast_uri") or ""),
                "ip_address": str(nic["ip_address"]),
            }
            for nic in ordered
        ]

    class StartRequested(Aggregate.Event):
        """Version 2 adds the attached data disks the start must give the guest; version 3 the
        public SSH key the guest is to let in ("" for none); version 4 its user data (Base64,
        "" for none); version 5 the ISO in its CD drive (id, name, display text, URL, zone;
        None for none), which a new guest's definition gets, and the primary storage pool of its
        ROOT disk ("" for the host's own storage); version 6 the keyboard layout of its console
        ("" for the hypervisor's default). `nics` (the VM's guest NICs, `start_nics`) came as a
        field with a default, not a version: an event stored without it reads as starting with
        none; so did `boot`, a bare-metal host's network boot (None for others), and
        `root_io_limits`, the ROOT disk's I/O throttling rates (none before storage QoS)."""

        class_version = 6
        request_id: str
        job_id: UUID | None
        host_id: UUID
        url: str
        username: str
        password: Secret
        hypervisor: str
        instance_name: str
        reservation: str
        compute: dict[str, Any]
        data_disks: list[dict[str, Any]]
        ssh_key: str
        user_data: str
        iso: dict[str, Any] | None
        root_pool_id: str
        nics: Sequence[dict[str, str]] = ()
        boot: dict[str, Any] | None = None
        keyboard: str = ""
        root_io_limits: dict[str, int] | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["data_disks"] = []

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["ssh_key"] = ""

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state["user_data"] = ""

        @staticmethod
        def upcast_v4_v5(state: dict[str, Any]) -> None:
            state["iso"] = None
            state["root_pool_id"] = ""

        @staticmethod
        def upcast_v5_v6(state: dict[str, Any]) -> None:
            state["keyboard"] = ""

    @event(StartRequested)
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
        reservation: str,
        compute: dict[str, Any],
        data_disks: list[dict[str, Any]],
        ssh_key: str,
        user_data: str,
        iso: dict[str, Any] | None,
        root_pool_id: str,
        nics: Sequence[dict[str, str]] = (),
        boot: dict[str, Any] | None = None,
        keyboard: str = "",
        root_io_limits: dict[str, int] | None = None,
    ) -> None:
        self._pend("start", request_id, job_id, VmState.STARTING)
        self.host_id, self.reservation = host_id, reservation
        if boot is not None:
            self.network_boot = boot

    def placement_failed(self, reason: str) -> None:
        """No host had room: a VM that never ran is left in Error, one that ran stays put."""
        self._placement_failed(
            reason=reason, state=self.state if self.ever_started else VmState.ERROR
        )

    @event("PlacementFailed")
    def _placement_failed(self, reason: str, state: str) -> None:
        self.state = state

    # Stop, reboot -------------------------------------------------------------------------

    def request_stop(
        self, request_id: str, job_id: UUID | None, access: HostAccess, forced: bool
    ) -> None:
        self._check_state("stop", VmState.RUNNING)
        self._stop_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            forced=forced,
            compute=self.compute.facts(),
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
        compute: dict[str, Any],
    ) -> None:
        self._pend("stop", request_id, job_id, VmState.STOPPING)

    def request_reboot(self, request_id: str, job_id: UUID | None, access: HostAccess) -> None:
        self._check_state("reboot", VmState.RUNNING)
        self._reboot_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            compute=self.compute.facts(),
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
        compute: dict[str, Any],
    ) -> None:
        self._pend("reboot", request_id, job_id, VmState.RUNNING)

    # Destroy, expunge, recover ------------------------------------------------------------

    def destroy_target(self, expunge: bool) -> UUID | None:
        """The host that must act for a destroy, or None when the record alone changes."""
        if self.state == VmState.RUNNING:
            return self.host_id
        if expunge:
            return self.last_host_id
        return None

    def destroy(
        self, request_id: str, job_id: UUID | None, expunge: bool, access: HostAccess | None
    ) -> bool:
        """Destroy (and with `expunge` remove) the VM; True when a host must act first."""
        if self.state == VmState.DESTROYED and expunge:
            return self.expunge(request_id, job_id, access)
        self._check_state("destroy", VmState.RUNNING, VmState.STOPPED, VmState.ERROR)
        if access is None:
            self._destroyed(request_id=None, compute=self.compute.facts())
            if expunge:
                self._expunged(request_id=None, compute=self.compute.facts())
            return False
        self._destroy_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            expunge=expunge,
            compute=self.compute.facts(),
            boot=getattr(self, "network_boot", None),
        )
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
        expunge: bool,
        compute: dict[str, Any],
        boot: dict[str, Any] | None = None,  # a bare-metal host's network boot, to undo
    ) -> None:
        # A running VM is stopped on its way out; an expunge shows Expunging until removed.
        busy = VmState.EXPUNGING if expunge else VmState.STOPPING
        self._pend("expunge" if expunge else "destroy", request_id, job_id, busy)

    @event("Destroyed")
    def _destroyed(self, request_id: str | None, compute: dict[str, Any]) -> None:
        self._settle(VmState.DESTROYED)
        self._leave_host()

    def check_expungeable(self) -> None:
        self._check_state("expunge", VmState.DESTROYED)

    def expunge(self, request_id: str, job_id: UUID | None, access: HostAccess | None) -> bool:
        """Remove a destroyed VM for good; True when its last host must remove it first."""
        self.check_expungeable()
        if access is None:
            self._expunged(request_id=None, compute=self.compute.facts())
            return False
        self._destroy_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            expunge=True,
            compute=self.compute.facts(),
            boot=getattr(self, "network_boot", None),
        )
        return True

    @event("Expunged")
    def _expunged(self, request_id: str | None, compute: dict[str, Any]) -> None:
        self._settle(VmState.EXPUNGING)
        self._leave_host()
        self.last_host_id = None
        self.removed = True

    def recover(self) -> None:
        self._check_state("recover", VmState.DESTROYED)
        self._recovered(compute=self.compute.facts())

    @event("Recovered")
    def _recovered(self, compute: dict[str, Any]) -> None:
        self.state = VmState.STOPPED

    # Scale --------------------------------------------------------------------------------

    def check_scalable(self, compute: Compute, *, running_allowed: bool) -> None:
        allowed = (VmState.STOPPED, VmState.RUNNING) if running_allowed else (VmState.STOPPED,)
        self._check_idle("scale")
        if self.state not in allowed:
            raise InvalidState(
                f"Unable to upgrade virtual machine {self.name} in state {self.state}; make sure "
                "the virtual machine is stopped"
            )
        if compute == self.compute:
            raise InvalidParameter(
                "Not upgrading vm: it already has the requested service offering and values"
            )

    def change_compute(self, compute: Compute) -> None:
        """A stopped VM takes a new shape at once; it applies from its next start."""
        self.check_scalable(compute, running_allowed=False)
        self._scaled(request_id=None, compute=compute.facts())

    def request_scale(
        self,
        request_id: str,
        job_id: UUID | None,
        access: HostAccess,
        compute: Compute,
        reservation: str,
    ) -> None:
        """Ask the host to resize a running VM; `reservation` holds any extra room meanwhile."""
        self.check_scalable(compute, running_allowed=True)
        if self.state != VmState.RUNNING:
            raise InvalidState(f"Virtual machine {self.name} is not running")
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
        self._pend("scale", request_id, job_id, VmState.RUNNING)
        self.pending_compute = Compute.from_facts(compute)
        self.scale_reservation = scale_reservation

    @event("Scaled")
    def _scaled(self, request_id: str | None, compute: dict[str, Any]) -> None:
        self.compute = Compute.from_facts(compute)
        if request_id is not None:
            self._settle(VmState.RUNNING)

    # Migrate ------------------------------------------------------------------------------

    def check_migratable(self, destination_host_id: UUID) -> None:
        """Only an idle running VM moves, and only to another host (4.3's checks and words)."""
        self._check_idle("migrating it")
        if self.state != VmState.RUNNING:
            raise InvalidState(f"VM is not Running, unable to migrate the vm {self.label}")
        if destination_host_id == self.host_id:
            raise InvalidParameter(
                "Cannot migrate VM, VM is already present on this host, please specify valid "
                "destination host to migrate the VM"
            )

    @property
    def label(self) -> str:
        """How 4.3 names a guest in its messages: VM[User|i-2-3-VM]."""
        return f"VM[User|{self.instance_name}]"

    def request_migrate(
        self,
        request_id: str,
        job_id: UUID | None,
        access: HostAccess,
        destination: HostAccess,
        reservation: str,
        volumes: tuple[dict[str, Any], ...] = (),
    ) -> None:
        """Ask the VM's host (`access`) to move the running guest to `destination`, whose
        room `reservation` holds meanwhile; the VM keeps its room where it runs until then.
        `volumes` are its disks that move to other pools first (disk id, kind, GiB, pools)."""
        self.check_migratable(destination.host_id)
        self._migrate_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            **migration_target(destination),
            migration_reservation=reservation,
            compute=self.compute.facts(),
            volumes=[dict(volume) for volume in volumes],
        )

    class MigrateRequested(Aggregate.Event):
        """The VM's host is asked to move it live to the destination host. Version 2 adds the
        disks it moves to other primary storage pools first (storage motion; none before)."""

        class_version = 2

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
        migration_reservation: str
        compute: dict[str, Any]
        volumes: list[dict[str, Any]]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["volumes"] = []

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
        migration_reservation: str,
        compute: dict[str, Any],
        volumes: list[dict[str, Any]],
    ) -> None:
        self._pend("migrate", request_id, job_id, VmState.RUNNING)
        self.migration: tuple[UUID, str] | None = (destination_host_id, migration_reservation)

    @property
    def migrating_to(self) -> tuple[UUID, str] | None:
        """The host a migration in flight goes to, and the room held there for it."""
        return getattr(self, "migration", None)  # VMs recorded before migrations have none

    @event("Migrated")
    def _migrated(
        self,
        request_id: str,
        from_host_id: UUID,
        host_id: UUID,
        reservation: str,
        compute: dict[str, Any],
    ) -> None:
        self._settle(VmState.RUNNING)
        self.host_id, self.last_host_id, self.reservation = host_id, host_id, reservation

    # Restore ------------------------------------------------------------------------------

    def restore_target(self) -> UUID | None:
        """The host holding the VM's root disk: where it runs, or where it last ran."""
        return self.host_id if self.state == VmState.RUNNING else self.last_host_id

    def check_restorable(self) -> None:
        self._check_state("restore", VmState.RUNNING, VmState.STOPPED)

    def restore(
        self, request_id: str, job_id: UUID | None, access: HostAccess | None, compute: Compute
    ) -> bool:
        """Make the root disk anew from `compute`'s template (the VM's own or a new one); True
        when a host must do it. A VM whose disk no host holds (it never ran, or its host left
        the cloud) changes its record only: its next start makes the disk."""
        self.check_restorable()
        if access is None:
            self._restored(request_id=None, compute=compute.facts())
            return False
        self._restore_requested(
            **host_request(request_id, job_id, access, self.instance_name),
            compute=compute.facts(),
            previous=self.compute.facts(),
        )
        return True

    @event("RestoreRequested")
    def _restore_requested(
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
    ) -> None:
        self._pend("restore", request_id, job_id, self.state)
        self.pending_compute = Compute.from_facts(compute)

    @event("Restored")
    def _restored(self, request_id: str | None, compute: dict[str, Any]) -> None:
        self.compute = Compute.from_facts(compute)
        if request_id is not None:
            self._settle(self.state_before)

    # Results ------------------------------------------------------------------------------

    def confirm(self, request_id: str) -> None:
        """The adapter did what the request in flight asked."""
        facts = self.compute.facts()
        if self.pending == "start":
            self._started(request_id=request_id, host_id=self.host_id, compute=facts)
        elif self.pending == "stop":
            self._stopped(request_id=request_id, compute=facts)
        elif self.pending == "reboot":
            self._rebooted(request_id=request_id, compute=facts)
        elif self.pending == "destroy":
            self._destroyed(request_id=request_id, compute=facts)
        elif self.pending == "expunge":
            if self.state_before != VmState.DESTROYED:
                self._destroyed(request_id=request_id, compute=facts)
            self._expunged(request_id=request_id, compute=facts)
        elif self.pending == "scale" and self.pending_compute is not None:
            self._scaled(request_id=request_id, compute=self.pending_compute.facts())
        elif self.pending == "restore" and self.pending_compute is not None:
            self._restored(request_id=request_id, compute=self.pending_compute.facts())
        elif self.pending == "attach_iso":
            self._iso_attached(request_id=request_id, iso=getattr(self, "pending_iso", None))
        elif self.pending == "detach_iso":
            self._iso_detached(request_id=request_id)
        elif self.pending == "plug_nic" and self.pending_nic is not None:
            self._nic_hot_plugged(request_id=request_id, nic=self.pending_nic)
        elif self.pending == "unplug_nic" and self.pending_nic is not None:
            self._nic_unplugged(request_id=request_id, network_id=self.pending_nic["network_id"])
        elif self.pending == "migrate" and self.migrating_to and self.host_id:
            host_id, reservation = self.migrating_to
            self._migrated(
                request_id=request_id,
                from_host_id=self.host_id,
                host_id=host_id,
                reservation=reservation,
                compute=facts,
            )

    @event("Started")
    def _started(self, request_id: str, host_id: UUID | None, compute: dict[str, Any]) -> None:
        self._settle(VmState.RUNNING)
        self.ever_started = True

    @event("Stopped")
    def _stopped(self, request_id: str, compute: dict[str, Any]) -> None:
        self._settle(VmState.STOPPED)
        self._leave_host()

    @event("Rebooted")
    def _rebooted(self, request_id: str, compute: dict[str, Any]) -> None:
        self._settle(VmState.RUNNING)

    def fail(self, request_id: str, reason: str) -> None:
        """The adapter could not do it: a first start ends in Error, anything else goes back."""
        if self.pending == "start":
            after = VmState.STOPPED if self.ever_started else VmState.ERROR
            self._start_failed(request_id=request_id, reason=reason, state=after)
        elif self.pending is not None:
            self._request_failed(
                request_id=request_id, action=self.pending, reason=reason, state=self.state_before
            )

    def abandon(self, request_id: str, reason: str) -> None:
        """No adapter answered the request in flight: it fails as if one had said so, and the
        VM remembers where it went, so a late answer that it was done after all is not lost."""
        if self.pending is None or not self.is_current(request_id):
            return
        host_id = self.host_id or self.last_host_id
        self._request_abandoned(request_id=request_id, action=self.pending, host_id=host_id)
        self.fail(request_id, reason)

    @event("RequestAbandoned")
    def _request_abandoned(self, request_id: str, action: str, host_id: UUID | None) -> None:
        kept = list(self._given_up().items())[-(_GIVEN_UP_KEPT - 1) :]
        self.given_up = {**dict(kept), request_id: {"action": action, "host_id": host_id}}

    def _given_up(self) -> dict[str, dict[str, Any]]:
        """Requests given up on without an answer (the newest few): their action and host. VMs
        recorded before this existed have none."""
        return dict(getattr(self, "given_up", {}))

    def stray_host(self, request_id: str) -> UUID | None:
        """Where a start given up on ran after all (its late answer said so) and the VM is not
        meant to be now; None when that host holds the VM by a later request, or for anything
        but a start given up on."""
        entry = self._given_up().get(request_id)
        if entry is None or entry["action"] != "start" or entry["host_id"] is None:
            return None
        host_id: UUID = entry["host_id"]
        return None if host_id == self.host_id else host_id

    def stopped_late(self, request_id: str) -> bool:
        """A stop (or a destroy, which stops) given up on, that its host did after all: when
        the VM was put back running there and nothing happened to it since, it is recorded
        stopped, as its host has it. Whether it was."""
        entry = self._given_up().get(request_id)
        if entry is None or entry["action"] not in ("stop", "destroy"):
            return False
        if self.pending is not None or self.state != VmState.RUNNING:
            return False
        if self.host_id is None or self.host_id != entry["host_id"]:
            return False
        self._stopped(request_id=request_id, compute=self.compute.facts())
        return True

    def request_stray_stop(self, request_id: str, undoes: str, access: HostAccess) -> None:
        """Ask `access`'s host to stop the copy a start given up on left running there."""
        self._stray_stop_requested(
            **host_request(request_id, None, access, self.instance_name), undoes=undoes
        )

    @event("StrayStopRequested")
    def _stray_stop_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        undoes: str,
    ) -> None:
        self.given_up = {key: v for key, v in self._given_up().items() if key != undoes}

    @event("StartFailed")
    def _start_failed(self, request_id: str, reason: str, state: str) -> None:
        self._settle(state)
        self._leave_host()

    @event("RequestFailed")
    def _request_failed(self, request_id: str, action: str, reason: str, state: str) -> None:
        self._settle(state)

    # Other changes ------------------------------------------------------------------------

    def update(self, changes: dict[str, Any]) -> None:
        if self.removed:
            raise InvalidState(f"Virtual machine {self.name} has been expunged")
        if self.state == VmState.DESTROYED:
            raise InvalidState(f"Unable to update virtual machine {self.name} in state Destroyed")
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidParameter(f"Cannot update {', '.join(sorted(unknown))} of a VM")
        if "name" in changes and not changes["name"]:
            raise InvalidParameter("A virtual machine needs a name")
        if changes:
            self._updated(changes=dict(changes))

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    # Owner ------------------------------------------------------------------------------

    def assign(self, account_id: UUID, domain_id: UUID) -> None:
        """Hand a stopped VM to another account; its volumes follow in the same commit."""
        self._check_idle("assigning it")
        if self.state != VmState.STOPPED:
            raise InvalidState(
                f"Virtual machine {self.name} is {self.state}: only a stopped VM can be assigned "
                "to another account"
            )
        if account_id == self.account_id:
            raise InvalidParameter(f"Virtual machine {self.name} belongs to that account already")
        self._owner_changed(
            account_id=account_id,
            domain_id=domain_id,
            from_account_id=self.account_id,
            from_domain_id=self.domain_id,
            compute=self.compute.facts(),
        )

    class OwnerChanged(Aggregate.Event):
        """The VM belongs to another account (assignVirtualMachine) from now on."""

        account_id: UUID
        domain_id: UUID
        from_account_id: UUID  # what the VM held is given back to this account and its domains
        from_domain_id: UUID
        compute: dict[str, Any]

    @event(OwnerChanged)
    def _owner_changed(
        self,
        account_id: UUID,
        domain_id: UUID,
        from_account_id: UUID,
        from_domain_id: UUID,
        compute: dict[str, Any],
    ) -> None:
        self.account_id, self.domain_id = account_id, domain_id

    # Access to the guest: SSH key and password ----------------------------------------------

    def give_key_pair(self, name: str, public_key: str) -> None:
        """The key the guest lets in from its next start on; only a stopped VM takes a new one."""
        self._check_idle("resetting the SSH key")
        if self.state != VmState.STOPPED:
            raise InvalidParameter(f"Vm {self.name} should be stopped to do SSH Key reset")
        self._key_pair_given(key_pair=name, public_key=public_key)

    @event("KeyPairGiven")
    def _key_pair_given(self, key_pair: str, public_key: str) -> None:
        self.key_pair, self.public_key = key_pair, public_key

    def set_password(self, password: Secret, job_id: UUID | None, *, enabled: bool) -> None:
        """A new password for the guest (its template must take one); only while stopped."""
        self._check_idle("resetting the password")
        if not enabled:
            raise InvalidParameter(
                "Fail to reset password for the virtual machine, the template is not password "
                "enabled"
            )
        if self.state != VmState.STOPPED:
            raise InvalidParameter(f"Vm {self.name} should be stopped to do password reset")
        self._password_set(password=password, job_id=job_id)

    @event("PasswordSet")
    def _password_set(self, password: Secret, job_id: UUID | None) -> None:
        self.password, self.password_job_id = password, job_id

    def move_to_group(self, group_id: UUID | None, group_name: str) -> None:
        """Put the VM in an instance group (None: in none); the groups record their side."""
        if self.removed or self.state == VmState.DESTROYED:
            raise InvalidState(f"Unable to change the group of virtual machine {self.name}")
        if group_id != self.group_id:
            self._group_changed(group_id=group_id, group_name=group_name)

    def leave_group(self, group_id: UUID) -> None:
        """The VM's group was deleted: the VM, in whatever state, is in no group now."""
        if self.group_id == group_id:
            self._group_changed(group_id=None, group_name="")

    @event("GroupChanged")
    def _group_changed(self, group_id: UUID | None, group_name: str) -> None:
        self.group_id, self.group = group_id, group_name

    # The CD drive -------------------------------------------------------------------------

    @property
    def iso_in_drive(self) -> dict[str, Any] | None:
        return getattr(self, "iso", None)  # VMs recorded before ISOs existed have none

    def boot_from_iso(self, iso: dict[str, Any]) -> None:
        """A VM deployed from an ISO (id, name, display_text, url, zone_id) has it in its CD
        drive from the start, and its first start boots from it onto the blank ROOT disk."""
        if self.ever_started or self.placed_host is not None:
            raise InvalidState(f"Virtual machine {self.name} has run already: attach the ISO")
        self._iso_attached(request_id=None, iso=dict(iso))

    def request_iso_attach(
        self, iso: dict[str, Any], request_id: str, job_id: UUID | None, access: HostAccess
    ) -> None:
        """Ask the VM's host to put an ISO (id, name, display_text, url, zone_id) in the VM's
        CD drive; a running VM sees it at once, a stopped one from its next start."""
        self._check_state("attach an ISO to", VmState.RUNNING, VmState.STOPPED)
        if self.iso_in_drive is not None:
            raise InvalidParameter(
                f"An ISO is already attached to virtual machine {self.name}: detach it first"
            )
        self._iso_attach_requested(
            **host_request(request_id, job_id, access, self.instance_name), iso=dict(iso)
        )

    @event("IsoAttachRequested")
    def _iso_attach_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        iso: dict[str, Any],
    ) -> None:
        self._pend("attach_iso", request_id, job_id, self.state)
        self.pending_iso = iso

    def request_iso_detach(self, request_id: str, job_id: UUID | None, access: HostAccess) -> None:
        """Ask the VM's host to empty the VM's CD drive."""
        self._check_state("detach an ISO from", VmState.RUNNING, VmState.STOPPED)
        if self.iso_in_drive is None:
            raise InvalidParameter(f"No ISO is attached to virtual machine {self.name}")
        self._iso_detach_requested(**host_request(request_id, job_id, access, self.instance_name))

    @event("IsoDetachRequested")
    def _iso_detach_requested(
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
        self._pend("detach_iso", request_id, job_id, self.state)

    @event("IsoAttached")
    def _iso_attached(self, request_id: str | None, iso: dict[str, Any] | None) -> None:
        self._settle(self.state)
        self.iso = iso

    @event("IsoDetached")
    def _iso_detached(self, request_id: str) -> None:
        self._settle(self.state)
        self.iso = None

    # Guest NICs ---------------------------------------------------------------------------

    def plug_nic(self, nic: dict[str, Any]) -> None:
        """Record a guest NIC (network, IP, MAC, gateway, netmask, default, network offering)."""
        self._nic_plugged(nic=dict(nic))

    @event("NicPlugged")
    def _nic_plugged(self, nic: dict[str, Any]) -> None:
        self.nics = [*getattr(self, "nics", ()), nic]

    def request_nic_plug(
        self, nic: dict[str, Any], request_id: str, job_id: UUID | None, access: HostAccess | None
    ) -> bool:
        """Add a NIC on another network (one per network): a running VM's host plugs it in
        (True: a request is in flight), a stopped VM has it at once and starts with it."""
        self._check_state("add a nic to", VmState.RUNNING, VmState.STOPPED)
        if self.nic_on(nic["network_id"]) is not None:
            raise InvalidParameter(
                f"Virtual machine {self.name} already has a nic in network {nic['network_id']}"
            )
        if self.state == VmState.STOPPED or access is None:
            self._nic_plugged(nic=dict(nic))
            return False
        self._nic_plug_requested(
            **host_request(request_id, job_id, access, self.instance_name), nic=dict(nic)
        )
        return True

    @event("NicPlugRequested")
    def _nic_plug_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        nic: dict[str, Any],
    ) -> None:
        self._pend("plug_nic", request_id, job_id, self.state)
        self.pending_nic = nic

    @event("NicHotPlugged")
    def _nic_hot_plugged(self, request_id: str, nic: dict[str, Any]) -> None:
        self._settle(self.state)
        self.nics = [*getattr(self, "nics", ()), nic]

    def request_nic_unplug(
        self, network_id: UUID, request_id: str, job_id: UUID | None, access: HostAccess | None
    ) -> bool:
        """Remove the NIC on the network (never the default one): a running VM's host unplugs
        it (True: a request is in flight), a stopped VM loses it at once."""
        self._check_state("remove a nic from", VmState.RUNNING, VmState.STOPPED)
        nic = self.nic_on(network_id)
        if nic is None:
            raise InvalidParameter(
                f"Virtual machine {self.name} has no nic in network {network_id}"
            )
        if nic["is_default"]:
            raise InvalidParameter(
                f"Unable to remove nic from virtual machine {self.name} in network {network_id}: "
                "the nic is the default one"
            )
        if self.state == VmState.STOPPED or access is None:
            self._nic_unplugged(request_id=None, network_id=network_id)
            return False
        self._nic_unplug_requested(
            **host_request(request_id, job_id, access, self.instance_name), nic=nic
        )
        return True

    @event("NicUnplugRequested")
    def _nic_unplug_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        nic: dict[str, Any],
    ) -> None:
        self._pend("unplug_nic", request_id, job_id, self.state)
        self.pending_nic = nic

    @event("NicUnplugged")
    def _nic_unplugged(self, request_id: str | None, network_id: UUID) -> None:
        if request_id is not None:
            self._settle(self.state)
        self.nics = [
            n for n in getattr(self, "nics", ()) if str(n["network_id"]) != str(network_id)
        ]
        for ip_id, ip in list(self.secondary_ips.items()):
            if str(ip["network_id"]) == str(network_id):
                del self.secondary_ips[ip_id]

    def replace_nics(self, nics: list[dict[str, Any]]) -> None:
        """Exchange every NIC of a stopped VM for these, the first its default: the VM moved to
        another account's networks (assignVirtualMachine). No host holds the VM, so the NICs
        change on the record alone, as a stopped VM's NIC changes do."""
        self._check_state("move the nics of", VmState.STOPPED)
        for nic in list(getattr(self, "nics", ())):
            self._nic_unplugged(request_id=None, network_id=UUID(str(nic["network_id"])))
        for nic in nics:
            self._nic_plugged(nic=dict(nic))

    def change_default_nic(self, network_id: UUID) -> None:
        """Make the NIC on the network the VM's default one (the guest takes its gateway from
        it at its next DHCP lease)."""
        self._check_state("change the default nic of", VmState.RUNNING, VmState.STOPPED)
        nic = self.nic_on(network_id)
        if nic is None:
            raise InvalidParameter(
                f"Virtual machine {self.name} has no nic in network {network_id}"
            )
        if nic["is_default"]:
            raise InvalidParameter(f"The nic in network {network_id} is already the default nic")
        self._default_nic_changed(network_id=network_id)

    @event("DefaultNicChanged")
    def _default_nic_changed(self, network_id: UUID) -> None:
        self.nics = [
            {**n, "is_default": str(n["network_id"]) == str(network_id)}
            for n in getattr(self, "nics", ())
        ]

    def nic_on(self, network_id: UUID) -> dict[str, Any] | None:
        """The VM's NIC on the network, if it has one."""
        for nic in getattr(self, "nics", ()):
            if str(nic["network_id"]) == str(network_id):
                return dict(nic)
        return None

    @property
    def secondary_ips(self) -> dict[UUID, dict[str, Any]]:
        """Secondary addresses of its NICs by id: network and address of each."""
        if not hasattr(self, "secondary_addresses"):
            self.secondary_addresses: dict[UUID, dict[str, Any]] = {}
        return self.secondary_addresses

    def add_secondary_ip(self, ip_id: UUID, network_id: UUID, ip_address: str) -> None:
        """Give the VM's NIC on the network one more address (`ip_address`, claimed for the VM
        in the same save)."""
        if self.removed or self.state in (VmState.DESTROYED, VmState.EXPUNGING):
            raise InvalidState(f"Virtual machine {self.name} is destroyed")
        if self.nic_on(network_id) is None:
            raise InvalidParameter(
                f"Virtual machine {self.name} has no nic on network {network_id}"
            )
        on_nic = [ip for ip in self.secondary_ips.values() if ip["network_id"] == network_id]
        if len(on_nic) >= MAX_SECONDARY_IPS:
            raise InvalidParameter(
                f"A nic has at most {MAX_SECONDARY_IPS} secondary ip addresses "
                "(vm.network.nic.max.secondary.ipaddresses)"
            )
        self._secondary_ip_added(ip_id=ip_id, network_id=network_id, ip_address=ip_address)

    @event("SecondaryIpAdded")
    def _secondary_ip_added(self, ip_id: UUID, network_id: UUID, ip_address: str) -> None:
        self.secondary_ips[ip_id] = {"network_id": network_id, "ip_address": ip_address}

    def remove_secondary_ip(self, ip_id: UUID) -> dict[str, Any]:
        """Take a secondary address off its NIC; returns its network and address."""
        found = self.secondary_ips.get(ip_id)
        if found is None:
            raise InvalidParameter(f"Unable to find secondary ip address with id {ip_id}")
        self._secondary_ip_removed(
            ip_id=ip_id, network_id=found["network_id"], ip_address=found["ip_address"]
        )
        return found

    @event("SecondaryIpRemoved")
    def _secondary_ip_removed(self, ip_id: UUID, network_id: UUID, ip_address: str) -> None:
        self.secondary_ips.pop(ip_id, None)

    # State helpers (run when events are applied) ------------------------------------------

    def _pend(self, action: str, request_id: str, job_id: UUID | None, state: str) -> None:
        self.pending, self.request_id, self.job_id = action, request_id, job_id
        self.state_before, self.state = self.state, state

    def _settle(self, state: str) -> None:
        self.state = state
        self.pending, self.request_id = None, None
        self.pending_compute, self.scale_reservation = None, None
        self.pending_iso = None
        self.pending_nic = None
        self.migration = None

    def _leave_host(self) -> None:
        if self.host_id is not None:
            self.last_host_id = self.host_id
        self.host_id, self.reservation = None, None


def nic_id(vm_id: UUID | str, network_id: UUID | str) -> str:
    """A NIC's id: a VM has one NIC per network, so the pair names it."""
    return str(uuid5(UUID(str(vm_id)), str(network_id)))


def migration_target(destination: HostAccess) -> dict[str, Any]:
    """The fields a migration request records about where the machine goes."""
    return {
        "destination_host_id": destination.host_id,
        "destination_url": destination.url,
        "destination_username": destination.username,
        "destination_password": destination.password,
    }


def host_request(
    request_id: str, job_id: UUID | None, access: HostAccess, instance_name: str
) -> dict[str, Any]:
    """The fields every hypervisor request records (guest VMs, system VMs, volumes, snapshots):
    which request, for which job, where, and the machine it is about."""
    return {
        "request_id": request_id,
        "job_id": job_id,
        "host_id": access.host_id,
        "url": access.url,
        "username": access.username,
        "password": access.password,
        "hypervisor": access.hypervisor,
        "instance_name": instance_name,
    }
