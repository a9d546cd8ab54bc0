"""The simulator driver's URL knobs: a host URL can make connecting slow, or be refused."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from adapters import Credentials, DiskSpec, HypervisorError, SnapshotSpec, VmSpec
from adapters.simulator.appliances import ApplianceKnobs
from adapters.simulator.disk import read_hosts
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver


def connect(url: str) -> float:
    started = time.monotonic()
    SimulatorDriver(SimulatedWorld()).connect(Credentials(url, "admin", "secret"))
    return time.monotonic() - started


def test_connect_waits_for_the_delay_named_in_the_url() -> None:
    assert connect("simulator://slow-host?sockets=2&connect_delay=0.3") >= 0.3


def test_connect_is_prompt_without_a_delay() -> None:
    assert connect("simulator://quick-host?sockets=2") < 0.3


@pytest.mark.parametrize("delay", ["soon", "-1", "nan", "601"])
def test_a_delay_that_is_not_a_sane_number_of_seconds_is_refused(delay: str) -> None:
    with pytest.raises(HypervisorError, match="connect_delay"):
        connect(f"simulator://odd-host?connect_delay={delay}")


def test_a_delayed_connect_still_reports_the_host_shape_from_the_url() -> None:
    driver = SimulatorDriver(SimulatedWorld())
    inventory = driver.connect(
        Credentials("simulator://shaped?sockets=3&connect_delay=0.01", "admin", "secret")
    )
    assert inventory.cpu_sockets == 3


def test_a_host_url_can_make_one_vm_action_fail_on_that_host_only() -> None:
    world = SimulatedWorld()
    spec = VmSpec("vm-1", cpu_number=1, cpu_speed_mhz=500, memory_mb=512)
    failing = SimulatorDriver(world)
    failing.connect(Credentials("simulator://bad?fail=start_vm,reboot_vm", "admin", "secret"))
    healthy = SimulatorDriver(world)
    healthy.connect(Credentials("simulator://good", "admin", "secret"))
    with pytest.raises(HypervisorError, match="start_vm fails on bad"):
        failing.start_vm(spec)
    assert "vm-1" not in world.hosts["bad"].vms
    assert healthy.start_vm(spec).state == "Running"


def _on_disk(state_dir, url: str) -> SimulatorDriver:
    """A driver of a fresh world (a new adapter process, say) on hosts kept in `state_dir`."""
    driver = SimulatorDriver(SimulatedWorld(state_dir=str(state_dir)))
    driver.connect(Credentials(url, "admin", "secret"))
    return driver


def test_a_vm_started_through_one_adapter_still_runs_for_the_next_one(tmp_path) -> None:
    spec = VmSpec("i-2-7-VM", cpu_number=1, cpu_speed_mhz=500, memory_mb=512)
    first = _on_disk(tmp_path, "simulator://h1?cores=4")
    first.start_vm(spec)
    second = _on_disk(tmp_path, "simulator://h1?cores=4")
    assert second.vm_status("i-2-7-VM").state == "Running"
    second.start_vm(spec)  # a redelivered start finds it running: no second boot
    assert second.world.hosts["h1"].boots("i-2-7-VM") == 1


def test_the_hosts_vms_can_be_read_from_outside_the_adapter(tmp_path) -> None:
    driver = _on_disk(tmp_path, "simulator://h2")
    driver.start_vm(VmSpec("i-2-8-VM", cpu_number=1, cpu_speed_mhz=500, memory_mb=512))
    driver.start_vm(VmSpec("i-2-9-VM", cpu_number=1, cpu_speed_mhz=500, memory_mb=512))
    driver.stop_vm("i-2-9-VM")
    assert {name: vm["state"] for name, vm in read_hosts(tmp_path)["h2"]["vms"].items()} == {
        "i-2-8-VM": "Running",
        "i-2-9-VM": "Stopped",
    }
    driver.destroy_vm("i-2-8-VM")
    assert set(read_hosts(tmp_path)["h2"]["vms"]) == {"i-2-9-VM"}


def test_a_stopped_vm_keeps_its_data_disk_and_snapshot_across_adapters(tmp_path) -> None:
    disk = DiskSpec("vol-1", device_id=1, size_gb=5)
    spec = VmSpec("i-2-10-VM", cpu_number=1, cpu_speed_mhz=500, memory_mb=512)
    first = _on_disk(tmp_path, "simulator://h3")
    first.start_vm(replace(spec, data_disks=(disk,)))
    first.create_snapshot("i-2-10-VM", SnapshotSpec("s1", memory=False, description="before"))
    first.stop_vm("i-2-10-VM")
    second = _on_disk(tmp_path, "simulator://h3")
    assert [d.disk_id for d in second.vm_disks("i-2-10-VM")] == ["vol-1"]
    assert second.list_snapshots("i-2-10-VM") == ("s1",)


def test_a_control_file_can_slow_every_action_on_one_host(tmp_path) -> None:
    control = tmp_path / "control.json"
    control.write_text('{"slow_hosts": {"slow-one": 0.3}}')
    world = SimulatedWorld()
    world.appliances = ApplianceKnobs(str(control))
    slow = SimulatorDriver(world)
    slow.connect(Credentials("simulator://slow-one", "admin", "secret"))
    started = time.monotonic()
    slow.start_vm(VmSpec("vm-s", cpu_number=1, cpu_speed_mhz=500, memory_mb=512))
    assert time.monotonic() - started >= 0.3
    assert world.appliances.host_delay("slow-one") == 0.3
    assert world.appliances.host_delay("other-host") == 0.0
