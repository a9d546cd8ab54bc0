"""VMSnapshot: a snapshot of a whole VM kept on its host (disks, and memory when asked), and the
per-VM `VmSnapshotChain` that orders them.

Like a VM, a VM snapshot asks its host for work by an event naming the request, the host and its
sealed credentials (`CreateRequested`, `RevertRequested`, `DeleteRequested`); the adapter's
result confirms or fails the request in flight. `Created` and `Destroyed` carry the VM and its
volumes with their sizes, so usage bills from them alone.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret
from domain.vm import HostAccess, host_request

CHAIN_NAMESPACE = UUID("3b8f2d4e-91a7-4c6b-8e0f-5d2c7a1b9e64")
MAX_PER_VM = 10  # CloudStack's vmsnapshot.max


class VmSnapshotState:
    ALLOCATED = "Allocated"
    CREATING = "Creating"
    READY = "Ready"
    REVERTING = "Reverting"
    EXPUNGING = "Expunging"
    ERROR = "Error"


DISK, DISK_AND_MEMORY = "Disk", "DiskAndMemory"


class VMSnapshot(Aggregate):
    """One VM snapshot; at most one request is in flight, and only its result counts."""

    @event("Allocated")
    def __init__(
        self,
        id: UUID,
        name: str,
        display_name: str,
        description: str,
        vm: dict[str, Any],  # id, instance_name, account_id, domain_id, zone_id
        memory: bool,
        parent_id: UUID | None,
        volumes: list[dict[str, Any]],  # volume_id, size (bytes), offering_id (data disks)
    ) -> None:
        if not name:
            raise InvalidParameter("A VM snapshot needs a name")
        self.name, self.display_name, self.description = name, display_name, description
        self.vm_id: UUID = vm["id"]
        self.instance_name: str = vm["instance_name"]
        self.account_id, self.domain_id = vm["account_id"], vm["domain_id"]
        self.zone_id = vm["zone_id"]
        self.memory, self.parent_id = memory, parent_id
        self.volumes = [dict(v) for v in volumes]
        self.state = VmSnapshotState.ALLOCATED
        self.pending: str | None = None
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.state_before = VmSnapshotState.ALLOCATED
        self.removed = False

    @property
    def kind(self) -> str:
        return DISK_AND_MEMORY if self.memory else DISK

    def is_current(self, request_id: str) -> bool:
        return not self.removed and request_id == self.request_id

    def _usage(self) -> dict[str, Any]:
        """What usage bills: the VM, its zone and owner, and each volume's size."""
        return {
            "vm_id": self.vm_id,
            "account_id": self.account_id,
            "domain_id": self.domain_id,
            "zone_id": self.zone_id,
            "volumes": [dict(v) for v in self.volumes],
        }

    def _request(self, request_id: str, job_id: UUID | None, access: HostAccess) -> dict[str, Any]:
        fields = host_request(request_id, job_id, access, self.instance_name)
        fields["snapshot_name"] = self.name
        return fields

    # Create ------------------------------------------------------------------------------

    def request_create(
        self, request_id: str, job_id: UUID | None, access: HostAccess, *, quiesce: bool = False
    ) -> None:
        """Ask the VM's host to take it (`quiesce`: after quiescing the guest)."""
        if self.state != VmSnapshotState.ALLOCATED:
            raise InvalidState(f"VM snapshot {self.display_name} is {self.state}")
        self._create_requested(
            **self._request(request_id, job_id, access),
            memory=self.memory,
            description=self.description,
            quiesce=quiesce,
        )

    @event("CreateRequested")
    def _create_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        snapshot_name: str,
        memory: bool,
        description: str,
        quiesce: bool = False,  # absent from older events
    ) -> None:
        self._pend("create", request_id, job_id, VmSnapshotState.CREATING)

    # Revert ------------------------------------------------------------------------------

    def request_revert(
        self, request_id: str, job_id: UUID | None, access: HostAccess, vm_state: str
    ) -> None:
        """Put the VM back as the snapshot holds it. A running VM can only go back to a
        snapshot with memory: one without it would pull the disks from under the guest."""
        if self.removed or self.state != VmSnapshotState.READY:
            raise InvalidState(
                "VM Snapshot reverting failed due to vm snapshot is not in the state of Ready"
            )
        if vm_state not in ("Running", "Stopped"):
            raise InvalidState(
                "VM Snapshot reverting failed due to vm is not in the state of Running or Stopped"
            )
        if vm_state == "Running" and not self.memory:
            raise InvalidState(
                f"VM Snapshot {self.display_name} holds no memory: stop the VM before reverting "
                "to it"
            )
        self._revert_requested(**self._request(request_id, job_id, access))

    @event("RevertRequested")
    def _revert_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        snapshot_name: str,
    ) -> None:
        self._pend("revert", request_id, job_id, VmSnapshotState.REVERTING)

    # Delete ------------------------------------------------------------------------------

    def check_deletable(self) -> None:
        if self.removed:
            raise InvalidState(f"VM snapshot {self.display_name} has been deleted")
        if self.pending is not None or self.state not in (
            VmSnapshotState.READY,
            VmSnapshotState.ERROR,
        ):
            raise InvalidState(
                f"Can't delete the vm snapshot {self.display_name} due to it is not in Ready or "
                f"Error state (it is {self.state})"
            )

    def request_delete(
        self, request_id: str, job_id: UUID | None, access: HostAccess | None
    ) -> bool:
        """Delete the snapshot; True when its host must remove it first."""
        self.check_deletable()
        if access is None:
            self._destroyed(request_id=None, with_vm=False, **self._usage())
            return False
        self._delete_requested(**self._request(request_id, job_id, access))
        return True

    @event("DeleteRequested")
    def _delete_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        snapshot_name: str,
    ) -> None:
        self._pend("delete", request_id, job_id, VmSnapshotState.EXPUNGING)

    def destroy_with_vm(self) -> None:
        """An expunged VM takes its snapshots with it (its host removed them with the VM)."""
        if not self.removed:
            self._destroyed(request_id=None, with_vm=True, **self._usage())

    @event("Destroyed")
    def _destroyed(
        self,
        request_id: str | None,
        with_vm: bool,
        vm_id: UUID,
        account_id: UUID,
        domain_id: UUID,
        zone_id: UUID,
        volumes: list[dict[str, Any]],
    ) -> None:
        self._settle(VmSnapshotState.EXPUNGING)
        self.removed = True

    # Results -----------------------------------------------------------------------------

    def confirm(self, request_id: str) -> None:
        if self.pending == "create":
            self._created(request_id=request_id, **self._usage())
        elif self.pending == "revert":
            self._reverted(request_id=request_id)
        elif self.pending == "delete":
            self._destroyed(request_id=request_id, with_vm=False, **self._usage())

    @event("Created")
    def _created(
        self,
        request_id: str,
        vm_id: UUID,
        account_id: UUID,
        domain_id: UUID,
        zone_id: UUID,
        volumes: list[dict[str, Any]],
    ) -> None:
        self._settle(VmSnapshotState.READY)

    @event("Reverted")
    def _reverted(self, request_id: str) -> None:
        self._settle(VmSnapshotState.READY)

    def fail(self, request_id: str, reason: str) -> None:
        """A failed create leaves Error; a failed revert or delete goes back to what it was."""
        after = VmSnapshotState.ERROR if self.pending == "create" else self.state_before
        self._request_failed(
            request_id=request_id, action=self.pending or "", reason=reason, state=after
        )

    @event("RequestFailed")
    def _request_failed(self, request_id: str, action: str, reason: str, state: str) -> None:
        self._settle(state)

    # State helpers -----------------------------------------------------------------------

    def _pend(self, action: str, request_id: str, job_id: UUID | None, state: str) -> None:
        self.pending, self.request_id, self.job_id = action, request_id, job_id
        self.state_before, self.state = self.state, state

    def _settle(self, state: str) -> None:
        self.state, self.pending, self.request_id = state, None, None


def chain_id(vm_id: UUID) -> UUID:
    return uuid5(CHAIN_NAMESPACE, str(vm_id))


class VmSnapshotChain(Aggregate):
    """The VM snapshots of one VM: which exist, which is current (the parent of the next), and
    the one task at a time CloudStack allows per VM. Saved beside the snapshot at every step,
    so two tasks racing for one VM write the same version of it and only one goes ahead."""

    @event("Created")
    def __init__(self, vm_id: UUID) -> None:
        self.vm_id = vm_id
        self.members: dict[UUID, str] = {}  # snapshot id: display name
        self.parents: dict[UUID, UUID | None] = {}
        self.current: UUID | None = None
        self.busy: UUID | None = None

    @classmethod
    def create_id(cls, vm_id: UUID) -> UUID:
        return chain_id(vm_id)

    def _check_free(self) -> None:
        if self.busy is not None:
            raise InvalidState(
                "There is other active vm snapshot tasks on the instance; try again later"
            )

    def add(self, snapshot_id: UUID, display_name: str) -> UUID | None:
        """A new snapshot of the VM; returns its parent (the current one)."""
        self._check_free()
        if len(self.members) >= MAX_PER_VM:
            raise InvalidParameter(
                f"Creating vm snapshot failed due to a VM can just have : {MAX_PER_VM} VM "
                "snapshots. Please delete old ones"
            )
        if display_name in self.members.values():
            raise InvalidParameter(
                f"Creating VM snapshot failed due to VM snapshot with name {display_name} "
                "already exists"
            )
        parent = self.current
        self._added(snapshot_id=snapshot_id, display_name=display_name, parent_id=parent)
        return parent

    @event("Added")
    def _added(self, snapshot_id: UUID, display_name: str, parent_id: UUID | None) -> None:
        self.members[snapshot_id] = display_name
        self.parents[snapshot_id] = parent_id
        self.busy = snapshot_id

    def begin(self, snapshot_id: UUID) -> None:
        """A revert or delete of a member starts."""
        self._check_free()
        self._begun(snapshot_id=snapshot_id)

    @event("Begun")
    def _begun(self, snapshot_id: UUID) -> None:
        self.busy = snapshot_id

    def settle(self, snapshot_id: UUID, *, made_current: bool) -> None:
        """The member's task ended; a created or reverted-to snapshot becomes current."""
        current = snapshot_id if made_current else self.current
        self._settled(snapshot_id=snapshot_id, current=current)

    @event("Settled")
    def _settled(self, snapshot_id: UUID, current: UUID | None) -> None:
        self.current = current
        if self.busy == snapshot_id:
            self.busy = None

    def remove(self, snapshot_id: UUID) -> None:
        """A member is gone; when it was current, its parent is current now."""
        current = self.current
        if current == snapshot_id:
            current = self.parents.get(snapshot_id)
            while current is not None and current not in self.members:
                current = self.parents.get(current)
        self._removed(snapshot_id=snapshot_id, current=current)

    @event("Removed")
    def _removed(self, snapshot_id: UUID, current: UUID | None) -> None:
        self.members.pop(snapshot_id, None)
        # Children of the removed one now descend from its parent.
        parent = self.parents.pop(snapshot_id, None)
        self.parents = {k: (parent if v == snapshot_id else v) for k, v in self.parents.items()}
        self.current = current
        if self.busy == snapshot_id:
            self.busy = None
