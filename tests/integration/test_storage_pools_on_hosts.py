"""Primary storage pools made known to hosts by their drivers: the KVM driver defines a libvirt
storage pool of the pool's type on libvirt's test driver, the simulator keeps a share, and the
drivers of kinds without the capability refuse. Connecting twice acts once."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from adapters import Credentials, PoolSpec, VmSpec
from adapters.hyperv.driver import HypervDriver
from adapters.requests import Unsupported
from adapters.simulator.driver import SHARE_BYTES, SimulatorDriver
from adapters.simulator.world import SimulatedWorld
from adapters.vmware.driver import VmwareDriver
from adapters.xenserver.driver import XenServerDriver
from tests.integration.hypervisor_peers import KVM_NODE_XML


def _nfs(pool_id: str | None = None) -> PoolSpec:
    return PoolSpec(pool_id or str(uuid.uuid4()), "NetworkFilesystem", "10.0.0.5", "/export/p")


@pytest.mark.libvirt
def test_a_kvm_host_defines_the_pool_once_and_keeps_root_disks_on_its_own(tmp_path: Path) -> None:
    libvirt = pytest.importorskip("libvirt")
    from adapters.kvm import pools
    from adapters.kvm.driver import KvmDriver

    node = tmp_path / "kvm-node.xml"
    node.write_text(KVM_NODE_XML)
    driver = KvmDriver(stop_timeout=5.0, poll_interval=0.05)
    inventory = driver.connect(Credentials(f"test://{node}", "admin", "kvm-password"))
    try:
        pool = _nfs()
        first = driver.connect_pool(pool)
        again = driver.connect_pool(pool)
        assert first == again and first.location == pool.pool_id and first.capacity_bytes > 0
        conn = driver._conn
        defined = conn.storagePoolLookupByName(pool.pool_id)
        assert defined.isActive()
        xml = ET.fromstring(defined.XMLDesc(0))
        assert xml.get("type") == "netfs"
        source = xml.find("source")
        assert source is not None
        assert (source.find("host").get("name"), source.find("dir").get("path")) == (
            "10.0.0.5",
            "/export/p",
        )
        active = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        assert sum(1 for p in active if p.name() == pool.pool_id) == 1
        # A VM's root disk still goes to the host's own pool, and the host's local storage
        # does not count the shared pool.
        driver.start_vm(VmSpec("vm-1", 1, 1000, 256, root_disk_gb=1))
        disk_path = ET.fromstring(conn.lookupByName("vm-1").XMLDesc(0)).find("devices/disk/source")
        assert disk_path is not None and pool.pool_id not in disk_path.get("file", "")
        assert (
            driver.connect(
                Credentials(f"test://{node}", "admin", "kvm-password")
            ).local_storage_bytes
            == inventory.local_storage_bytes
        )
        assert pools.is_stratus_pool(pool.pool_id) and not pools.is_stratus_pool("default")
    finally:
        driver.close()


def test_pool_definitions_follow_the_pool_type() -> None:
    pytest.importorskip("libvirt")
    from adapters.kvm.pools import pool_xml

    pool_id = str(uuid.uuid4())
    shared = ET.fromstring(pool_xml(PoolSpec(pool_id, "SharedMountPoint", "", "/mnt/gfs")))
    assert (shared.get("type"), shared.findtext("target/path")) == ("dir", "/mnt/gfs")
    rbd = ET.fromstring(pool_xml(PoolSpec(pool_id, "RBD", "mon.lan", "/rbd", port=6789)))
    assert (rbd.get("type"), rbd.findtext("source/name")) == ("rbd", "rbd")
    assert rbd.find("source/host").attrib == {"name": "mon.lan", "port": "6789"}
    clvm = ET.fromstring(pool_xml(PoolSpec(pool_id, "CLVM", "", "/vg0")))
    assert (clvm.get("type"), clvm.findtext("target/path")) == ("logical", "/dev/vg0")
    with pytest.raises(Unsupported, match="Ceph login"):
        pool_xml(PoolSpec(pool_id, "RBD", "mon.lan", "/rbd", user="admin"))
    with pytest.raises(Unsupported):
        pool_xml(PoolSpec(pool_id, "VMFS", "vc", "/ds"))


def test_the_simulator_keeps_a_share_per_pool_and_connects_it_once() -> None:
    world = SimulatedWorld()
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://sim-pool-host", "root", "pw"))
    pool = _nfs()
    first = driver.connect_pool(pool)
    assert driver.connect_pool(pool) == first
    assert (first.capacity_bytes, first.available_bytes) == (SHARE_BYTES, SHARE_BYTES)
    assert world.acted["connect_pool"] == 1


@pytest.mark.parametrize(
    "driver_class", [XenServerDriver, VmwareDriver, HypervDriver], ids=lambda c: c.__name__
)
def test_kinds_without_pools_refuse_by_name(driver_class: type) -> None:
    with pytest.raises(Unsupported, match="primary storage pool"):
        driver_class.connect_pool(object.__new__(driver_class), _nfs())
