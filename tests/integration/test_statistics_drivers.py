"""Usage counters of every driver: the contract (counters only grow within an epoch, a
stopped or missing VM cannot be read) on every peer, and what each hypervisor's own counters
become: the simulator's steps and knobs, libvirt's block and interface statistics, XenServer's
VIF and VBD rates, Hyper-V's resource metering and vSphere's performance counters."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import Credentials, DiskCounters, Hypervisor, HypervisorError, NotFoundOnHost, VmSpec
from adapters.rates import RateTotals
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from adapters.simulator.statistics import DISK_STEP, NETWORK_STEP
from adapters.statistics import STATISTICS_ACTIONS
from tests.integration.hypervisor_peers import PEER_SHAPE, PEERS, Peer


@pytest.fixture(params=PEERS)
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hypervisor]:
    chosen: Peer
    with request.param(tmp_path) as chosen:
        chosen.driver.connect(chosen.credentials)
        yield chosen.driver


def spec(name: str = "vm-1") -> VmSpec:
    return VmSpec(name=name, cpu_number=1, cpu_speed_mhz=1000, memory_mb=256)


def grown(before: tuple[DiskCounters, ...], after: tuple[DiskCounters, ...]) -> bool:
    pairs = zip(before, after, strict=True)
    return all(
        a.device_id == b.device_id
        and all(
            y >= x >= 0
            for x, y in zip(dataclasses.astuple(a)[1:5], dataclasses.astuple(b)[1:5], strict=True)
        )
        for a, b in pairs
    )


def test_counters_only_grow_within_their_epoch(driver: Hypervisor) -> None:
    driver.start_vm(spec())
    net_1, disks_1 = driver.network_stats("vm-1"), driver.disk_stats("vm-1")
    net_2, disks_2 = driver.network_stats("vm-1"), driver.disk_stats("vm-1")
    assert net_1.epoch and net_1.epoch == net_2.epoch
    assert 0 <= net_1.bytes_sent <= net_2.bytes_sent
    assert 0 <= net_1.bytes_received <= net_2.bytes_received
    assert [d.epoch for d in disks_1] == [d.epoch for d in disks_2]
    assert grown(disks_1, disks_2)


def test_a_restarted_vm_counts_in_a_new_epoch_or_keeps_growing(driver: Hypervisor) -> None:
    driver.start_vm(spec())
    before = driver.network_stats("vm-1")
    driver.stop_vm("vm-1", forced=True)
    driver.start_vm(spec())
    after = driver.network_stats("vm-1")
    assert after.epoch != before.epoch or (
        after.bytes_sent >= before.bytes_sent and after.bytes_received >= before.bytes_received
    )


def test_a_stopped_or_missing_vm_has_no_counters_to_read(driver: Hypervisor) -> None:
    driver.start_vm(spec())
    driver.stop_vm("vm-1", forced=True)
    with pytest.raises(HypervisorError):
        driver.network_stats("vm-1")
    with pytest.raises(HypervisorError):
        driver.disk_stats("vm-1")
    with pytest.raises(NotFoundOnHost):
        driver.network_stats("no-such-vm")


# The simulator -----------------------------------------------------------------------------


def simulator() -> SimulatorDriver:
    driver = SimulatorDriver(SimulatedWorld())
    driver.connect(Credentials("simulator://h1", "root", "pw"))
    driver.start_vm(spec())
    return driver


def test_simulated_counters_grow_a_step_per_reading_and_restart_at_each_boot() -> None:
    driver = simulator()
    first, second = driver.network_stats("vm-1"), driver.network_stats("vm-1")
    driver.reboot_vm("vm-1")
    rebooted = driver.network_stats("vm-1")
    assert (first.bytes_sent, first.bytes_received) == NETWORK_STEP
    assert (second.bytes_sent, second.bytes_received) == (2 * NETWORK_STEP[0], 2 * NETWORK_STEP[1])
    assert (rebooted.bytes_sent, rebooted.epoch) == (NETWORK_STEP[0], "h1/2")
    assert dataclasses.astuple(driver.disk_stats("vm-1")[0])[:5] == (0, *DISK_STEP)


def test_a_test_sets_the_simulated_counters_through_the_control_file(tmp_path: Path) -> None:
    control = tmp_path / "control.json"
    driver = simulator()
    driver.world.statistics._control = str(control)
    control.write_text(
        '{"network_counters": {"vm-1": {"sent": 700, "received": 900}},'
        ' "disk_counters": {"vm-1": {"0": [1, 2, 3, 4]}}}'
    )
    readings = [driver.network_stats("vm-1") for _ in range(2)]
    disk = driver.disk_stats("vm-1")[0]
    assert [(r.bytes_sent, r.bytes_received) for r in readings] == [(700, 900), (700, 900)]
    assert (disk.io_read, disk.io_write, disk.bytes_read, disk.bytes_write) == (1, 2, 3, 4)


def test_the_disk_action_names_each_disk_by_the_volume_in_its_slot() -> None:
    driver = simulator()
    params = {
        "name": "vm-1",
        "host_id": "h",
        "read_at_ms": 5,
        "volumes": [{"id": "root-volume", "device_id": 0}, {"id": "data", "device_id": 1}],
    }
    answer = STATISTICS_ACTIONS["disk_stats"](driver, params)
    assert answer == {
        "host_id": "h",
        "read_at_ms": 5,
        "epoch": "h1/1",
        "volumes": {"root-volume": list(DISK_STEP)},
    }


# XenServer: VIF and VBD metrics are rates -----------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_xenserver_totals_are_the_vif_rates_over_the_time_between_readings() -> None:
    from adapters.xenserver.driver import XenServerDriver
    from tests.peers.xapi import XapiPeer

    xapi = XapiPeer(PEER_SHAPE, "root", "xen-password")
    with xapi.serving() as url:
        driver = XenServerDriver()
        clock = FakeClock()
        driver.rate_totals = RateTotals(clock)
        driver.connect(Credentials(url, "root", "xen-password"))
        driver.start_vm(spec())
        vif = xapi.add_vif("vm-1")
        xapi.set_rates(vif, read_kbs=1.0, write_kbs=2.0)
        first = driver.network_stats("vm-1")
        clock.now += 10
        second = driver.network_stats("vm-1")
        driver.close()
    assert (first.bytes_sent, first.bytes_received) == (0, 0)  # no interval yet
    # Written 2 KiB/s and read 1 KiB/s for 10 s: the VM sent 20 KiB and received 10 KiB.
    assert (second.bytes_sent, second.bytes_received) == (20 * 1024, 10 * 1024)
    assert second.epoch == first.epoch == driver.rate_totals.epoch


# Hyper-V: resource metering, in whole MB ------------------------------------------------------


def test_hyperv_counters_are_what_resource_metering_measured() -> None:
    from adapters.hyperv.driver import HypervDriver
    from tests.peers.wsman import WsmanPeer

    shape = dataclasses.replace(PEER_SHAPE, version="6.3.9600")
    wsman = WsmanPeer(shape, "Administrator", "hv-password")
    with wsman.serving() as url:
        driver = HypervDriver(transport="basic")
        driver.connect(Credentials(url, "Administrator", "hv-password"))
        driver.start_vm(spec())
        first = driver.network_stats("vm-1")  # turns metering on
        wsman.interpreter.meter("vm-1", outbound_mb=3, inbound_mb=5, disk_read_mb=7)
        second, disk = driver.network_stats("vm-1"), driver.disk_stats("vm-1")[0]
        driver.close()
    mb = 1024**2
    assert (first.bytes_sent, first.bytes_received) == (0, 0)
    assert (second.bytes_sent, second.bytes_received) == (3 * mb, 5 * mb)
    assert (disk.device_id, disk.bytes_read, disk.bytes_write) == (0, 7 * mb, 0)
    assert second.epoch == first.epoch != ""


# KVM: libvirt's statistics --------------------------------------------------------------------


@pytest.mark.libvirt
def test_kvm_disk_counters_are_libvirts_block_statistics_of_the_root_disk(tmp_path: Path) -> None:
    from tests.integration.hypervisor_peers import kvm_peer

    with kvm_peer(tmp_path) as peer:
        peer.driver.connect(peer.credentials)
        peer.driver.start_vm(dataclasses.replace(spec(), root_disk_gb=1))
        [root] = peer.driver.disk_stats("vm-1")
        domain = peer.driver._conn.lookupByName("vm-1")  # type: ignore[attr-defined]
        rd_req, rd_bytes, wr_req, wr_bytes, _ = domain.blockStats("vda")
    assert root.device_id == 0
    assert 0 < root.io_read <= rd_req and 0 < root.bytes_read <= rd_bytes
    assert 0 < root.io_write <= wr_req and 0 < root.bytes_write <= wr_bytes
