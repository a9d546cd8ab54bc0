"""What the drivers do with the public SSH key a start request carries: the simulator keeps it
with the VM, KVM writes it into the domain's metadata (libvirt's test driver shows it), and a
later start with another key replaces it."""

from __future__ import annotations

import pytest

from adapters import Credentials
from adapters.handlers import HANDLERS
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver

START, STOP = HANDLERS["start_vm"], HANDLERS["stop_vm"]
ALICE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBFzvVLDRdX2n1y7mPgFbcJ7EXuMqyUW1Bf4KMDdBkaU alice"
BOB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDEO0HwQ1Wm5yCgzBqp4L6z8z0v9wtAbX+DRSObaMU2V bob"


def _start(driver: object, name: str, key: str) -> None:
    START(
        driver,
        {"name": name, "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256, "ssh_key": key},
    )


def test_a_simulated_guest_keeps_the_key_of_its_latest_start() -> None:
    world = SimulatedWorld()
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://keys", "root", "pw"))
    _start(driver, "i-key-VM", ALICE)
    host = next(iter(world.hosts.values()))
    assert host.vms["i-key-VM"].spec.ssh_key == ALICE
    STOP(driver, {"name": "i-key-VM"})
    _start(driver, "i-key-VM", BOB)
    assert host.vms["i-key-VM"].spec.ssh_key == BOB


def test_kvm_writes_the_guests_key_into_its_domain_metadata() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.guest_keys import recorded_ssh_key

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    try:
        _start(driver, "i-kvm-key-VM", ALICE)
        domain = driver._require().lookupByName("i-kvm-key-VM")
        assert recorded_ssh_key(domain) == ALICE
        driver.stop_vm("i-kvm-key-VM", forced=True)
        _start(driver, "i-kvm-key-VM", BOB)
        assert recorded_ssh_key(domain) == BOB
        driver.stop_vm("i-kvm-key-VM", forced=True)
        _start(driver, "i-kvm-key-VM", "")
        assert recorded_ssh_key(domain) == ""
    finally:
        driver.destroy_vm("i-kvm-key-VM")
        driver.close()


def test_a_restore_makes_the_root_disk_once_per_request_on_the_simulator_and_kvm() -> None:
    world = SimulatedWorld()
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://restores", "root", "pw"))
    _start(driver, "i-restore-VM", ALICE)
    restore = HANDLERS["restore_vm"]
    params = {"name": "i-restore-VM", "template": "t-2", "root_disk_gb": 3, "restore_id": "r1"}
    assert restore(driver, params)["state"] == "Running"
    assert restore(driver, params)["state"] == "Running"  # redelivered: nothing more
    vm = next(iter(world.hosts.values())).vms["i-restore-VM"]
    assert (vm.root_builds, vm.spec.template, vm.spec.root_disk_gb) == (2, "t-2", 3)

    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.restores import recorded_restore

    kvm = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    kvm.connect(Credentials("test:///default", "admin", "pw"))
    try:
        START(
            kvm,
            {
                "name": "i-kvm-r-VM",
                "cpu_number": 1,
                "cpu_speed_mhz": 500,
                "memory_mb": 256,
                "root_disk_gb": 1,
            },
        )
        pool_volumes = _root_volumes(kvm, "i-kvm-r-VM")
        restore(kvm, {"name": "i-kvm-r-VM", "root_disk_gb": 2, "restore_id": "r1"})
        domain = kvm._require().lookupByName("i-kvm-r-VM")
        assert recorded_restore(domain) == "r1" and domain.isActive()
        assert _root_volumes(kvm, "i-kvm-r-VM") == pool_volumes
    finally:
        kvm.destroy_vm("i-kvm-r-VM")
        kvm.close()


def _root_volumes(driver: object, name: str) -> list[str]:
    import libvirt

    conn = driver._require()  # type: ignore[attr-defined]
    pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    return [v for p in pools for v in p.listVolumes() if v == f"{name}-root.qcow2"]


def test_the_user_data_of_a_start_reaches_the_simulated_guest_and_the_kvm_domain() -> None:
    spec = {"name": "i-ud-VM", "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256}
    world = SimulatedWorld()
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://userdata", "root", "pw"))
    START(driver, {**spec, "user_data": "aGk="})
    STOP(driver, {"name": "i-ud-VM"})
    START(driver, {**spec, "user_data": "Ynll"})
    assert next(iter(world.hosts.values())).vms["i-ud-VM"].spec.user_data == "Ynll"

    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.guest_keys import recorded_user_data

    kvm = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    kvm.connect(Credentials("test:///default", "admin", "pw"))
    try:
        START(kvm, {**spec, "user_data": "aGk="})
        domain = kvm._require().lookupByName("i-ud-VM")
        assert recorded_user_data(domain) == "aGk="
        kvm.stop_vm("i-ud-VM", forced=True)
        START(kvm, {**spec, "user_data": ""})
        assert recorded_user_data(domain) == ""
    finally:
        kvm.destroy_vm("i-ud-VM")
        kvm.close()


def test_the_console_keyboard_of_a_start_reaches_the_simulated_guest_and_the_kvm_display() -> None:
    spec = {"name": "i-kb-VM", "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256}
    world = SimulatedWorld()
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://keyboard", "root", "pw"))
    START(driver, {**spec, "keyboard": "fr"})
    STOP(driver, {"name": "i-kb-VM"})
    START(driver, {**spec, "keyboard": "fr"})
    assert next(iter(world.hosts.values())).vms["i-kb-VM"].spec.keyboard == "fr"

    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm import console
    from adapters.kvm.driver import KvmDriver

    kvm = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    kvm.connect(Credentials("test:///default", "admin", "pw"))
    try:
        START(kvm, {**spec, "name": "i-kb-fr", "keyboard": "fr"})
        START(kvm, {**spec, "name": "i-kb-none"})
        assert console.of_domain(kvm._require().lookupByName("i-kb-fr")) == "fr"
        # Without a layout the guest gets no display of Stratus's making (libvirt's defaults).
        assert console.of_domain(kvm._require().lookupByName("i-kb-none")) == ""
    finally:
        for name in ("i-kb-fr", "i-kb-none"):
            kvm.destroy_vm(name)
        kvm.close()
