"""The VirtualMachine aggregate: given its events, when a command or a result arrives, then what."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.compute import NEED_CUSTOM_VALUES, Compute, OfferingShape, resolve_compute
from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret
from domain.vm import HostAccess, VirtualMachine, VmState

TEMPLATE = uuid4()
FIXED = OfferingShape(uuid4(), 1, 500, 512)
CUSTOM = OfferingShape(uuid4(), None, None, None)


def shape(offering: OfferingShape = FIXED, **values: str) -> Compute:
    return resolve_compute(
        offering, values, template_id=TEMPLATE, hypervisor="Simulator", template_disk_gb=10
    )


def access(host_id: UUID | None = None) -> HostAccess:
    return HostAccess(host_id or uuid4(), "simulator://h1", "root", Secret("pw"), "Simulator")


def vm(compute: Compute | None = None) -> VirtualMachine:
    return VirtualMachine(
        uuid4(),
        "web-1",
        "Web 1",
        "i-1-web-VM",
        uuid4(),
        uuid4(),
        uuid4(),
        "",
        (compute or shape()).facts(),
    )


def running() -> VirtualMachine:
    machine = vm()
    machine.request_start("r1", None, access(), "hold-1")
    machine.confirm("r1")
    return machine


def events(machine: VirtualMachine) -> list[Any]:
    return list(machine.collect_events())


def test_a_custom_offering_takes_every_value_from_the_details() -> None:
    compute = shape(CUSTOM, cpu_number="2", cpu_speed="1000", memory="1024")
    assert (compute.cpu_number, compute.cpu_speed, compute.memory, compute.custom) == (
        2,
        1000,
        1024,
        True,
    )
    assert compute.cpu_mhz == 2000 and compute.root_disk_size == 10


def test_a_custom_offering_without_details_is_refused_with_cloudstacks_text() -> None:
    with pytest.raises(InvalidParameter) as refused:
        shape(CUSTOM)
    assert refused.value.message == NEED_CUSTOM_VALUES


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ({"cpu_speed": "1000", "memory": "1024"}, "Invalid cpu cores value"),
        ({"cpu_number": "2", "memory": "1024"}, "Invalid cpu speed value"),
        ({"cpu_number": "2", "cpu_speed": "1000", "memory": "31"}, "Invalid memory value"),
        ({"cpu_number": "0", "cpu_speed": "1000", "memory": "64"}, "Invalid cpu cores value"),
        ({"cpu_number": "two", "cpu_speed": "1000", "memory": "64"}, "Invalid cpu cores value"),
    ],
)
def test_missing_or_out_of_range_custom_values_are_refused(values: dict, text: str) -> None:
    with pytest.raises(InvalidParameter, match=text):
        shape(CUSTOM, **values)


def test_a_fixed_value_cannot_be_overridden() -> None:
    with pytest.raises(InvalidParameter) as refused:
        shape(FIXED, cpu_number="4")
    assert refused.value.message == (
        f"The cpu cores of this offering id:{FIXED.offering_id} is not customizable. "
        "This is predefined in the template."
    )


def test_a_root_disk_size_overrides_the_templates_but_never_shrinks_it() -> None:
    assert shape(FIXED, root_disk_size="20").root_disk_size == 20
    with pytest.raises(InvalidParameter):
        shape(FIXED, root_disk_size="5")


def test_a_start_is_requested_with_the_host_then_confirmed_by_its_result() -> None:
    machine = vm()
    host = access()
    machine.request_start("r1", None, host, "hold-1")
    assert (machine.state, machine.host_id, machine.reservation) == (
        VmState.STARTING,
        host.host_id,
        "hold-1",
    )
    machine.confirm("r1")
    assert machine.state == VmState.RUNNING
    requested, started = events(machine)[1:]
    assert requested.password == Secret("pw") and requested.compute["cpu_number"] == 1
    assert started.compute == machine.compute.facts()


def test_a_failed_first_start_leaves_the_vm_in_error_and_off_its_host() -> None:
    machine = vm()
    machine.request_start("r1", None, access(), "hold-1")
    machine.fail("r1", "boom")
    assert (machine.state, machine.host_id, machine.reservation) == (VmState.ERROR, None, None)


def test_a_failed_later_start_leaves_the_vm_stopped() -> None:
    machine = running()
    machine.request_stop("r2", None, access(machine.host_id), forced=False)
    machine.confirm("r2")
    machine.request_start("r3", None, access(), "hold-2")
    machine.fail("r3", "boom")
    assert machine.state == VmState.STOPPED


def test_a_failed_stop_leaves_the_vm_running_on_its_host() -> None:
    machine = running()
    host = machine.host_id
    machine.request_stop("r2", None, access(host), forced=True)
    assert machine.state == VmState.STOPPING
    machine.fail("r2", "refused")
    assert (machine.state, machine.host_id) == (VmState.RUNNING, host)


def test_only_the_result_of_the_request_in_flight_counts() -> None:
    machine = vm()
    machine.request_start("r1", None, access(), "hold-1")
    assert not machine.is_current("old") and machine.is_current("r1")
    machine.confirm("r1")
    assert not machine.is_current("r1")


def test_a_second_request_is_refused_while_one_is_in_flight() -> None:
    machine = running()
    machine.request_reboot("r2", None, access(machine.host_id))
    with pytest.raises(InvalidState, match="busy"):
        machine.request_stop("r3", None, access(machine.host_id), forced=False)


def test_start_is_refused_when_the_vm_is_destroyed() -> None:
    machine = vm()
    machine.destroy("r1", None, False, None)
    assert machine.state == VmState.DESTROYED
    with pytest.raises(InvalidState):
        machine.request_start("r2", None, access(), "hold")


def test_a_destroyed_vm_can_be_recovered_then_expunged_after_another_destroy() -> None:
    machine = vm()
    machine.destroy("r1", None, False, None)
    machine.recover()
    assert machine.state == VmState.STOPPED
    machine.destroy("r2", None, True, None)
    assert machine.removed
    kinds = [type(e).__name__ for e in events(machine)]
    assert kinds == ["Deployed", "Destroyed", "Recovered", "Destroyed", "Expunged"]


def test_destroying_a_running_vm_with_expunge_asks_its_host_then_removes_it() -> None:
    machine = running()
    assert machine.destroy("r2", None, True, access(machine.host_id))
    assert machine.state == VmState.EXPUNGING
    machine.confirm("r2")
    assert machine.removed and machine.host_id is None
    assert [type(e).__name__ for e in events(machine)][-2:] == ["Destroyed", "Expunged"]


def test_changing_the_offering_is_allowed_only_when_stopped() -> None:
    machine = running()
    with pytest.raises(InvalidState, match="make sure the virtual machine is stopped"):
        machine.change_compute(shape(CUSTOM, cpu_number="2", cpu_speed="800", memory="1024"))


def test_a_stopped_vm_takes_a_new_shape_at_once() -> None:
    machine = vm()
    bigger = shape(CUSTOM, cpu_number="2", cpu_speed="800", memory="1024")
    machine.change_compute(bigger)
    assert machine.compute == bigger
    assert events(machine)[-1].compute["memory"] == 1024


def test_a_running_vm_keeps_its_shape_until_the_scale_is_confirmed() -> None:
    machine = running()
    bigger = shape(CUSTOM, cpu_number="2", cpu_speed="800", memory="1024")
    machine.request_scale("r2", None, access(machine.host_id), bigger, "extra")
    assert machine.compute != bigger and machine.scale_reservation == "extra"
    machine.confirm("r2")
    assert machine.compute == bigger and machine.scale_reservation is None


def test_a_failed_scale_keeps_the_old_shape() -> None:
    machine = running()
    old = machine.compute
    bigger = shape(CUSTOM, cpu_number="2", cpu_speed="800", memory="1024")
    machine.request_scale("r2", None, access(machine.host_id), bigger, "extra")
    machine.fail("r2", "no hot-plug")
    assert (machine.compute, machine.state) == (old, VmState.RUNNING)


def test_a_running_kvm_vm_is_not_scaled_live_but_a_stopped_one_is() -> None:
    def on_kvm(**values: str) -> Compute:
        return resolve_compute(
            CUSTOM, values, template_id=TEMPLATE, hypervisor="KVM", template_disk_gb=10
        )

    machine = vm(on_kvm(cpu_number="1", cpu_speed="500", memory="512"))
    machine.request_start("r1", None, access(), "hold-1")
    machine.confirm("r1")
    bigger = on_kvm(cpu_number="2", cpu_speed="500", memory="1024")

    with pytest.raises(InvalidParameter, match="not permitted for this hypervisor"):
        machine.request_scale("r2", None, access(machine.host_id), bigger, "extra")
    assert machine.state == VmState.RUNNING and machine.compute != bigger

    machine.request_stop("r3", None, access(machine.host_id), forced=False)
    machine.confirm("r3")
    machine.change_compute(bigger)
    assert machine.compute == bigger


def test_a_scale_to_the_same_shape_is_refused() -> None:
    machine = vm()
    with pytest.raises(InvalidParameter):
        machine.change_compute(machine.compute)


def test_no_room_on_deploy_leaves_a_never_started_vm_in_error() -> None:
    machine = vm()
    machine.placement_failed("Unable to create a deployment")
    assert machine.state == VmState.ERROR


def test_only_some_fields_can_be_updated() -> None:
    machine = vm()
    machine.update({"display_name": "Web one"})
    assert machine.display_name == "Web one"
    with pytest.raises(InvalidParameter):
        machine.update({"state": "Running"})


def test_a_start_given_up_on_fails_like_an_answer_and_remembers_its_host() -> None:
    machine, host = vm(), access()
    machine.request_start("r1", None, host, "hold-1")
    machine.abandon("r1", "no hypervisor adapter answered")
    assert machine.state == VmState.ERROR and machine.host_id is None
    assert machine.stray_host("r1") == host.host_id
    assert machine.stray_host("other") is None


def test_a_start_given_up_on_is_no_stray_where_a_later_start_placed_the_vm() -> None:
    machine, host = running(), access()
    machine.request_stop("r2", None, host, False)
    machine.confirm("r2")
    machine.request_start("r3", None, host, "hold-3")
    machine.abandon("r3", "no answer")
    assert machine.state == VmState.STOPPED and machine.stray_host("r3") == host.host_id
    machine.request_start("r4", None, host, "hold-4")
    assert machine.stray_host("r3") is None  # r4 holds the VM on that host now


def test_a_stray_stop_is_asked_once_and_only_for_a_start() -> None:
    machine, host = running(), access()
    machine.request_stop("r2", None, host, False)
    machine.abandon("r2", "no answer")
    assert machine.state == VmState.RUNNING and machine.stray_host("r2") is None
    machine.request_stop("r3", None, host, False)
    machine.confirm("r3")
    machine.request_start("r4", None, host, "hold-4")
    machine.abandon("r4", "no answer")
    machine.request_stray_stop("r5", "r4", host)
    assert machine.stray_host("r4") is None
    assert type(events(machine)[-1]).__name__ == "StrayStopRequested"


def test_an_answered_request_cannot_be_given_up_on() -> None:
    machine = running()
    machine.abandon("r1", "too late")
    assert machine.state == VmState.RUNNING


def test_a_stop_given_up_on_is_recorded_when_its_host_did_it_and_nothing_happened_since() -> None:
    machine = running()
    host_id = machine.host_id
    assert host_id is not None
    machine.request_stop("r2", None, access(host_id), False)
    machine.abandon("r2", "no answer")
    assert machine.state == VmState.RUNNING
    assert machine.stopped_late("r2") and machine.state == VmState.STOPPED
    assert machine.host_id is None and machine.reservation is None
    assert not machine.stopped_late("r2")  # once


def test_a_late_stop_changes_nothing_once_the_vm_moved_on() -> None:
    machine = running()
    host_id = machine.host_id
    assert host_id is not None
    machine.request_stop("r2", None, access(host_id), False)
    machine.abandon("r2", "no answer")
    machine.request_reboot("r3", None, access(host_id))
    assert not machine.stopped_late("r2")
    assert machine.state == VmState.RUNNING


def test_a_running_vm_is_restored_by_its_host_and_keeps_running() -> None:
    machine = running()
    other = Compute.from_facts({**machine.compute.facts(), "template_id": str(uuid4())})
    assert machine.restore("r2", None, access(machine.host_id), other) is True
    assert (machine.state, machine.pending) == (VmState.RUNNING, "restore")
    machine.confirm("r2")
    assert (machine.state, machine.pending, machine.compute) == (VmState.RUNNING, None, other)


def test_a_failed_restore_leaves_the_vm_and_its_template_as_they_were() -> None:
    machine = running()
    before = machine.compute
    other = Compute.from_facts({**before.facts(), "template_id": str(uuid4())})
    machine.restore("r2", None, access(machine.host_id), other)
    machine.fail("r2", "disk trouble")
    assert (machine.state, machine.compute) == (VmState.RUNNING, before)


def test_a_vm_whose_disk_no_host_holds_is_restored_on_its_record_alone() -> None:
    machine = vm()
    other = Compute.from_facts({**machine.compute.facts(), "template_id": str(uuid4())})
    assert machine.restore("r1", None, None, other) is False
    assert (machine.state, machine.compute) == (VmState.STOPPED, other)


def test_only_a_running_or_stopped_vm_is_restored() -> None:
    machine = vm()
    machine.destroy("r1", None, False, None)
    with pytest.raises(InvalidState, match="in state Destroyed"):
        machine.restore("r2", None, None, machine.compute)


def test_every_start_carries_the_user_data_the_vm_has_then() -> None:
    machine = vm()
    machine.update({"user_data": "aGk="})
    machine.request_start("r1", None, access(), "hold-1")
    (requested,) = [e for e in machine.collect_events() if type(e).__name__ == "StartRequested"]
    assert requested.user_data == "aGk="


def test_a_vm_deployed_with_a_keyboard_layout_starts_with_it_and_a_bad_one_is_refused() -> None:
    facts = shape().facts()
    ids = (uuid4(), "web-1", "Web 1", "i-1-web-VM", uuid4(), uuid4(), uuid4(), "", facts)
    french = VirtualMachine(*ids, keyboard="fr")
    french.request_start("r1", None, access(), "hold-1")
    started = [e for e in french.collect_events() if type(e).__name__ == "StartRequested"]
    assert [e.keyboard for e in started] == ["fr"]
    plain = vm()
    plain.request_start("r2", None, access(), "hold-2")
    started = [e for e in plain.collect_events() if type(e).__name__ == "StartRequested"]
    assert [e.keyboard for e in started] == [""]
    with pytest.raises(InvalidParameter, match="Invalid keyboard klingon"):
        VirtualMachine(uuid4(), *ids[1:], keyboard="klingon")


def test_a_vm_deployed_before_keyboards_replays_with_the_hypervisors_default() -> None:
    deployed = vm().collect_events()[0]
    stored = {k: v for k, v in deployed.__dict__.items() if k != "keyboard"}
    old = object.__new__(type(deployed))
    old.__dict__.update(stored)
    assert old.mutate(None).keyboard == ""
