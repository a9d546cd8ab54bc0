"""Scaling a running system VM, given-when-then on its events, and the messages that carry the
job and the API request to the adapter and back."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import orjson
import pytest

from domain.compute import Compute
from domain.errors import InvalidParameter, InvalidState
from domain.system_vm import Placement, State, SystemVm
from domain.values import Secret
from domain.vm import HostAccess
from stratus.messages import WorkRequest, WorkResult, decode_request, decode_result, encode
from tests.unit.test_router import compute, router


def running(hypervisor: str = "Simulator") -> SystemVm:
    vm = router(compute=replace(compute(), hypervisor=hypervisor).facts())
    where = HostAccess(uuid4(), "x://h", "root", Secret("pw"), hypervisor)
    vm.request_start("r1", None, Placement(where, uuid4(), uuid4()), "hold")
    vm.confirm("r1", "4.3.0")
    vm.collect_events()
    return vm


def bigger(vm: SystemVm) -> Compute:
    return replace(vm.compute, offering_id=uuid4(), cpu_number=2, memory=1024)


def request_scale(vm: SystemVm, wanted: Compute, job=None) -> None:
    where = HostAccess(vm.host_id, "x://h", "root", Secret("pw"), vm.compute.hypervisor)
    vm.request_scale("s1", job, where, wanted, "grow")


def test_a_confirmed_scale_of_a_running_appliance_records_its_new_shape() -> None:
    vm = running()
    wanted, job = bigger(vm), uuid4()
    request_scale(vm, wanted, job)
    assert (vm.pending, vm.scale_reservation, vm.job_id) == ("scale", "grow", job)
    assert vm.state == State.RUNNING  # it keeps running while its host resizes it
    assert vm.compute != wanted  # not before the host says so
    vm.confirm("s1", None)
    assert vm.compute == wanted and vm.pending is None and vm.scale_reservation is None
    assert [type(e).__name__ for e in vm.collect_events()] == ["ScaleRequested", "Scaled"]


def test_a_failed_scale_keeps_the_old_shape_and_the_appliance_running() -> None:
    vm = running()
    old = vm.compute
    request_scale(vm, bigger(vm))
    vm.fail("s1", "the hypervisor refused")
    assert (vm.compute, vm.state, vm.pending, vm.scale_reservation) == (old, "Running", None, None)


@pytest.mark.parametrize("hypervisor", ["KVM", "Hyperv"])
def test_a_running_appliance_is_not_resized_on_kvm_or_hyperv(hypervisor: str) -> None:
    vm = running(hypervisor)
    with pytest.raises(InvalidParameter, match="not permitted for this hypervisor"):
        request_scale(vm, bigger(vm))
    assert vm.collect_events() == []


def test_scaling_needs_a_running_idle_appliance_and_a_new_shape() -> None:
    stopped = router()
    with pytest.raises(InvalidState):
        request_scale(stopped, bigger(stopped))
    vm = running()
    with pytest.raises(InvalidParameter, match="already has"):
        request_scale(vm, vm.compute)
    request_scale(vm, bigger(vm))
    with pytest.raises(InvalidState, match="busy"):
        request_scale(vm, bigger(vm))
    with pytest.raises(InvalidState):
        vm.change_compute(bigger(vm))  # changeServiceForSystemVm stays for stopped ones
    assert vm.state == State.RUNNING


def test_work_messages_carry_the_job_and_request_there_and_back() -> None:
    request = WorkRequest("r", "simulator", "start_vm", "t", job_id="j", origin_request_id="o")
    assert decode_request(encode(request)) == request
    result = WorkResult("r", "simulator", "start_vm", "t", True, job_id="j", origin_request_id="o")
    assert decode_result(encode(result)) == result


def test_messages_of_an_older_or_newer_version_still_decode() -> None:
    old = {"request_id": "r", "hypervisor": "simulator", "action": "start_vm", "target_id": "t"}
    assert decode_request(orjson.dumps(old)).job_id is None
    result = decode_result(orjson.dumps({**old, "ok": True, "data": {}, "error": None}))
    assert (result.ok, result.job_id, result.origin_request_id) == (True, None, None)
    newer = decode_result(orjson.dumps({**old, "ok": False, "shard": 3}))
    assert newer.ok is False
    with pytest.raises(TypeError):
        decode_result(orjson.dumps([old]))
