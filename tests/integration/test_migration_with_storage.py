"""What the adapters do with a migration that takes a VM to a host of another cluster with its
disks (migrateVirtualMachineWithVolume across clusters), through the adapters' handlers: the
simulator moves the guest and puts each disk the request names on its pool at the destination;
a pool the destination lacks is refused before anything moves; KVM (libvirt's test driver)
refuses the disks as 4.3 gives KVM no storage motion, and the guest stays where it ran."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from adapters import Credentials, HypervisorError, PoolSpec
from adapters.handlers import HANDLERS
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from tests.integration.hypervisor_peers import KVM_NODE_XML

VM = "i-across-VM"
DISK = "6a1d2f0e-1b7c-4e55-8f7e-0d3c2b1a9e44"
ROOT = "0b7e6c55-2d1f-4c9a-a1e3-7f6d5c4b3a21"


def _pool(driver: Any) -> str:
    pool_id = str(uuid.uuid4())
    driver.connect_pool(PoolSpec(pool_id, "NetworkFilesystem", "10.0.0.5", f"/{pool_id}"))
    return pool_id


def _request(destination: str, moves: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    return {
        "name": VM,
        "secrets": {"destination": {"url": destination, "username": "root", "password": "pw"}},
        "volumes": [
            {"disk_id": disk, "kind": kind, "size_gb": 2, "from_pool_id": a, "to_pool_id": b,
             "with_vm": True}
            for disk, kind, a, b in moves
        ],
    }  # fmt: skip


def _simulator() -> tuple[SimulatedWorld, SimulatorDriver, SimulatorDriver]:
    world = SimulatedWorld()
    source, target = SimulatorDriver(world), SimulatorDriver(world)
    source.connect(Credentials("simulator://c1-host", "root", "pw"))
    target.connect(Credentials("simulator://c2-host", "root", "pw"))
    return world, source, target


def _start(driver: Any, pool_id: str) -> None:
    HANDLERS["start_vm"](
        driver,
        {"name": VM, "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256, "root_disk_gb": 1,
         "root_pool_id": pool_id,
         "data_disks": [{"disk_id": DISK, "device_id": 1, "size_gb": 2, "pool_id": pool_id}]},
    )  # fmt: skip


def test_the_simulator_moves_a_vm_with_its_disks_onto_the_destinations_pools() -> None:
    world, source, target = _simulator()
    home, there = _pool(source), _pool(target)
    _start(source, home)

    moves = [(ROOT, "ROOT", home, there), (DISK, "DATADISK", home, there)]
    result = HANDLERS["migrate_vm"](source, _request("simulator://c2-host", moves))

    assert result["state"] == "Running"
    assert {m["disk_id"] for m in result["volumes"]} == {ROOT, DISK}
    arrived = world.hosts["c2-host"]
    assert VM not in world.hosts["c1-host"].vms
    assert arrived.vms[VM].spec.root_pool_id == there
    assert arrived.disk_pools[DISK] == there
    assert [there in d.location for d in target.vm_disks(VM)] == [True]


def test_a_pool_the_destination_lacks_is_refused_and_nothing_moves() -> None:
    world, source, target = _simulator()
    home = _pool(source)
    _pool(target)
    _start(source, home)
    elsewhere = _pool(source)  # connected to the source only

    with pytest.raises(HypervisorError, match="not connected to c2-host"):
        HANDLERS["migrate_vm"](
            source, _request("simulator://c2-host", [(DISK, "DATADISK", home, elsewhere)])
        )
    assert source.vm_status(VM).state == "Running"
    assert world.hosts["c1-host"].disk_pools[DISK] == home
    assert VM not in world.hosts["c2-host"].vms


@pytest.mark.libvirt
def test_kvm_refuses_disks_onto_other_pools_and_the_guest_stays(tmp_path: Path) -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver

    node = tmp_path / "kvm-node.xml"
    node.write_text(KVM_NODE_XML)
    kvm = KvmDriver(stop_timeout=5.0, poll_interval=0.05)
    kvm.connect(Credentials(f"test://{node}", "admin", "kvm-password"))
    try:
        home = _pool(kvm)
        _start(kvm, home)
        request = _request(f"test://{node}", [(DISK, "DATADISK", home, str(uuid.uuid4()))])
        with pytest.raises(HypervisorError, match="not supported on KVM"):
            HANDLERS["migrate_vm"](kvm, request)
        assert kvm.vm_status(VM).state == "Running"
    finally:
        kvm.close()
