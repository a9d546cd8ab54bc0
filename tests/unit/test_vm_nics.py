"""A VM's NICs after its deploy, given-when-then on its events: plugging and unplugging through
its host while it runs, at once while it is stopped, the default NIC, secondary addresses."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState
from domain.vm import VirtualMachine
from tests.unit.test_vm import access, events, running, vm

FIRST, SECOND = uuid4(), uuid4()


def nic(network_id: UUID, is_default: bool, ip: str = "10.1.1.5") -> dict[str, Any]:
    return {
        "network_id": network_id,
        "ip_address": ip,
        "mac_address": "02:00:00:00:00:01",
        "gateway": "10.1.1.1",
        "netmask": "255.255.255.0",
        "is_default": is_default,
        "broadcast_uri": "vlan://5",
        "network_offering_id": uuid4(),
    }


def with_nic(machine: VirtualMachine) -> VirtualMachine:
    machine.plug_nic(nic(FIRST, True))
    events(machine)
    return machine


def names(machine: VirtualMachine) -> list[str]:
    return [type(e).__name__ for e in events(machine)]


def test_a_running_vm_asks_its_host_and_has_the_nic_once_the_host_plugged_it() -> None:
    machine = with_nic(running())
    assert machine.request_nic_plug(nic(SECOND, False, "10.2.2.5"), "r2", None, access())
    assert names(machine) == ["NicPlugRequested"] and machine.nic_on(SECOND) is None
    machine.confirm("r2")
    assert names(machine) == ["NicHotPlugged"]
    assert machine.nic_on(SECOND)["ip_address"] == "10.2.2.5" and machine.pending is None


def test_a_nic_the_host_could_not_plug_is_not_recorded() -> None:
    machine = with_nic(running())
    machine.request_nic_plug(nic(SECOND, False), "r2", None, access())
    machine.fail("r2", "no bridge")
    assert machine.nic_on(SECOND) is None and machine.state == "Running"


def test_a_stopped_vm_gains_and_loses_a_nic_at_once() -> None:
    machine = with_nic(vm())
    assert not machine.request_nic_plug(nic(SECOND, False), "r2", None, None)
    assert not machine.request_nic_unplug(SECOND, "r3", None, None)
    assert names(machine) == ["NicPlugged", "NicUnplugged"] and machine.nic_on(SECOND) is None


def test_one_nic_per_network_and_never_the_default_nic_removed() -> None:
    machine = with_nic(running())
    with pytest.raises(InvalidParameter):
        machine.request_nic_plug(nic(FIRST, False), "r2", None, access())
    with pytest.raises(InvalidParameter):
        machine.request_nic_unplug(FIRST, "r2", None, access())
    with pytest.raises(InvalidParameter):
        machine.request_nic_unplug(SECOND, "r2", None, access())
    assert events(machine) == []


def test_a_stopped_vm_given_to_another_account_exchanges_every_nic() -> None:
    machine = with_nic(vm())
    machine.plug_nic(nic(SECOND, False, "10.2.2.5"))
    events(machine)
    third = uuid4()
    machine.replace_nics([nic(third, True, "10.3.3.5")])
    assert names(machine) == ["NicUnplugged", "NicUnplugged", "NicPlugged"]
    assert machine.nic_on(FIRST) is None and machine.nic_on(SECOND) is None
    assert machine.nic_on(third)["is_default"]


def test_a_running_vm_keeps_its_nics_when_asked_to_exchange_them() -> None:
    machine = with_nic(running())
    with pytest.raises(InvalidState):
        machine.replace_nics([nic(SECOND, True)])
    assert events(machine) == [] and machine.nic_on(FIRST) is not None


def test_a_busy_vm_changes_no_nic() -> None:
    machine = with_nic(running())
    machine.request_nic_plug(nic(SECOND, False), "r2", None, access())
    with pytest.raises(InvalidState):
        machine.request_nic_unplug(SECOND, "r3", None, access())


def test_the_default_nic_moves_and_unplugging_takes_the_nics_secondary_addresses() -> None:
    machine = with_nic(vm())
    machine.request_nic_plug(nic(SECOND, False, "10.2.2.5"), "r2", None, None)
    machine.add_secondary_ip(uuid4(), SECOND, "10.2.2.9")
    machine.change_default_nic(SECOND)
    assert machine.nic_on(SECOND)["is_default"] and not machine.nic_on(FIRST)["is_default"]
    with pytest.raises(InvalidParameter):
        machine.change_default_nic(SECOND)
    machine.change_default_nic(FIRST)
    machine.request_nic_unplug(SECOND, "r3", None, None)
    assert machine.secondary_ips == {}
