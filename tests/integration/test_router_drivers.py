"""What drivers do for routers: the release an appliance reports and the state of its daemons.

KVM keeps both in the domain's metadata (libvirt's test:///default here), the simulator in its
knobs (also reached through the control file a test in another process writes), and the
drivers that cannot drive appliances yet answer a definitive "not supported".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters import Credentials, VmSpec
from adapters.appliances import APPLIANCE_ACTIONS
from adapters.requests import Unsupported
from adapters.simulator.appliances import ApplianceKnobs
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver


def _kvm():
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    return driver


def test_a_kvm_appliance_reports_the_release_and_daemons_in_its_metadata() -> None:
    import libvirt

    from adapters.kvm.driver import APPLIANCE_URI

    driver = _kvm()
    try:
        driver.start_vm(VmSpec("r-kvm-1-VM", 1, 500, 256))
        assert driver.appliance_version("r-kvm-1-VM") is None  # it told nothing yet
        domain = driver._require().lookupByName("r-kvm-1-VM")
        domain.setMetadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT,
            '<appliance release="4.2.1"><service name="dnsmasq" state="stopped"/>'
            '<service name="haproxy" state="broken"/></appliance>',
            "stratus",
            APPLIANCE_URI,
            libvirt.VIR_DOMAIN_AFFECT_LIVE,
        )
        assert driver.appliance_version("r-kvm-1-VM") == "4.2.1"
        found = driver.check_services(
            "r-kvm-1-VM", ("dnsmasq", "haproxy", "ssh"), ("dnsmasq", "haproxy", "ssh")
        )
        assert found == {"dnsmasq": "restarted", "haproxy": "failed", "ssh": "running"}
        again = driver.check_services("r-kvm-1-VM", ("dnsmasq",), ("dnsmasq",))
        assert again == {"dnsmasq": "running"}  # the restart was recorded
    finally:
        driver.destroy_vm("r-kvm-1-VM")
        driver.close()


def test_a_kvm_upgrade_recreates_the_appliance_and_reports_its_release() -> None:
    driver = _kvm()
    params = {"name": "r-kvm-2-VM", "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256}
    try:
        APPLIANCE_ACTIONS["start_system_vm"](driver, params)
        upgraded = APPLIANCE_ACTIONS["upgrade_router"](driver, {**params, "old_template": "t0"})
        assert (upgraded["state"], upgraded["version"]) == ("Running", None)
    finally:
        driver.destroy_vm("r-kvm-2-VM")
        driver.close()


def test_the_simulator_reads_its_knobs_from_the_control_file(tmp_path: Path) -> None:
    path = tmp_path / "control.json"
    knobs = ApplianceKnobs(str(path))
    path.write_text(json.dumps({"releases": {"old": "4.2.0"}, "kills": {"r1": {"dnsmasq": 1}}}))
    assert knobs.release("old") == "4.2.0" and knobs.release("other") == "4.3.0"
    assert knobs.check("r1", ("dnsmasq",), ("dnsmasq",)) == {"dnsmasq": "restarted"}
    path.write_text(json.dumps({"kills": {"r1": {"dnsmasq": 1}}, "broken": {"r1": ["ssh"]}}))
    # the same kill is not applied twice; a broken daemon stays down
    found = knobs.check("r1", ("dnsmasq", "ssh"), ("dnsmasq", "ssh"))
    assert found == {"dnsmasq": "running", "ssh": "failed"}


def test_a_simulated_upgrade_that_fails_comes_back_on_the_old_template() -> None:
    world = SimulatedWorld()
    world.appliances.set_release("old", "4.2.0")
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://h1", "root", "pw"))
    params = {"name": "r-1", "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256}
    assert (
        APPLIANCE_ACTIONS["start_system_vm"](driver, {**params, "template": "old"})["version"]
        == "4.2.0"
    )
    world.fail_next("start_vm")
    with pytest.raises(Exception, match="old template"):
        APPLIANCE_ACTIONS["upgrade_router"](
            driver, {**params, "template": "new", "old_template": "old"}
        )
    assert driver.appliance_version("r-1") == "4.2.0"
    assert driver.vm_status("r-1").state == "Running"


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("adapters.vmware.driver", "VmwareDriver"),
        ("adapters.xenserver.driver", "XenServerDriver"),
        ("adapters.hyperv.driver", "HypervDriver"),
    ],
)
def test_drivers_without_appliances_answer_not_supported(module: str, name: str) -> None:
    import importlib

    try:
        driver = getattr(importlib.import_module(module), name)()
    except ImportError as missing:
        pytest.skip(f"{name} cannot load: {missing}")
    with pytest.raises(Unsupported, match="not supported"):
        driver.appliance_version("r-1")
    with pytest.raises(Unsupported, match="not supported"):
        driver.check_services("r-1", ("ssh",), ("ssh",))
