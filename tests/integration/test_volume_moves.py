"""What the simulator and KVM (libvirt's test driver) do with the requests of migrateVolume and
with a start's ROOT disk pool, through the adapters' handlers: a ROOT disk is made on its pool
when the host has it connected; a data disk and a ROOT disk move to another pool (the original
goes, the VM reads the copy, a repeated request only reports it); a running VM's disk is
refused unless live, a pool the host lacks is refused and the disk stays where it was."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters import Credentials, HypervisorError, PoolSpec
from adapters.handlers import HANDLERS
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from tests.integration.hypervisor_peers import KVM_NODE_XML

VM = "i-move-VM"
DISK = "3f0c7c1e-7a56-4c1b-9d0e-5b2f3f0a1c11"


@dataclass
class Host:
    driver: Any
    pools: tuple[str, str]
    where: Any  # (driver, disk id or None for the root) -> the pool id the disk is on, or ""


def _act(host: Host, action: str, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = HANDLERS[action](host.driver, params)
    return result


def _connected(driver: Any) -> tuple[str, str]:
    pools = (str(uuid.uuid4()), str(uuid.uuid4()))
    for pool_id in pools:
        driver.connect_pool(PoolSpec(pool_id, "NetworkFilesystem", "10.0.0.5", f"/{pool_id}"))
    return pools


def _simulator_where(world: SimulatedWorld) -> Any:
    def where(disk_id: str | None) -> str:
        host = next(iter(world.hosts.values()))
        if disk_id is None:
            return host.vms[VM].spec.root_pool_id
        return host.disk_pools.get(disk_id, "")

    return where


def _kvm_where(driver: Any) -> Any:
    import libvirt

    from adapters.kvm.pools import is_stratus_pool

    def where(disk_id: str | None) -> str:
        name = f"{VM}-root.qcow2" if disk_id is None else f"disk-{disk_id}.qcow2"
        active = driver._conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        holding = [p.name() for p in active if name in p.listVolumes()]
        assert len(holding) <= 1, holding  # a moved disk leaves no original behind
        return holding[0] if holding and is_stratus_pool(holding[0]) else ""

    return where


@pytest.fixture(params=["simulator", pytest.param("kvm", marks=pytest.mark.libvirt)])
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Host]:
    if request.param == "simulator":
        world = SimulatedWorld()
        driver = SimulatorDriver(world)
        driver.connect(Credentials("simulator://mover", "root", "pw"))
        yield Host(driver, _connected(driver), _simulator_where(world))
        return
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver

    node = tmp_path / "kvm-node.xml"
    node.write_text(KVM_NODE_XML)
    kvm = KvmDriver(stop_timeout=5.0, poll_interval=0.05)
    kvm.connect(Credentials(f"test://{node}", "admin", "kvm-password"))
    try:
        yield Host(kvm, _connected(kvm), _kvm_where(kvm))
    finally:
        kvm.close()


def _start(host: Host, pool_id: str) -> None:
    _act(
        host, "start_vm", name=VM, cpu_number=1, cpu_speed_mhz=500, memory_mb=256,
        root_disk_gb=1, root_pool_id=pool_id,
        data_disks=[{"disk_id": DISK, "device_id": 1, "size_gb": 2, "pool_id": pool_id}],
    )  # fmt: skip


def _move(host: Host, disk_id: str | None, to: str, **extra: Any) -> dict[str, Any]:
    kind = "ROOT" if disk_id is None else "DATADISK"
    moved = _act(
        host, "migrate_volume", name=extra.pop("name", VM), disk_id=disk_id or str(uuid.uuid4()),
        kind=kind, size_gb=2, from_pool_id=host.pools[0], to_pool_id=to, **extra,
    )  # fmt: skip
    return dict(moved["disk"])


def test_a_root_disk_is_made_on_its_pool_and_moves_with_a_data_disk(host: Host) -> None:
    first, second = host.pools
    _start(host, first)
    assert (host.where(None), host.where(DISK)) == (first, first)
    with pytest.raises(HypervisorError):  # the VM runs and the move is not live
        _move(host, DISK, second)
    assert host.where(DISK) == first
    _act(host, "stop_vm", name=VM, forced=True)
    moved = _move(host, DISK, second)
    assert second in moved["location"] and moved["device_id"] == 1
    assert _move(host, DISK, second) == moved  # asked again: only reported
    root = _move(host, None, second)
    assert second in root["location"] and root["device_id"] == 0
    assert (host.where(None), host.where(DISK)) == (second, second)
    disks = _act(host, "vm_disks", name=VM)["disks"]
    assert [(d["disk_id"], d["location"]) for d in disks] == [(DISK, moved["location"])]
    _start(host, first)  # starts again from the moved disks, none made anew
    assert (host.where(None), host.where(DISK)) == (second, second)


def test_a_pool_the_host_lacks_is_refused_and_the_disk_stays(host: Host) -> None:
    first, _ = host.pools
    _start(host, first)
    _act(host, "stop_vm", name=VM, forced=True)
    with pytest.raises(HypervisorError, match="not connected"):
        _move(host, DISK, str(uuid.uuid4()))
    assert (host.where(None), host.where(DISK)) == (first, first)
