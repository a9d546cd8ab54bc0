"""Disk I/O throttling on a KVM host (libvirt's test driver): the rates a disk's offering sets
reach the domain's definition as libvirt `<iotune>`, for the ROOT disk a VM starts with, for a
data disk it starts with and for one attached later; a disk without rates is not throttled."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from adapters import Credentials, DiskSpec, VmSpec
from tests.integration.hypervisor_peers import KVM_NODE_XML

RATES = {"bytes_read_rate": 10_485_760, "iops_write_rate": 500}
ALL_RATES = {
    "bytes_read_rate": 1000,
    "bytes_write_rate": 2000,
    "iops_read_rate": 30,
    "iops_write_rate": 40,
}


def _iotune(conn: object, vm: str) -> dict[str, dict[str, str]]:
    """Each disk's `<iotune>` in the domain's persistent definition, by target device."""
    import libvirt

    domain = conn.lookupByName(vm)  # type: ignore[attr-defined]
    definition = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    found = {}
    for disk in definition.findall("devices/disk"):
        target = disk.find("target")
        tune = disk.find("iotune")
        rates = {child.tag: child.text or "" for child in tune} if tune is not None else {}
        found[target.get("dev", "") if target is not None else ""] = rates
    return found


@pytest.mark.libvirt
def test_a_kvm_host_throttles_each_disk_at_the_rates_its_offering_sets(tmp_path: Path) -> None:
    pytest.importorskip("libvirt")
    from adapters.kvm.driver import KvmDriver

    node = tmp_path / "kvm-node.xml"
    node.write_text(KVM_NODE_XML)
    driver = KvmDriver(stop_timeout=5.0, poll_interval=0.05)
    driver.connect(Credentials(f"test://{node}", "admin", "kvm-password"))
    try:
        started = DiskSpec("disk-a", 1, 2, io_limits=ALL_RATES)
        vm = VmSpec("vm-1", 1, 1000, 256, root_disk_gb=1, data_disks=(started,))
        driver.start_vm(replace(vm, root_io_limits=RATES))
        driver.attach_volume("vm-1", DiskSpec("disk-b", 2, 2, io_limits={"iops_read_rate": 70}))
        driver.attach_volume("vm-1", DiskSpec("disk-c", 4, 2))
        tunes = _iotune(driver._conn, "vm-1")
        assert tunes["vda"] == {"read_bytes_sec": "10485760", "write_iops_sec": "500"}
        assert tunes["vdb"] == {
            "read_bytes_sec": "1000",
            "write_bytes_sec": "2000",
            "read_iops_sec": "30",
            "write_iops_sec": "40",
        }
        assert tunes["vdc"] == {"read_iops_sec": "70"}
        assert tunes["vde"] == {}
    finally:
        driver.close()
