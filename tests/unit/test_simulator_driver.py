"""The simulator driver's URL knobs: a host URL can make connecting slow, or be refused."""

from __future__ import annotations

import time

import pytest

from adapters import Credentials, HypervisorError, VmSpec
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from adapters.simulator.keeping import STATE_VARIABLE


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


def test_a_kept_simulated_host_outlives_its_process_and_does_not_boot_a_vm_twice(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv(STATE_VARIABLE, str(tmp_path))
    credentials = Credentials("simulator://kept", "root", "pw")
    spec = VmSpec("i-1-VM", 1, 500, 512)
    before = SimulatorDriver(SimulatedWorld())
    before.connect(credentials)
    before.start_vm(spec)
    after = SimulatorDriver(SimulatedWorld())  # another process, the same hypervisor
    after.connect(credentials)
    assert after.start_vm(spec).state == "Running"
    assert after.world.hosts["kept"].boots("i-1-VM") == 1
