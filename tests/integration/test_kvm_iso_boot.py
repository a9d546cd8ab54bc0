"""A KVM guest deployed from an ISO: its first start defines the domain with the ISO's image-store
volume in an IDE CD drive and boots from it before the (blank) root disk; a guest started
without one keeps booting from its disk alone (libvirt's test driver shows the definition). A
driver without a CD drive has the start refused by its adapter before it acts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from adapters import Credentials, IsoSpec, VmSpec
from adapters.handlers import HANDLERS

START = HANDLERS["start_vm"]
ISO = {"iso_id": "iso-1", "url": "http://images.example.org/setup.iso", "zone_id": "zone-1"}


def _boot_order(domain: object) -> list[str]:
    definition = ET.fromstring(domain.XMLDesc(0))  # type: ignore[attr-defined]
    return [boot.get("dev", "") for boot in definition.findall("os/boot")]


def test_a_kvm_guest_started_with_an_iso_boots_it_from_its_cd_drive() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.template_store import volume_name

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    conn = driver._require()
    pool = conn.storagePoolLookupByName("default-pool")
    name = volume_name(ISO["url"], ISO["zone_id"])
    iso_volume = pool.createXML(
        f"<volume><name>{name}</name><capacity unit='MiB'>4</capacity></volume>", 0
    )
    shape = {"cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256, "root_disk_gb": 2}
    try:
        answer = START(driver, {"name": "i-iso-VM", **shape, "iso": ISO})
        assert answer["state"] == "Running" and answer["iso"] == iso_volume.path()
        domain = conn.lookupByName("i-iso-VM")
        assert _boot_order(domain) == ["cdrom", "hd"]
        assert driver.vm_iso("i-iso-VM") == iso_volume.path()
        plain = START(driver, {"name": "i-disk-VM", **shape})
        assert "iso" not in plain
        assert _boot_order(conn.lookupByName("i-disk-VM")) == ["hd"]
        missing = IsoSpec("iso-2", "http://images.example.org/gone.iso", "zone-1")
        with pytest.raises(Exception, match="no storage pool of this host"):
            driver.start_vm(VmSpec("i-lost-VM", 1, 500, 256, iso=missing))
    finally:
        for vm in ("i-iso-VM", "i-disk-VM", "i-lost-VM"):
            driver.destroy_vm(vm)
        iso_volume.delete(0)
        driver.close()


def test_a_driver_without_a_cd_drive_refuses_a_start_from_an_iso_before_acting() -> None:
    from adapters.requests import Unsupported
    from adapters.vmware.driver import VmwareDriver

    driver = VmwareDriver()  # not even connected: the adapter refuses before the driver acts
    with pytest.raises(Unsupported, match="not supported yet on VMware"):
        START(driver, {"name": "i-iso-VM", "cpu_number": 1, "cpu_speed_mhz": 500,
                       "memory_mb": 256, "iso": ISO})  # fmt: skip
