"""Data disks made on the primary storage pool Stratus placed them on: the KVM driver creates
the disk's volume in that libvirt pool when the host has it connected (libvirt's test driver),
and in the host's own pool otherwise; the attach request and a first start name the pool."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from adapters import Credentials, DiskSpec, PoolSpec, VmSpec
from tests.integration.hypervisor_peers import KVM_NODE_XML


def _volumes(conn: object, pool_name: str) -> list[str]:
    return list(conn.storagePoolLookupByName(pool_name).listVolumes())  # type: ignore[attr-defined]


@pytest.mark.libvirt
def test_a_kvm_host_makes_a_placed_disk_in_its_pool_and_others_in_its_own(tmp_path: Path) -> None:
    pytest.importorskip("libvirt")
    from adapters.kvm.driver import KvmDriver

    node = tmp_path / "kvm-node.xml"
    node.write_text(KVM_NODE_XML)
    driver = KvmDriver(stop_timeout=5.0, poll_interval=0.05)
    driver.connect(Credentials(f"test://{node}", "admin", "kvm-password"))
    try:
        pool = PoolSpec(str(uuid.uuid4()), "NetworkFilesystem", "10.0.0.5", "/export/p")
        driver.connect_pool(pool)
        driver.start_vm(VmSpec("vm-1", 1, 1000, 256, root_disk_gb=1))
        placed = DiskSpec("disk-a", 1, 2, pool_id=pool.pool_id)
        local = DiskSpec("disk-b", 2, 2)
        elsewhere = DiskSpec("disk-c", 4, 2, pool_id=str(uuid.uuid4()))  # not on this host
        for disk in (placed, local, elsewhere):
            driver.attach_volume("vm-1", disk)
        on_pool = _volumes(driver._conn, pool.pool_id)
        assert [name for name in on_pool if "disk-" in name] == ["disk-disk-a.qcow2"]
        where = {disk.disk_id: disk.location for disk in driver.vm_disks("vm-1")}
        assert set(where) == {"disk-a", "disk-b", "disk-c"}
        assert pool.pool_id in where["disk-a"]
        assert pool.pool_id not in where["disk-b"] and pool.pool_id not in where["disk-c"]
    finally:
        driver.close()
