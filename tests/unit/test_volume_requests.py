"""Disk work requested from a VM's host: given-when-then on the Volume aggregate, no I/O.

A request changes nothing the volume reports until the host confirms it; a failure leaves the
volume as it was; only the result of the request in flight counts.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret
from domain.vm import HostAccess, VirtualMachine
from domain.volume import HostWork, Volume, VolumeState, VolumeType


def _disk(size: int = 10) -> Volume:
    return Volume(
        uuid4(), "d", VolumeType.DATADISK, uuid4(), uuid4(), uuid4(), size, uuid4(), None, None
    )


def _vm(disk: Volume, state: str = "Running") -> dict:
    return {"zone_id": disk.zone_id, "account_id": disk.account_id, "state": state}


def _work(request: str = "r1") -> HostWork:
    access = HostAccess(uuid4(), "simulator://h1", "root", Secret("pw"), "Simulator")
    return HostWork(request, uuid4(), access, "i-2-5-VM")


def _names(disk: Volume) -> list[str]:
    return [type(e).__name__ for e in disk.collect_events()]


def _attached(disk: Volume, vm_id: UUID) -> Volume:
    disk.request_attach(vm_id, _vm(disk), 1, _work("attach"))
    disk.confirm("attach")
    disk.collect_events()
    return disk


def test_an_attach_becomes_a_fact_only_when_the_host_confirms_it() -> None:
    disk, vm_id = _disk(), uuid4()
    disk.request_attach(vm_id, _vm(disk), 2, _work())
    assert (disk.vm_id, disk.device_id, disk.state) == (None, None, VolumeState.ALLOCATED)
    disk.confirm("r1")
    assert (disk.vm_id, disk.device_id, disk.state) == (vm_id, 2, VolumeState.READY)
    assert _names(disk)[-2:] == ["AttachRequested", "Attached"]


def test_a_failed_attach_leaves_the_volume_detached_and_free_for_another_request() -> None:
    disk = _disk()
    disk.request_attach(uuid4(), _vm(disk), 1, _work())
    disk.fail("r1", "the hypervisor refused")
    assert (disk.vm_id, disk.pending, disk.state) == (None, None, VolumeState.ALLOCATED)
    failed = disk.collect_events()[-1]
    assert (type(failed).__name__, failed.action) == ("RequestFailed", "attach")
    disk.request_attach(uuid4(), _vm(disk), 1, _work("r2"))
    assert disk.pending == "attach"


def test_a_volume_with_a_request_in_flight_takes_no_other_change() -> None:
    disk = _disk()
    disk.request_attach(uuid4(), _vm(disk), 1, _work())
    with pytest.raises(InvalidState, match="busy"):
        disk.request_attach(uuid4(), _vm(disk), 2, _work("r2"))
    with pytest.raises(InvalidState, match="busy"):
        disk.delete()


def test_only_the_result_of_the_request_in_flight_counts() -> None:
    disk = _disk()
    disk.request_attach(uuid4(), _vm(disk), 1, _work("r1"))
    assert not disk.is_current("older")
    disk.confirm("r1")
    assert not disk.is_current("r1")  # answered: a repeated result changes nothing


def test_a_detach_keeps_the_disk_attached_until_the_host_confirms_it() -> None:
    vm_id = uuid4()
    disk = _attached(_disk(), vm_id)
    disk.request_detach(_work("d1"))
    assert disk.vm_id == vm_id
    disk.fail("d1", "refused")
    assert (disk.vm_id, disk.device_id) == (vm_id, 1)
    disk.request_detach(_work("d2"))
    disk.confirm("d2")
    assert (disk.vm_id, disk.device_id) == (None, None)


def test_a_resize_carries_the_new_size_to_usage_only_when_confirmed() -> None:
    disk = _attached(_disk(10), uuid4())
    with pytest.raises(InvalidParameter, match="shrinkok"):
        disk.request_resize(5, disk.disk_offering_id, False, _work("s1"))
    disk.request_resize(20, disk.disk_offering_id, False, _work("g1"))
    assert disk.size_gb == 10
    disk.confirm("g1")
    resized = [e for e in disk.collect_events() if type(e).__name__ == "Resized"]
    assert [(e.size_gb, e.previous["size_gb"]) for e in resized] == [(20, 10)]
    disk.request_resize(30, disk.disk_offering_id, False, _work("g2"))
    disk.fail("g2", "refused")
    assert disk.size_gb == 20


def test_a_request_names_the_host_with_the_password_sealed() -> None:
    disk = _disk()
    disk.request_attach(uuid4(), _vm(disk), 1, _work())
    (requested,) = [e for e in disk.collect_events() if type(e).__name__ == "AttachRequested"]
    assert isinstance(requested.password, Secret)
    assert (requested.instance_name, requested.size_gb) == ("i-2-5-VM", 10)


def test_a_start_request_carries_the_data_disks_and_old_ones_read_as_none() -> None:
    start = VirtualMachine.StartRequested
    state = {"request_id": "r"}
    start.upcast_v1_v2(state)
    start.upcast_v3_v4(state)
    start.upcast_v4_v5(state)
    start.upcast_v5_v6(state)
    assert (start.class_version, state["data_disks"], state["user_data"]) == (6, [], "")
    assert state["iso"] is None  # starts recorded before ISO deploys carry no ISO
    assert state["root_pool_id"] == ""  # older starts made the ROOT disk on the host's own
    assert state["keyboard"] == ""  # and gave the console the hypervisor's default layout
