"""Storage QoS: an offering's IOPS and I/O throttling rates, what its disks carry of them, and
how the rates travel to a hypervisor's driver."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import uuid4

import pytest

from adapters.requests import BadRequest, vm_spec
from commands.volumes import disk_entry
from domain.errors import InsufficientCapacity, InvalidParameter
from domain.offering import ComputeTerms, DiskOffering, DiskTerms, ServiceOffering
from domain.storage import StoragePool
from domain.storage_qos import IopsTerms, disk_qos
from domain.values import Secret
from domain.vm import HostAccess
from domain.volume import HostWork, Volume, VolumeType

GIB = 1024**3
RATES = {"bytes_read_rate": 1_000_000, "iops_write_rate": 300}


def disk_offering(**values: Any) -> DiskOffering:
    return DiskOffering(asdict(DiskTerms("d", "d", 5, **values)), None, "", id=uuid4())


def compute_offering(**values: Any) -> ServiceOffering:
    terms = ComputeTerms("c", "c", 1, 500, 512, **values)
    return ServiceOffering(asdict(terms), None, "", id=uuid4())


def test_an_offering_fixes_iops_or_leaves_them_to_each_disk() -> None:
    fixed = disk_offering(min_iops=100, max_iops=500, hypervisor_snapshot_reserve=20)
    assert (fixed.min_iops, fixed.max_iops, fixed.hypervisor_snapshot_reserve) == (100, 500, 20)
    assert disk_offering(customized_iops=True).customized_iops
    assert compute_offering(min_iops=1, max_iops=1).max_iops == 1


@pytest.mark.parametrize(
    "wrong",
    [
        {"min_iops": 500, "max_iops": 100},  # min above max
        {"min_iops": 0, "max_iops": 100},  # min not above 0
        {"min_iops": 100},  # min without max
        {"max_iops": 100},  # max without min
        {"customized_iops": True, "min_iops": 1, "max_iops": 2},  # fixed and per disk
        {"min_iops": 1, "max_iops": 2, "io_limits": RATES},  # storage QoS and throttling
        {"customized_iops": True, "io_limits": RATES},
        {"hypervisor_snapshot_reserve": -1},
    ],
)
def test_inconsistent_storage_qos_is_refused_for_both_kinds_of_offering(wrong: dict) -> None:
    with pytest.raises(InvalidParameter):
        disk_offering(**wrong)
    with pytest.raises(InvalidParameter):
        compute_offering(**wrong)


def test_an_offering_recorded_before_storage_qos_has_none() -> None:
    terms = asdict(ComputeTerms("old", "old", 1, 500, 512))
    for key in ("customized_iops", "min_iops", "max_iops", "hypervisor_snapshot_reserve"):
        del terms[key]  # as its stored event has them
    old = ServiceOffering(terms, None, "", id=uuid4())
    assert old.terms.iops == IopsTerms()
    assert not old.terms.iops.storage_qos


def test_a_disk_takes_its_offerings_iops_and_rates() -> None:
    fixed = IopsTerms(min_iops=100, max_iops=500, hypervisor_snapshot_reserve=10)
    assert disk_qos(fixed, {}) == {
        "min_iops": 100,
        "max_iops": 500,
        "hypervisor_snapshot_reserve": 10,
    }
    assert disk_qos(IopsTerms(), RATES) == RATES
    assert disk_qos(IopsTerms(), {}) == {}


def test_a_disk_asks_for_iops_only_of_an_offering_that_lets_it() -> None:
    custom = IopsTerms(customized=True)
    assert disk_qos(custom, {}, (200, 400)) == {"min_iops": 200, "max_iops": 400}
    assert disk_qos(custom, {}) == {}  # none asked: none guaranteed
    for asked in ((400, 200), (0, 10), (5, None)):
        with pytest.raises(InvalidParameter):
            disk_qos(custom, {}, asked)
    for offering in (IopsTerms(), IopsTerms(min_iops=1, max_iops=2)):
        with pytest.raises(InvalidParameter, match="customized IOPS"):
            disk_qos(offering, {}, (200, 400))


def test_a_disks_rates_go_with_it_to_the_hypervisor_and_its_iops_stay_behind() -> None:
    qos = {"min_iops": 100, "max_iops": 200, **RATES}
    owner = (uuid4(), uuid4(), uuid4())
    volume = Volume(uuid4(), "d", VolumeType.DATADISK, *owner, 5, uuid4(), None, None, qos=qos)
    assert disk_entry(volume, 1)["io_limits"] == RATES
    plain = Volume(uuid4(), "p", VolumeType.DATADISK, *owner, 5, uuid4(), None, None)
    assert "io_limits" not in disk_entry(plain, 1)


def test_a_start_request_hands_the_rates_to_the_driver_and_refuses_unknown_ones() -> None:
    request: dict[str, Any] = {
        "name": "vm-1",
        "cpu_number": 1,
        "cpu_speed_mhz": 500,
        "memory_mb": 256,
        "root_io_limits": RATES,
        "data_disks": [
            {"disk_id": "d", "device_id": 1, "size_gb": 2, "io_limits": {"iops_read_rate": 9}}
        ],
    }
    spec = vm_spec(request)
    assert spec.root_io_limits == RATES
    assert spec.data_disks[0].io_limits == {"iops_read_rate": 9}
    assert vm_spec({**request, "root_io_limits": {}, "data_disks": []}).root_io_limits == {}
    with pytest.raises(BadRequest):
        vm_spec({**request, "root_io_limits": {"total_bytes_sec": 5}})
    with pytest.raises(BadRequest):
        vm_spec({**request, "root_io_limits": {"iops_read_rate": "fast"}})


def _pool(capacity_iops: int | None) -> StoragePool:
    place = {"zone_id": uuid4(), "scope": "ZONE", "hypervisor": "KVM"}
    location = {"url": "nfs://h/p", "host": "h", "path": "/p", "provider": "DefaultPrimary"}
    return StoragePool(
        "p", place, "NetworkFilesystem", location, {}, GIB * 100, capacity_iops, (), {}
    )


def test_a_pool_with_an_iops_capacity_guarantees_no_more_than_it_has() -> None:
    pool = _pool(1000)
    first, second = uuid4(), uuid4()
    pool.place_volume(first, GIB, min_iops=600)
    assert pool.allocated_iops == 600
    assert pool.takes(GIB, (), 1.0, min_iops=400)
    assert not pool.takes(GIB, (), 1.0, min_iops=401)
    assert pool.takes(GIB, (), 1.0)  # a disk without guaranteed IOPS needs none of it
    with pytest.raises(InsufficientCapacity, match="IOPS"):
        pool.check_takes(GIB, (), 1.0, min_iops=500)
    pool.place_volume(second, GIB, min_iops=400)
    pool.release_volume(first)
    assert pool.allocated_iops == 400 and pool.takes(GIB, (), 1.0, min_iops=600)


def test_a_pool_without_an_iops_capacity_takes_any_guarantee() -> None:
    pool = _pool(None)
    pool.place_volume(uuid4(), GIB, min_iops=10**9)
    assert pool.takes(GIB, (), 1.0, min_iops=10**9)


def test_a_volume_guaranteed_iops_asks_them_of_its_pool() -> None:
    owner = (uuid4(), uuid4(), uuid4())
    volume = Volume(
        uuid4(), "d", VolumeType.DATADISK, *owner, 5, uuid4(), None, None, qos={"min_iops": 300}
    )
    assert volume.min_iops == 300
    assert Volume(uuid4(), "p", VolumeType.DATADISK, *owner, 5, uuid4(), None, None).min_iops == 0


def _work(request: str) -> HostWork:
    access = HostAccess(uuid4(), "simulator://h1", "root", Secret("pw"), "Simulator")
    return HostWork(request, uuid4(), access, "i-2-5-VM")


def test_a_disk_resized_to_another_offering_takes_its_rates_and_keeps_its_iops() -> None:
    owner = (uuid4(), uuid4(), uuid4())
    qos = {"min_iops": 100, "max_iops": 200, "bytes_read_rate": 5}
    disk = Volume(uuid4(), "d", VolumeType.DATADISK, *owner, 5, uuid4(), None, None, qos=qos)
    disk.resize(10, uuid4(), shrink_ok=False, io_limits={"iops_write_rate": 7})
    assert disk.qos == {"min_iops": 100, "max_iops": 200, "iops_write_rate": 7}
    disk.resize(20, disk.disk_offering_id, shrink_ok=False)  # rates not given: unchanged
    assert disk.qos["iops_write_rate"] == 7

    vm = {"zone_id": disk.zone_id, "account_id": disk.account_id, "state": "Running"}
    disk.request_attach(uuid4(), vm, 1, _work("a"))
    disk.confirm("a")
    disk.request_resize(30, uuid4(), False, _work("r"), {"bytes_write_rate": 9})
    assert disk.qos["iops_write_rate"] == 7  # a fact only when the host confirms
    disk.confirm("r")
    assert disk.qos == {"min_iops": 100, "max_iops": 200, "bytes_write_rate": 9}
