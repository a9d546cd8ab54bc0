"""Live migration in the aggregates: a VM asked to move keeps running where it is until the
answer; the answer moves it (and its room's name) or leaves it; a host in maintenance waits for
its machines and ends in Maintenance, or ErrorInMaintenance when one could not leave."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState
from domain.host import Host, ResourceState
from domain.values import Secret
from tests.unit.test_vm import access, events, running, vm


def test_a_vm_asked_to_move_runs_where_it_is_until_its_host_answers() -> None:
    machine = running()
    source = machine.host_id
    destination = access()
    machine.request_migrate("m1", None, access(source), destination, "vm:x:m1")
    assert (machine.state, machine.host_id, machine.pending) == ("Running", source, "migrate")
    assert machine.migrating_to == (destination.host_id, "vm:x:m1")
    requested = events(machine)[-1]
    assert requested.destination_password == Secret("pw")  # sealed like the source's

    machine.confirm("m1")

    assert (machine.state, machine.host_id, machine.reservation) == (
        "Running",
        destination.host_id,
        "vm:x:m1",
    )
    assert machine.migrating_to is None and machine.pending is None
    moved = events(machine)[-1]
    assert (moved.from_host_id, moved.host_id) == (source, destination.host_id)


def test_a_failed_move_leaves_the_vm_running_where_it_was() -> None:
    machine = running()
    source, held = machine.host_id, machine.reservation
    machine.request_migrate("m1", None, access(source), access(), "vm:x:m1")
    machine.fail("m1", "the hypervisor said no")
    assert (machine.state, machine.host_id, machine.reservation) == ("Running", source, held)
    assert machine.migrating_to is None


def test_only_a_running_idle_vm_moves_and_never_to_its_own_host() -> None:
    machine = running()
    with pytest.raises(InvalidParameter, match="already present on this host"):
        machine.request_migrate("m1", None, access(machine.host_id), access(machine.host_id), "r")
    machine.request_migrate("m1", None, access(machine.host_id), access(), "r")
    with pytest.raises(InvalidState, match="busy"):
        machine.request_migrate("m2", None, access(machine.host_id), access(), "r2")
    stopped = vm()
    with pytest.raises(InvalidState, match="VM is not Running, unable to migrate the vm"):
        stopped.request_migrate("m1", None, access(), access(), "r")


def _host() -> Host:
    return Host(
        "h1", uuid4(), uuid4(), uuid4(), "Simulator", "simulator://h1", "root", Secret("pw"),
        "Enabled", (),
    )  # fmt: skip


def test_a_host_enters_maintenance_when_its_last_machine_has_left() -> None:
    host, first, second = _host(), uuid4(), uuid4()
    host.prepare_for_maintenance((first, second))
    assert host.resource_state == ResourceState.PREPARE_FOR_MAINTENANCE
    assert host.machine_left(first, None) is True
    assert host.resource_state == ResourceState.PREPARE_FOR_MAINTENANCE
    assert host.machine_left(uuid4(), None) is False  # not one it waits for
    assert host.machine_left(first, None) is False  # told twice
    host.machine_left(second, None)
    assert host.resource_state == ResourceState.MAINTENANCE


def test_a_machine_that_could_not_leave_puts_the_host_in_error_in_maintenance() -> None:
    host, first, second = _host(), uuid4(), uuid4()
    host.prepare_for_maintenance((first, second))
    host.machine_left(first, "no room anywhere")
    assert host.resource_state == ResourceState.PREPARE_FOR_MAINTENANCE
    host.machine_left(second, None)
    assert host.resource_state == ResourceState.ERROR_IN_MAINTENANCE
    with pytest.raises(InvalidState, match="already in maintenance"):
        host.prepare_for_maintenance(())
    host.cancel_maintenance()
    assert host.resource_state == ResourceState.ENABLED
    assert host.machine_left(second, None) is False


def test_a_host_with_nothing_placed_is_in_maintenance_at_once() -> None:
    host = _host()
    host.prepare_for_maintenance()
    assert host.resource_state == ResourceState.MAINTENANCE
