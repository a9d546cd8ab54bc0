"""Commands on volumes, and the ROOT volume that is made and removed with its VM."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.volume_placement import PoolNeeds, follow_size, leave_pool, move_to_pool
from commands.volume_uploads import leave_image_store
from domain.errors import InvalidParameter, InvalidState, NotFound
from domain.snapshot import Snapshot, SnapshotState
from domain.storage_qos import io_limits_of
from domain.vm import VirtualMachine
from domain.volume import (
    DeviceSlots,
    Volume,
    VolumeChanges,
    VolumeExtract,
    VolumeType,
    device_slots_id,
    root_volume_id,
)


def root_volume(
    vm: VirtualMachine, disk_offering_id: UUID | None = None, qos: dict[str, Any] | None = None
) -> Volume:
    """The ROOT disk a newly deployed VM gets: its template's size, or the size asked for; its
    offering is the compute offering, or the disk offering of a VM deployed from an ISO, and
    `qos` what it carries of that offering's storage QoS."""
    compute = vm.compute
    return Volume(
        root_volume_id(vm.id),
        f"ROOT-{vm.instance_name}",
        VolumeType.ROOT,
        vm.account_id,
        vm.domain_id,
        vm.zone_id,
        compute.root_disk_size,
        disk_offering_id or compute.offering_id,
        compute.template_id,
        vm.id,
        qos=qos or None,
    )


@dataclass(frozen=True)
class NewDataDisk:
    """A data disk made with its VM (`deployVirtualMachine diskofferingid=`)."""

    volume_id: UUID
    name: str
    size_gb: int
    disk_offering_id: UUID
    pool: PoolNeeds = field(default_factory=PoolNeeds)  # what it needs of a pool
    qos: dict[str, Any] = field(default_factory=dict)  # its storage QoS (`disk_qos`)


def deploy_data_disk(vm: VirtualMachine, disk: NewDataDisk) -> tuple[Volume, DeviceSlots]:
    """The data disk a new VM is deployed with, created and attached in its first free slot:
    both are saved in the deploy's commit, so the disk counts against the owner's limits there
    and is never left without its VM."""
    volume = _data_volume(
        disk.volume_id,
        disk.name,
        (vm.account_id, vm.domain_id, vm.zone_id),
        disk.size_gb,
        disk.disk_offering_id,
        disk.qos,
    )
    slots = DeviceSlots(vm.id)
    volume.attach(vm.id, vm_facts(vm), slots.take(volume.id, None, set()))
    return volume, slots


def _data_volume(
    volume_id: UUID,
    name: str,
    where: tuple[UUID, UUID, UUID],
    size_gb: int,
    offering_id: UUID,
    qos: dict[str, Any],
    snapshot: dict[str, Any] | None = None,
) -> Volume:
    """A new, unattached data disk; `where` is its account, domain and zone, `qos` what it
    carries of storage QoS, `snapshot` the volume snapshot it is made from."""
    account_id, domain_id, zone_id = where
    return Volume(
        volume_id,
        name,
        VolumeType.DATADISK,
        account_id,
        domain_id,
        zone_id,
        size_gb,
        offering_id,
        None,
        None,
        snapshot=snapshot,
        qos=qos or None,
    )


def snapshot_source(store: Any, snapshot_id: UUID) -> dict[str, Any]:
    """What a volume made from a snapshot records of it: its id, and where its copy is (the
    image store and path, none when its zone had no store). Only a backed-up snapshot is a
    source, as 4.3 checks."""
    snapshot: Snapshot = store.get(Snapshot, snapshot_id, what="snapshot")
    if snapshot.removed or snapshot.state != SnapshotState.BACKED_UP:
        raise InvalidParameter(
            f"Snapshot id={snapshot_id} is not in {SnapshotState.BACKED_UP} state yet and "
            "can't be used for volume creation"
        )
    return {"id": str(snapshot.id), **snapshot.stored}


def disk_entry(volume: Volume, device_id: int) -> dict[str, Any]:
    """A data disk as a start request hands it to the hypervisor: id, slot, size, and the pool
    it was placed on (the driver makes it there)."""
    disk: dict[str, Any] = {
        "disk_id": str(volume.id),
        "device_id": device_id,
        "size_gb": volume.size_gb,
    }
    if volume.pool_id is not None:
        disk["pool_id"] = str(volume.pool_id)
    limits = io_limits_of(getattr(volume, "qos", None))
    if limits:
        disk["io_limits"] = limits
    return disk


def follow_vm(store: Any, aggregates: Sequence[Any]) -> list[Any]:
    """The volumes to save beside an expunged VM: its ROOT volume is destroyed with it (VMs
    older than volumes have none), its data disks are detached and stay, as in CloudStack
    (the host removes the VM and its ROOT disk only)."""
    vm = aggregates[0] if aggregates else None
    if not isinstance(vm, VirtualMachine) or not vm.removed:
        return []
    followers = _detached_from(store, vm.id)
    try:
        root: Volume = store.get(Volume, root_volume_id(vm.id), what="volume")
    except NotFound:
        return followers
    if not root.removed:
        root.destroy_with_vm()
        followers += [root, *leave_pool(store, root)]
    return followers


def root_io_limits(store: Any, vm_id: UUID) -> dict[str, int]:
    """The I/O throttling rates of the VM's ROOT disk (none for VMs older than volumes)."""
    try:
        root: Volume = store.get(Volume, root_volume_id(vm_id), what="volume")
    except NotFound:
        return {}
    return io_limits_of(getattr(root, "qos", None))


def owned_volumes(store: Any, vm_id: UUID) -> list[Volume]:
    """The VM's ROOT volume (VMs older than volumes have none) and its attached data disks."""
    found: list[Volume] = []
    with contextlib.suppress(NotFound):
        found.append(store.get(Volume, root_volume_id(vm_id), what="volume"))
    try:
        slots: DeviceSlots = store.get(DeviceSlots, device_slots_id(vm_id), what="device slots")
    except NotFound:
        return found
    disks = [store.get(Volume, volume_id, what="volume") for volume_id in slots.slots.values()]
    return found + [disk for disk in disks if disk.vm_id == vm_id and not disk.removed]


def _detached_from(store: Any, vm_id: UUID) -> list[Any]:
    try:
        slots: DeviceSlots = store.get(DeviceSlots, device_slots_id(vm_id), what="device slots")
    except NotFound:
        return []
    held = list(slots.slots.values())
    detached: list[Any] = []
    for volume_id in held:
        volume: Volume = store.get(Volume, volume_id, what="volume")
        if volume.vm_id == vm_id and not volume.removed:
            volume.detach()
            detached.append(volume)
        slots.release(volume_id)
    return [*detached, slots] if held else []


@dataclass(frozen=True)
class CreateVolume:
    volume_id: UUID
    name: str
    account_id: UUID
    domain_id: UUID
    zone_id: UUID
    size_gb: int
    disk_offering_id: UUID
    display: bool = True  # False: hidden from its owner (shown to root administrators only)
    snapshot_id: UUID | None = None  # the volume snapshot it is made from
    qos: dict[str, Any] = field(default_factory=dict)  # its storage QoS (`disk_qos`)


def create_volume(store: Any, command: CreateVolume) -> Outcome:
    where = (command.account_id, command.domain_id, command.zone_id)
    source = None if command.snapshot_id is None else snapshot_source(store, command.snapshot_id)
    volume = _data_volume(
        command.volume_id,
        command.name,
        where,
        command.size_gb,
        command.disk_offering_id,
        command.qos,
        source,
    )
    if not command.display:
        volume.update(VolumeChanges(display=False))
    return Outcome(store.last_position(store.save(volume)), volume.id)


@dataclass(frozen=True)
class AttachVolume:
    volume_id: UUID
    vm_id: UUID
    used_device_ids: frozenset[int] = frozenset()
    device_id: int | None = None  # a slot the caller chose; the next free one otherwise
    max_data_volumes: int | None = None  # the hypervisor's limit of data disks per VM
    pool: PoolNeeds = field(default_factory=PoolNeeds)  # what it needs of a pool


def vm_facts(vm: VirtualMachine) -> dict[str, Any]:
    """What a volume checks of the VM it is attached to."""
    state = "Expunged" if vm.removed else vm.state
    return {
        "zone_id": vm.zone_id,
        "account_id": vm.account_id,
        "state": state,
        "hypervisor": vm.compute.hypervisor,
    }


def attach_volume(store: Any, command: AttachVolume) -> Outcome:
    """Attach to a Running or Stopped VM of the same zone and account, in the next free slot."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        volume = store.get(Volume, command.volume_id, what="volume")
        facts = vm_facts(vm)
        slots = _device_slots(store, vm.id)
        device = slots.take(volume.id, command.device_id, set(command.used_device_ids))
        volume.attach(vm.id, facts, device)
        return Outcome(store.last_position(store.save(volume, slots)), volume.id)

    result: Outcome = store.run(attempt)
    return result


def _device_slots(store: Any, vm_id: UUID) -> DeviceSlots:
    try:
        slots: DeviceSlots = store.get(DeviceSlots, device_slots_id(vm_id), what="device slots")
    except NotFound:
        slots = DeviceSlots(vm_id)
    return slots


def detach_volume(store: Any, volume_id: UUID) -> Outcome:
    """Detach a data disk and free its slot on the VM."""

    def attempt() -> Outcome:
        volume = store.get(Volume, volume_id, what="volume")
        vm_id = volume.vm_id
        volume.detach()
        changed: list[Any] = [volume]
        if vm_id is not None:
            slots = _device_slots(store, vm_id)
            slots.release(volume.id)
            changed.append(slots)
        return Outcome(store.last_position(store.save(*changed)), volume.id)

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class ResizeVolume:
    volume_id: UUID
    size_gb: int
    disk_offering_id: UUID | None
    shrink_ok: bool = False


def resize_volume(store: Any, command: ResizeVolume) -> Outcome:
    """Resize on the record; the volume's pool allocates the new size."""

    def attempt() -> Outcome:
        volume: Volume = store.get(Volume, command.volume_id, what="volume")
        volume.resize(command.size_gb, command.disk_offering_id, shrink_ok=command.shrink_ok)
        changed = [volume, *follow_size(store, volume)]
        return Outcome(store.last_position(store.save(*changed)), volume.id)

    result: Outcome = store.run(attempt)
    return result


def delete_volume(store: Any, volume_id: UUID) -> Outcome:
    """Delete a detached data disk; its pool no longer holds it."""

    def attempt() -> Outcome:
        volume: Volume = store.get(Volume, volume_id, what="volume")
        volume.delete()
        changed = [volume, *leave_pool(store, volume), *leave_image_store(store, volume)]
        return Outcome(store.last_position(store.save(*changed)), volume_id)

    result: Outcome = store.run(attempt)
    return result


def attached_disks(store: Any, vm_id: UUID) -> tuple[dict[str, Any], ...]:
    """The data disks attached to the VM (disk id, device id, size), by slot; a disk still
    waiting on a host's answer makes the VM busy."""
    try:
        slots = store.get(DeviceSlots, device_slots_id(vm_id), what="device slots")
    except NotFound:
        return ()
    disks = []
    for device_id, volume_id in sorted(slots.slots.items()):
        volume = store.get(Volume, volume_id, what="volume")
        if volume.pending is not None:
            raise InvalidState(
                f"Volume {volume.name} of this virtual machine is busy ({volume.pending} in "
                "progress); try again when it is done"
            )
        if volume.vm_id == vm_id:
            disks.append(disk_entry(volume, device_id))
    return tuple(disks)


@dataclass(frozen=True)
class UpdateVolume:
    """updateVolume: a root administrator corrects the record; `pool_id` moves it to another
    pool of its zone (the pools' allocations follow)."""

    volume_id: UUID
    changes: VolumeChanges
    pool_id: UUID | None = None


def update_volume(store: Any, command: UpdateVolume) -> Outcome:
    def attempt() -> Outcome:
        volume: Volume = store.get(Volume, command.volume_id, what="volume")
        if volume.removed:
            raise InvalidState(f"Volume {volume.name} has been deleted")
        changes = command.changes
        pools: list[Any] = []
        if command.pool_id is not None:
            pools, name = move_to_pool(store, volume, command.pool_id)
            changes = replace(changes, pool=(command.pool_id, name))
        volume.update(changes)
        return Outcome(store.last_position(store.save(volume, *pools)), volume.id)

    result: Outcome = store.run(attempt)
    return result


def extract_volume(store: Any, volume_id: UUID, offer: VolumeExtract) -> Outcome:
    """Offer the volume for download; refused while a VM it is attached to is not stopped."""

    def attempt() -> Outcome:
        volume: Volume = store.get(Volume, volume_id, what="volume")
        vm_state = None
        if volume.vm_id is not None:
            vm = store.get(VirtualMachine, volume.vm_id, what="virtual machine")
            vm_state = vm.state
        volume.extract(offer, vm_state)
        return Outcome(store.last_position(store.save(volume)), volume.id)

    result: Outcome = store.run(attempt)
    return result
