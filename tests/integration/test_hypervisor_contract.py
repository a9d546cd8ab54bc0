"""The `Hypervisor` contract, run against every peer in `hypervisor_peers.PEERS`.

Each case says what a caller of any driver may rely on: what connecting reports and refuses,
what each VM action leaves behind, and that actions are idempotent by desired state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapters import (
    AuthenticationError,
    DiskSpec,
    Hypervisor,
    HypervisorError,
    IsoSpec,
    NicSpec,
    NotFoundOnHost,
    SnapshotSpec,
    TemplateCapture,
    Unreachable,
    VmSpec,
    VolumeMove,
)
from stratus.actions import Capability
from tests.integration.hypervisor_peers import PEERS, Peer


@pytest.fixture(params=PEERS)
def peer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Peer]:
    with request.param(tmp_path) as chosen:
        yield chosen


@pytest.fixture
def driver_under_test(peer: Peer) -> Hypervisor:
    """The peer's driver, connected with good credentials."""
    peer.driver.connect(peer.credentials)
    return peer.driver


def spec(name: str = "vm-1", cpu_number: int = 1, memory_mb: int = 256) -> VmSpec:
    return VmSpec(name=name, cpu_number=cpu_number, cpu_speed_mhz=1000, memory_mb=memory_mb)


def skip_unless(peer: Peer, case: str, available: object) -> None:
    if case in peer.skip:
        pytest.skip(peer.skip[case])
    if available is None:
        pytest.skip(f"this peer cannot express the case {case!r}")


def test_connect_reports_the_host_inventory(peer: Peer) -> None:
    inventory = peer.driver.connect(peer.credentials)

    reported = {name: getattr(inventory, name) for name in peer.expected}
    assert reported == dict(peer.expected)
    assert inventory.hypervisor_version
    assert inventory.local_storage_bytes >= 0


def test_connect_with_bad_credentials_raises_authentication_error(peer: Peer) -> None:
    skip_unless(peer, "bad_credentials", peer.bad_credentials)
    assert peer.bad_credentials is not None

    with pytest.raises(AuthenticationError) as raised:
        peer.make_driver().connect(peer.bad_credentials)

    assert peer.bad_credentials.password not in str(raised.value)


def test_connect_to_an_unreachable_host_raises_unreachable(peer: Peer) -> None:
    skip_unless(peer, "unreachable", peer.unreachable)
    assert peer.unreachable is not None

    with pytest.raises(Unreachable):
        peer.make_driver().connect(peer.unreachable)


def test_a_connected_driver_answers_ping(driver_under_test: Hypervisor) -> None:
    assert driver_under_test.ping() is True


def test_a_closed_driver_does_not_answer_ping(driver_under_test: Hypervisor) -> None:
    driver_under_test.close()

    assert driver_under_test.ping() is False


def test_start_creates_and_runs_the_vm(driver_under_test: Hypervisor) -> None:
    status = driver_under_test.start_vm(spec(cpu_number=2, memory_mb=512))

    assert (status.name, status.state, status.cpu_number, status.memory_mb) == (
        "vm-1",
        "Running",
        2,
        512,
    )
    assert driver_under_test.vm_status("vm-1") == status


def test_start_twice_acts_once(peer: Peer, driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())
    first_run = peer.run_identity("vm-1") if peer.run_identity else None

    again = driver_under_test.start_vm(spec())

    assert again.state == "Running"
    if peer.run_identity is not None:
        assert peer.run_identity("vm-1") == first_run


def test_stop_leaves_the_vm_stopped_and_stopping_again_succeeds(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())

    assert driver_under_test.stop_vm("vm-1").state == "Stopped"
    assert driver_under_test.stop_vm("vm-1").state == "Stopped"
    assert driver_under_test.vm_status("vm-1").state == "Stopped"


def test_forced_stop_stops_the_vm(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())

    assert driver_under_test.stop_vm("vm-1", forced=True).state == "Stopped"


def test_a_stopped_vm_starts_again(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.stop_vm("vm-1")

    assert driver_under_test.start_vm(spec()).state == "Running"


def test_reboot_leaves_the_vm_running(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())

    assert driver_under_test.reboot_vm("vm-1").state == "Running"
    assert driver_under_test.vm_status("vm-1").state == "Running"


def test_scaling_a_stopped_vm_takes_effect_when_it_starts(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec(cpu_number=1, memory_mb=256))
    driver_under_test.stop_vm("vm-1")

    scaled = driver_under_test.scale_vm("vm-1", cpu_number=4, memory_mb=1024)
    started = driver_under_test.start_vm(spec(cpu_number=4, memory_mb=1024))

    assert (scaled.state, scaled.cpu_number, scaled.memory_mb) == ("Stopped", 4, 1024)
    assert (started.state, started.cpu_number, started.memory_mb) == ("Running", 4, 1024)


def test_starting_a_stopped_vm_applies_the_size_it_is_started_with(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec(cpu_number=1, memory_mb=256))
    driver_under_test.stop_vm("vm-1")

    started = driver_under_test.start_vm(spec(cpu_number=2, memory_mb=768))

    assert (started.state, started.cpu_number, started.memory_mb) == ("Running", 2, 768)
    assert driver_under_test.vm_status("vm-1").memory_mb == 768


def test_destroy_removes_the_vm_and_destroying_again_succeeds(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())

    driver_under_test.destroy_vm("vm-1")
    driver_under_test.destroy_vm("vm-1")

    with pytest.raises(NotFoundOnHost):
        driver_under_test.vm_status("vm-1")


def test_vm_status_of_a_missing_vm_raises_not_found(driver_under_test: Hypervisor) -> None:
    with pytest.raises(NotFoundOnHost):
        driver_under_test.vm_status("no-such-vm")


@pytest.mark.parametrize("action", ["stop", "reboot", "scale"])
def test_actions_on_a_missing_vm_raise_not_found(
    driver_under_test: Hypervisor, action: str
) -> None:
    calls = {
        "stop": lambda: driver_under_test.stop_vm("no-such-vm"),
        "reboot": lambda: driver_under_test.reboot_vm("no-such-vm"),
        "scale": lambda: driver_under_test.scale_vm("no-such-vm", 1, 256),
    }

    with pytest.raises(NotFoundOnHost):
        calls[action]()


def test_destroying_one_vm_leaves_the_others_alone(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec("vm-a"))
    driver_under_test.start_vm(spec("vm-b"))
    driver_under_test.destroy_vm("vm-a")

    assert driver_under_test.vm_status("vm-b").state == "Running"
    with pytest.raises(NotFoundOnHost):
        driver_under_test.vm_status("vm-a")


# Data disks ---------------------------------------------------------------------------------


def disk(disk_id: str = "disk-a", device_id: int = 1, size_gb: int = 2) -> DiskSpec:
    return DiskSpec(disk_id=disk_id, device_id=device_id, size_gb=size_gb)


def test_attaching_a_disk_plugs_it_into_its_slot_and_attaching_again_acts_once(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())

    attached = driver_under_test.attach_volume("vm-1", disk())
    again = driver_under_test.attach_volume("vm-1", disk())

    assert (attached.disk_id, attached.device_id, attached.size_gb) == ("disk-a", 1, 2)
    assert again == attached
    assert driver_under_test.vm_disks("vm-1") == (attached,)


def test_a_disk_attached_to_a_stopped_vm_is_there_when_it_starts(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.stop_vm("vm-1")

    driver_under_test.attach_volume("vm-1", disk())
    started = driver_under_test.start_vm(spec())

    assert started.state == "Running"
    assert [d.disk_id for d in driver_under_test.vm_disks("vm-1")] == ["disk-a"]


def test_a_vm_started_with_data_disks_has_them_in_their_slots(
    driver_under_test: Hypervisor,
) -> None:
    wanted = (disk("disk-a", 1, 2), disk("disk-b", 2, 3))

    driver_under_test.start_vm(replace(spec(), data_disks=wanted))

    found = driver_under_test.vm_disks("vm-1")
    assert [(d.disk_id, d.device_id, d.size_gb) for d in found] == [
        ("disk-a", 1, 2),
        ("disk-b", 2, 3),
    ]


def test_detaching_unplugs_the_disk_and_detaching_again_succeeds(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.attach_volume("vm-1", disk("disk-a", 1))
    driver_under_test.attach_volume("vm-1", disk("disk-b", 2))

    driver_under_test.detach_volume("vm-1", "disk-a")
    driver_under_test.detach_volume("vm-1", "disk-a")

    assert [d.disk_id for d in driver_under_test.vm_disks("vm-1")] == ["disk-b"]


def test_a_detached_disk_attached_again_keeps_its_size(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.attach_volume("vm-1", disk(size_gb=2))
    driver_under_test.detach_volume("vm-1", "disk-a")

    again = driver_under_test.attach_volume("vm-1", disk(device_id=2, size_gb=2))

    assert (again.device_id, again.size_gb) == (2, 2)


def test_resizing_grows_an_attached_disk_and_resizing_again_acts_once(
    peer: Peer, driver_under_test: Hypervisor
) -> None:
    skip_unless(peer, "resize_disk", True)
    driver_under_test.start_vm(spec())
    driver_under_test.attach_volume("vm-1", disk(size_gb=2))

    grown = driver_under_test.resize_volume("vm-1", "disk-a", 4)
    again = driver_under_test.resize_volume("vm-1", "disk-a", 4)

    assert (grown.size_gb, again.size_gb) == (4, 4)
    assert driver_under_test.vm_disks("vm-1")[0].size_gb == 4


def test_resizing_refuses_to_shrink_a_disk_unless_told_it_may(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.attach_volume("vm-1", disk(size_gb=4))

    with pytest.raises(HypervisorError):
        driver_under_test.resize_volume("vm-1", "disk-a", 2)

    assert driver_under_test.vm_disks("vm-1")[0].size_gb == 4


def test_a_taken_slot_is_refused(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.attach_volume("vm-1", disk("disk-a", 1))

    with pytest.raises(HypervisorError):
        driver_under_test.attach_volume("vm-1", disk("disk-b", 1))

    assert [d.disk_id for d in driver_under_test.vm_disks("vm-1")] == ["disk-a"]


def test_disk_actions_on_a_missing_vm_raise_not_found(driver_under_test: Hypervisor) -> None:
    with pytest.raises(NotFoundOnHost):
        driver_under_test.attach_volume("no-such-vm", disk())
    with pytest.raises(NotFoundOnHost):
        driver_under_test.detach_volume("no-such-vm", "disk-a")


# Snapshots ---------------------------------------------------------------------------------


def snap(name: str = "s1", *, memory: bool = False) -> SnapshotSpec:
    return SnapshotSpec(name=name, description="taken by the contract", memory=memory)


def test_a_snapshot_is_taken_once_by_name(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())

    first = driver_under_test.create_snapshot("vm-1", snap())
    again = driver_under_test.create_snapshot("vm-1", snap())

    assert first.name == again.name == "s1"
    assert driver_under_test.list_snapshots("vm-1") == ("s1",)


def test_only_a_running_vm_has_its_memory_kept(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())
    running = driver_under_test.create_snapshot("vm-1", snap("while-running", memory=True))
    driver_under_test.stop_vm("vm-1")

    stopped = driver_under_test.create_snapshot("vm-1", snap("while-stopped", memory=True))

    assert (running.memory, stopped.memory) == (True, False)
    assert driver_under_test.list_snapshots("vm-1") == ("while-running", "while-stopped")


def test_reverting_a_stopped_vm_restores_its_shape_and_leaves_it_stopped(
    peer: Peer, driver_under_test: Hypervisor
) -> None:
    skip_unless(peer, "revert_restores_shape", True)
    driver_under_test.start_vm(spec(cpu_number=1, memory_mb=256))
    driver_under_test.stop_vm("vm-1")
    driver_under_test.create_snapshot("vm-1", snap())
    driver_under_test.scale_vm("vm-1", cpu_number=2, memory_mb=512)

    reverted = driver_under_test.revert_snapshot("vm-1", "s1")

    assert (reverted.state, reverted.cpu_number, reverted.memory_mb) == ("Stopped", 1, 256)
    assert driver_under_test.vm_status("vm-1").state == "Stopped"


def test_reverting_a_running_vm_to_a_memory_snapshot_leaves_it_running(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.create_snapshot("vm-1", snap(memory=True))

    reverted = driver_under_test.revert_snapshot("vm-1", "s1")
    again = driver_under_test.revert_snapshot("vm-1", "s1")

    assert reverted.state == again.state == "Running"
    assert driver_under_test.vm_status("vm-1").state == "Running"


def test_deleting_a_snapshot_keeps_the_vm_and_deleting_again_succeeds(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.create_snapshot("vm-1", snap("s1"))
    driver_under_test.create_snapshot("vm-1", snap("s2"))

    driver_under_test.delete_snapshot("vm-1", "s1")
    driver_under_test.delete_snapshot("vm-1", "s1")

    assert driver_under_test.list_snapshots("vm-1") == ("s2",)
    assert driver_under_test.vm_status("vm-1").state == "Running"


def test_reverting_to_a_missing_snapshot_raises_not_found(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())

    with pytest.raises(NotFoundOnHost):
        driver_under_test.revert_snapshot("vm-1", "no-such-snapshot")


def test_snapshots_of_a_missing_vm(driver_under_test: Hypervisor) -> None:
    driver_under_test.delete_snapshot("no-such-vm", "s1")  # nothing to remove: done

    with pytest.raises(NotFoundOnHost):
        driver_under_test.create_snapshot("no-such-vm", snap())
    with pytest.raises(NotFoundOnHost):
        driver_under_test.list_snapshots("no-such-vm")


def test_destroying_a_vm_removes_its_snapshots(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.create_snapshot("vm-1", snap())

    driver_under_test.destroy_vm("vm-1")
    driver_under_test.start_vm(spec())

    assert driver_under_test.list_snapshots("vm-1") == ()


# ---- the CD drive -----------------------------------------------------------------------


def iso(iso_id: str = "iso-a") -> IsoSpec:
    return IsoSpec(iso_id, f"http://images.example.org/{iso_id}.iso", "zone-1")


def _with_drive(peer: Peer, *isos: IsoSpec) -> Hypervisor:
    if Capability.ISOS not in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver has no CD drive (see the refusal case)")
    peer.driver.connect(peer.credentials)
    for each in isos:
        peer.provide_iso(each)
    return peer.driver


def test_an_iso_goes_into_the_cd_drive_once_and_comes_out(peer: Peer) -> None:
    driver = _with_drive(peer, iso("iso-a"), iso("iso-b"))
    driver.start_vm(spec())
    assert driver.vm_iso("vm-1") is None
    location = driver.attach_iso("vm-1", iso("iso-a"))
    assert location and driver.vm_iso("vm-1") == location
    assert driver.attach_iso("vm-1", iso("iso-a")) == location  # again: nothing changes
    with pytest.raises(HypervisorError):
        driver.attach_iso("vm-1", iso("iso-b"))  # the drive holds another
    assert driver.vm_iso("vm-1") == location
    driver.detach_iso("vm-1")
    assert driver.vm_iso("vm-1") is None
    driver.detach_iso("vm-1")  # an empty drive stays empty
    assert driver.vm_status("vm-1").state == "Running"


def test_an_iso_put_into_a_stopped_vm_is_there_when_it_starts(peer: Peer) -> None:
    driver = _with_drive(peer, iso())
    driver.start_vm(spec())
    driver.stop_vm("vm-1")
    location = driver.attach_iso("vm-1", iso())
    driver.start_vm(spec())
    assert driver.vm_iso("vm-1") == location


def test_a_vm_started_from_an_iso_has_it_in_its_drive_from_its_first_start(peer: Peer) -> None:
    driver = _with_drive(peer, iso())
    driver.start_vm(replace(spec(), iso=iso()))
    location = driver.vm_iso("vm-1")
    assert location
    driver.stop_vm("vm-1", forced=True)
    driver.start_vm(replace(spec(), iso=iso()))  # a later start changes nothing
    assert driver.vm_iso("vm-1") == location
    assert driver.vm_status("vm-1").state == "Running"


def test_cd_drive_actions_on_a_missing_vm_raise_not_found(peer: Peer) -> None:
    driver = _with_drive(peer, iso())
    with pytest.raises(NotFoundOnHost):
        driver.attach_iso("ghost", iso())
    with pytest.raises(NotFoundOnHost):
        driver.detach_iso("ghost")


def test_a_driver_without_a_cd_drive_refuses_naming_its_hypervisor(peer: Peer) -> None:
    if Capability.ISOS in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver has a CD drive (see the cases above)")
    with pytest.raises(HypervisorError, match="not supported yet on"):
        peer.driver.attach_iso("vm-1", iso())
    with pytest.raises(HypervisorError, match="not supported yet on"):
        peer.driver.detach_iso("vm-1")


# ---- guest NICs (addNicToVirtualMachine, removeNicFromVirtualMachine) -----------------------

NIC_A = NicSpec("02:00:0a:0b:0c:01", "vlan://501", "10.1.1.20")
NIC_B = NicSpec("02:00:0a:0b:0c:02", "vxlan://5001", "10.2.2.20")


def _with_nics(peer: Peer) -> Hypervisor:
    if Capability.NICS not in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver plugs no nics (see the refusal case)")
    peer.driver.connect(peer.credentials)
    return peer.driver


def test_a_nic_is_plugged_into_a_running_vm_once_and_unplugged(peer: Peer) -> None:
    driver = _with_nics(peer)
    driver.start_vm(spec())
    assert driver.plug_nic("vm-1", NIC_A) == (NIC_A.mac_address,)
    assert driver.plug_nic("vm-1", NIC_A) == (NIC_A.mac_address,)  # again: nothing changes
    assert driver.plug_nic("vm-1", NIC_B) == (NIC_A.mac_address, NIC_B.mac_address)
    assert driver.unplug_nic("vm-1", NIC_A.mac_address) == (NIC_B.mac_address,)
    assert driver.unplug_nic("vm-1", NIC_A.mac_address) == (NIC_B.mac_address,)  # stays away
    assert driver.vm_status("vm-1").state == "Running"


def test_a_nic_plugged_into_a_stopped_vm_is_there_when_it_starts(peer: Peer) -> None:
    driver = _with_nics(peer)
    driver.start_vm(spec())
    driver.stop_vm("vm-1")
    driver.plug_nic("vm-1", NIC_A)
    driver.start_vm(replace(spec(), nics=(NIC_A,)))
    assert driver.unplug_nic("vm-1", NIC_B.mac_address) == (NIC_A.mac_address,)


def test_a_start_brings_up_the_nics_it_names_in_order_and_no_others(peer: Peer) -> None:
    driver = _with_nics(peer)
    driver.start_vm(replace(spec(), nics=(NIC_A,)))
    driver.plug_nic("vm-1", NIC_B)
    driver.stop_vm("vm-1")
    driver.start_vm(replace(spec(), nics=(NIC_A, NIC_B)))  # stopped and started again
    both = (NIC_A.mac_address, NIC_B.mac_address)
    assert driver.unplug_nic("vm-1", "02:00:0a:0b:0c:ff") == both
    driver.stop_vm("vm-1")
    driver.start_vm(replace(spec(), nics=(NIC_B,)))  # NIC_A was removed while it was stopped
    assert driver.unplug_nic("vm-1", "02:00:0a:0b:0c:ff") == (NIC_B.mac_address,)
    driver.stop_vm("vm-1")
    driver.destroy_vm("vm-1")
    driver.start_vm(replace(spec(), nics=(NIC_B, NIC_A)))  # a host that never had it
    assert driver.unplug_nic("vm-1", "02:00:0a:0b:0c:ff") == both[::-1]


def test_nic_actions_on_a_missing_vm_raise_not_found(peer: Peer) -> None:
    driver = _with_nics(peer)
    with pytest.raises(NotFoundOnHost):
        driver.plug_nic("ghost", NIC_A)
    with pytest.raises(NotFoundOnHost):
        driver.unplug_nic("ghost", NIC_A.mac_address)


def test_a_driver_without_nic_plugging_refuses_naming_its_hypervisor(peer: Peer) -> None:
    if Capability.NICS in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver plugs nics (see the cases above)")
    with pytest.raises(HypervisorError, match="not supported yet on"):
        peer.driver.plug_nic("vm-1", NIC_A)
    with pytest.raises(HypervisorError, match="not supported yet on"):
        peer.driver.unplug_nic("vm-1", NIC_A.mac_address)


# ---- templates from a VM's root disk (createTemplate) ---------------------------------------


def capture(template_id: str = "tpl-1") -> TemplateCapture:
    return TemplateCapture(template_id, "volume-1", "zone-1", "QCOW2")


def _capturing(peer: Peer) -> Hypervisor:
    if Capability.TEMPLATES not in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver makes no templates (see the refusal case)")
    peer.driver.connect(peer.credentials)
    return peer.driver


# ---- a root disk made anew (restoreVirtualMachine) ------------------------------------------


def _restorer(peer: Peer) -> Hypervisor:
    if Capability.REIMAGING not in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver does not restore (see the refusal case)")
    peer.driver.connect(peer.credentials)
    return peer.driver


def test_a_stopped_vms_root_disk_becomes_a_template_once(peer: Peer) -> None:
    driver = _capturing(peer)
    driver.start_vm(replace(spec(), root_disk_gb=2))
    with pytest.raises(HypervisorError):
        driver.create_template("vm-1", capture())  # it runs: its disk is in use
    driver.stop_vm("vm-1")
    made = driver.create_template("vm-1", capture())
    assert made["size"] == 2 * 1024**3
    assert 0 < made["physical_size"] <= made["size"]
    assert driver.create_template("vm-1", capture()) == made  # again: the same template
    assert driver.vm_status("vm-1").state == "Stopped"
    driver.start_vm(replace(spec(), root_disk_gb=2))  # the VM is as it was
    assert driver.vm_status("vm-1").state == "Running"


def test_a_template_from_a_missing_vm_raises_not_found(peer: Peer) -> None:
    driver = _capturing(peer)
    with pytest.raises(NotFoundOnHost):
        driver.create_template("ghost", capture())


def test_a_driver_that_makes_no_templates_refuses_naming_its_hypervisor(peer: Peer) -> None:
    if Capability.TEMPLATES in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver makes templates (see the cases above)")
    with pytest.raises(HypervisorError, match="not supported yet on"):
        peer.driver.create_template("vm-1", capture())


def test_a_restored_vm_keeps_its_power_state(peer: Peer) -> None:
    driver = _restorer(peer)
    driver.start_vm(replace(spec(), root_disk_gb=1))
    driver.start_vm(replace(spec("vm-2"), root_disk_gb=1))
    driver.stop_vm("vm-2", forced=True)
    assert driver.restore_vm(replace(spec(), root_disk_gb=1), "r-1").state == "Running"
    assert driver.restore_vm(replace(spec(), root_disk_gb=1), "r-1").state == "Running"
    assert driver.restore_vm(replace(spec("vm-2"), root_disk_gb=1), "r-2").state == "Stopped"
    assert driver.start_vm(replace(spec("vm-2"), root_disk_gb=1)).state == "Running"


def test_restoring_a_missing_vm_raises_not_found(peer: Peer) -> None:
    driver = _restorer(peer)
    with pytest.raises(NotFoundOnHost):
        driver.restore_vm(spec("ghost"), "r-1")


def test_a_driver_that_cannot_restore_refuses_naming_its_hypervisor(peer: Peer) -> None:
    if Capability.REIMAGING in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver restores (see the cases above)")
    with pytest.raises(HypervisorError, match="not supported yet on"):
        peer.driver.restore_vm(spec(), "r-1")


# ---- live migration (migrateVirtualMachine, migrateSystemVm, host maintenance) ----------------


def _migrating(peer: Peer) -> Hypervisor:
    if Capability.MIGRATION not in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver does not migrate (see the refusal case)")
    skip_unless(peer, "migrate", peer.second_host)
    peer.driver.connect(peer.credentials)
    return peer.driver


def _on_second_host(peer: Peer) -> Hypervisor:
    assert peer.second_host is not None
    other = peer.make_driver()
    other.connect(peer.second_host)
    return other


def test_a_running_vm_moves_live_to_the_other_host_with_its_disks(peer: Peer) -> None:
    driver = _migrating(peer)
    assert peer.second_host is not None
    driver.start_vm(replace(spec(cpu_number=2, memory_mb=512), data_disks=(disk("d-1"),)))

    moved = driver.migrate_vm("vm-1", peer.second_host)

    assert (moved.state, moved.cpu_number, moved.memory_mb) == ("Running", 2, 512)
    with pytest.raises(NotFoundOnHost):
        driver.vm_status("vm-1")
    other = _on_second_host(peer)
    assert other.vm_status("vm-1").state == "Running"
    assert [d.disk_id for d in other.vm_disks("vm-1")] == ["d-1"]
    # Asked again (a redelivered request), it reports the VM where it now runs.
    assert driver.migrate_vm("vm-1", peer.second_host).state == "Running"
    assert other.vm_status("vm-1").state == "Running"


def test_a_stopped_vm_is_not_migrated_live_and_stays(peer: Peer) -> None:
    driver = _migrating(peer)
    assert peer.second_host is not None
    driver.start_vm(spec())
    driver.stop_vm("vm-1", forced=True)

    with pytest.raises(HypervisorError, match="live"):
        driver.migrate_vm("vm-1", peer.second_host)
    assert driver.vm_status("vm-1").state == "Stopped"


def test_migrating_a_missing_vm_raises_not_found(peer: Peer) -> None:
    driver = _migrating(peer)
    assert peer.second_host is not None
    with pytest.raises(NotFoundOnHost):
        driver.migrate_vm("ghost", peer.second_host)


def test_a_driver_that_cannot_migrate_refuses_naming_its_hypervisor(peer: Peer) -> None:
    if Capability.MIGRATION in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver migrates (see the cases above)")
    with pytest.raises(HypervisorError, match="not supported yet on"):
        peer.driver.migrate_vm("vm-1", peer.credentials)


# ---- storage motion (migrateVolume, migrateVirtualMachineWithVolume) -------------------------
# What the drivers that move disks do is told by `test_volume_moves.py` (pools connected to the
# host); here, that every other driver refuses.


def test_a_driver_without_storage_motion_refuses_naming_its_hypervisor(peer: Peer) -> None:
    if Capability.STORAGE_MOTION in peer.driver.capabilities:
        pytest.skip(f"the {peer.driver.kind} driver moves disks (see test_volume_moves.py)")
    move = VolumeMove("disk-1", 1, "pool-a", "pool-b", vm_name="vm-1")
    with pytest.raises(HypervisorError, match="not supported yet on"):
        peer.driver.migrate_volume(move)
