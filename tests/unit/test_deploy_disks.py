"""The disks a deploy makes beside its template's, given-when-then on the aggregates, no I/O: a
data disk created and attached to the new VM in its first slot, and a VM installed from an ISO
that has it in its CD drive from the start and hands it to the host with every start."""

from __future__ import annotations

from uuid import uuid4

import pytest

from api.cloudstack.catalog import DiskOffering, disk_size
from commands.volumes import NewDataDisk, deploy_data_disk, disk_entry, root_volume
from domain.compute import Compute
from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret
from domain.vm import HostAccess, VirtualMachine
from domain.volume import VolumeState, VolumeType

ISO = {
    "id": str(uuid4()),
    "name": "setup",
    "display_text": "setup disc",
    "url": "http://images.example.org/setup.iso",
    "zone_id": str(uuid4()),
}
ACCESS = HostAccess(uuid4(), "simulator://h1", "root", Secret("pw"), "Simulator")


def _vm() -> VirtualMachine:
    shape = Compute(uuid4(), 1, 500, 512, False, uuid4(), "Simulator", 20)
    return VirtualMachine(
        uuid4(), "vm", "vm", "i-1-VM", uuid4(), uuid4(), uuid4(), "os", shape.facts()
    )


def test_a_deploys_data_disk_is_made_in_the_vms_first_slot_and_handed_to_its_start() -> None:
    vm = _vm()
    offering = uuid4()
    disk, slots = deploy_data_disk(vm, NewDataDisk(uuid4(), "DATA-i-1-VM", 5, offering))
    assert (disk.kind, disk.vm_id, disk.device_id, disk.state) == (
        VolumeType.DATADISK, vm.id, 1, VolumeState.READY,
    )  # fmt: skip
    assert (disk.size_gb, disk.disk_offering_id, slots.slots) == (5, offering, {1: disk.id})
    assert [type(e).__name__ for e in disk.collect_events()] == ["Created", "Attached"]
    vm.request_start("r1", None, ACCESS, "vm:r1", (disk_entry(disk, 1),))
    [start] = vm.collect_events()[-1:]
    assert start.data_disks == [{"disk_id": str(disk.id), "device_id": 1, "size_gb": 5}]
    assert start.iso is None


def test_a_vm_installed_from_an_iso_starts_with_it_in_its_drive_on_a_disk_offerings_root() -> None:
    vm = _vm()
    vm.boot_from_iso(ISO)
    assert vm.iso_in_drive == ISO
    offering = uuid4()
    root = root_volume(vm, offering)
    assert (root.kind, root.size_gb, root.disk_offering_id) == (VolumeType.ROOT, 20, offering)
    vm.request_start("r1", None, ACCESS, "vm:r1")
    assert vm.collect_events()[-1].iso == ISO
    with pytest.raises(InvalidState):
        vm.boot_from_iso(ISO)  # once placed on a host, an ISO is attached, not booted from


def test_a_disk_offering_sizes_its_disk_as_4_3_answers() -> None:
    fixed = DiskOffering(str(uuid4()), "Small", 5, customized=False)
    custom = DiskOffering(str(uuid4()), "Custom", 0, customized=True)
    assert (disk_size(fixed, None), disk_size(custom, 12)) == (5, 12)
    with pytest.raises(InvalidParameter, match="requires a custom size"):
        disk_size(custom, None)
    with pytest.raises(InvalidParameter, match="does not allow custom size"):
        disk_size(fixed, 7)
    with pytest.raises(InvalidParameter, match="at least 1"):
        disk_size(custom, 0)
