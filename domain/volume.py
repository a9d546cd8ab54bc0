"""Volume: a VM's ROOT disk or a DATADISK, its size, its offering and the VM it is attached to.

Sizes are whole GiB. Every event that changes what usage bills (creation, resize, destruction)
carries the size, the disk offering and the template, so usage needs no read model.
Attachment is bookkeeping on the management side: no hypervisor is asked for now. A VM's
device slots are settled by its `DeviceSlots` aggregate, saved with every attach and detach.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, ResourceInUse

MAX_INT = 2**31 - 1
ROOT_NAMESPACE = UUID("6a0f3c56-2f8e-4c55-9a38-0b1f4a4f0c3e")
SLOTS_NAMESPACE = UUID("0d1e5f2a-7c4b-4f7e-9b8a-3c2d1e0f9a8b")
ATTACHABLE_VM_STATES = ("Running", "Stopped")
RESERVED_DEVICE_ID = 3  # CloudStack keeps device 3 for the CD-ROM


class VolumeType:
    ROOT = "ROOT"
    DATADISK = "DATADISK"


class VolumeState:
    ALLOCATED = "Allocated"  # a data disk never attached: no storage has been used yet
    READY = "Ready"


def root_volume_id(vm_id: UUID) -> UUID:
    """The ROOT volume's id derives from its VM's, so the VM's commands can find it."""
    return uuid5(ROOT_NAMESPACE, str(vm_id))


def next_device_id(used: set[int]) -> int:
    """The lowest free device slot for a data disk (0 is the ROOT disk, 3 the CD-ROM)."""
    device = 1
    while device in used or device == RESERVED_DEVICE_ID:
        device += 1
    return device


def check_size(size_gb: int | None) -> int:
    if size_gb is None or not 1 <= size_gb <= MAX_INT:
        raise InvalidParameter("Please specify a disk size of at least 1 Gb.")
    return size_gb


class Volume(Aggregate):
    """A disk; attached to at most one VM at a time."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        name: str,
        kind: str,
        owner_account_id: UUID,
        owner_domain_id: UUID,
        zone_id: UUID,
        size_gb: int,
        disk_offering_id: UUID | None,
        template_id: UUID | None,
        vm_id: UUID | None,
    ) -> None:
        if not name:
            raise InvalidParameter("A volume needs a name")
        self.name, self.kind = name, kind
        self.account_id, self.domain_id, self.zone_id = owner_account_id, owner_domain_id, zone_id
        self.size_gb = check_size(size_gb)
        self.disk_offering_id, self.template_id = disk_offering_id, template_id
        self.vm_id = vm_id
        self.device_id: int | None = 0 if vm_id is not None else None
        self.state = VolumeState.READY if vm_id is not None else VolumeState.ALLOCATED
        self.removed = False

    def _check_present(self) -> None:
        if self.removed:
            raise InvalidState(f"Volume {self.name} has been deleted")

    def _check_data(self, what: str) -> None:
        self._check_present()
        if self.kind != VolumeType.DATADISK:
            raise InvalidParameter(f"Please specify a data volume to {what}")

    def facts(self) -> dict[str, Any]:
        """What usage bills for this volume, carried on the events that change it."""
        return {
            "size_gb": self.size_gb,
            "disk_offering_id": self.disk_offering_id,
            "template_id": self.template_id,
            "zone_id": self.zone_id,
            "kind": self.kind,
        }

    # Attach, detach -----------------------------------------------------------------------

    def attach(self, vm_id: UUID, vm: dict[str, Any], device_id: int) -> None:
        """Attach to a VM (its `zone_id`, `state` and `account_id` given) in slot `device_id`."""
        self._check_data("attach")
        if self.vm_id is not None:
            raise InvalidState(f"Volume {self.name} is already attached to a VM; detach it first")
        if vm["zone_id"] != self.zone_id:
            raise InvalidParameter("The volume and the VM must be in the same zone")
        if vm["account_id"] != self.account_id:
            raise InvalidParameter("The volume and the VM must belong to the same account")
        if vm["state"] not in ATTACHABLE_VM_STATES:
            raise InvalidState(
                f"Please specify a VM that is either running or stopped (it is {vm['state']})"
            )
        self._attached(vm_id=vm_id, device_id=device_id)

    @event("Attached")
    def _attached(self, vm_id: UUID, device_id: int) -> None:
        self.vm_id, self.device_id, self.state = vm_id, device_id, VolumeState.READY

    def detach(self) -> None:
        self._check_data("detach")
        if self.vm_id is None:
            raise InvalidState(f"Volume {self.name} is not attached to any VM")
        self._detached(vm_id=self.vm_id)

    @event("Detached")
    def _detached(self, vm_id: UUID) -> None:
        self.vm_id, self.device_id = None, None

    # Resize -------------------------------------------------------------------------------

    def resize(self, size_gb: int, disk_offering_id: UUID | None, *, shrink_ok: bool) -> None:
        """Grow (or, signed off with `shrink_ok`, shrink) to `size_gb` under an offering."""
        self._check_data("resize")
        check_size(size_gb)
        if size_gb < self.size_gb and not shrink_ok:
            raise InvalidParameter(
                f"Going from existing size of {self.size_gb} GB to size of {size_gb} GB would "
                "shrink the volume; sign off by supplying the shrinkok parameter with value true"
            )
        if size_gb == self.size_gb and disk_offering_id == self.disk_offering_id:
            raise InvalidParameter(f"Volume {self.name} already has that size and offering")
        self._resized(size_gb=size_gb, disk_offering_id=disk_offering_id, previous=self.facts())

    @event("Resized")
    def _resized(
        self, size_gb: int, disk_offering_id: UUID | None, previous: dict[str, Any]
    ) -> None:
        self.size_gb, self.disk_offering_id = size_gb, disk_offering_id

    # Delete -------------------------------------------------------------------------------

    def delete(self) -> None:
        """Delete a data disk; refused while it is attached."""
        self._check_data("delete")
        if self.vm_id is not None:
            raise ResourceInUse(
                "Please specify a volume that is not attached to any VM (detach it first)"
            )
        self._destroyed(facts=self.facts())

    def destroy_with_vm(self) -> None:
        """The ROOT disk goes when its VM is expunged."""
        if not self.removed:
            self._destroyed(facts=self.facts())

    @event("Destroyed")
    def _destroyed(self, facts: dict[str, Any]) -> None:
        self.vm_id, self.device_id, self.removed = None, None, True


def device_slots_id(vm_id: UUID) -> UUID:
    return uuid5(SLOTS_NAMESPACE, str(vm_id))


class DeviceSlots(Aggregate):
    """The data-disk slots of one VM. Every attach and detach saves it beside the volume, so two
    attaches racing for one VM write the same version of it and only one keeps its slot: the
    other is retried and takes the next free one."""

    @event("Created")
    def __init__(self, vm_id: UUID) -> None:
        self.vm_id = vm_id
        self.slots: dict[int, UUID] = {}

    @classmethod
    def create_id(cls, vm_id: UUID) -> UUID:
        return device_slots_id(vm_id)

    def take(self, volume_id: UUID, wanted: int | None, known_used: set[int]) -> int:
        """The slot `volume_id` gets: `wanted`, or the lowest free one. `known_used` adds the
        slots of attachments older than this record."""
        used = set(self.slots) | known_used
        if wanted is None:
            device = next_device_id(used)
        elif wanted in used or wanted in (0, RESERVED_DEVICE_ID) or wanted < 0:
            raise InvalidParameter(f"Device id {wanted} is taken or reserved on this VM")
        else:
            device = wanted
        self._taken(device_id=device, volume_id=volume_id)
        return device

    @event("Taken")
    def _taken(self, device_id: int, volume_id: UUID) -> None:
        self.slots[device_id] = volume_id

    def release(self, volume_id: UUID) -> None:
        if volume_id in self.slots.values():
            self._released(volume_id=volume_id)

    @event("Released")
    def _released(self, volume_id: UUID) -> None:
        self.slots = {d: v for d, v in self.slots.items() if v != volume_id}
