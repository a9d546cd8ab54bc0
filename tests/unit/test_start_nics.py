"""A VM's start request names its guest NICs (default first), the relay puts them in the
`start_vm` request, and the adapter reads them into `VmSpec.nics`; a start request stored
before starts carried NICs reads as one with none."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters import NicSpec
from adapters.requests import BadRequest, vm_spec
from commands.outbox import vm_routes
from domain.vm import VirtualMachine
from stratus.messages import decode_request
from tests.unit.test_vm import access, events, vm

START = {"name": "i-1-VM", "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256}


def _nic(network_id: UUID, mac: str, ip: str, *, default: bool, uri: str = "") -> dict[str, Any]:
    return {
        "network_id": network_id,
        "ip_address": ip,
        "mac_address": mac,
        "gateway": "10.1.1.1",
        "netmask": "255.255.255.0",
        "is_default": default,
        "broadcast_uri": uri,
        "network_offering_id": uuid4(),
    }


def _start_requested(machine: VirtualMachine) -> Any:
    machine.request_start("r1", None, access(), "hold-1")
    (requested,) = [e for e in events(machine) if type(e).__name__ == "StartRequested"]
    return requested


class _Box:
    """Seals nothing: the route under test needs only something to call."""

    def seal(self, data: str) -> str:
        return data


def _relayed(event: Any) -> dict[str, Any]:
    route = vm_routes(_Box())
    outgoing = next(r for topic, r in route.items() if topic.endswith("StartRequested"))(event)
    return dict(decode_request(outgoing.payload).params)


def test_a_start_names_the_vms_nics_in_device_order_with_the_default_first() -> None:
    machine = vm()
    first, second, third = uuid4(), uuid4(), uuid4()
    machine.plug_nic(_nic(first, "02:00:00:00:00:01", "10.1.1.5", default=True, uri="vlan://7"))
    machine.plug_nic(_nic(second, "02:00:00:00:00:02", "10.2.1.5", default=False))
    machine.plug_nic(_nic(third, "02:00:00:00:00:03", "10.3.1.5", default=False))
    machine.change_default_nic(third)
    requested = _start_requested(machine)
    assert [n["mac_address"] for n in requested.nics] == [
        "02:00:00:00:00:03",
        "02:00:00:00:00:01",
        "02:00:00:00:00:02",
    ]
    assert requested.nics[1] == {
        "mac_address": "02:00:00:00:00:01",
        "broadcast_uri": "vlan://7",
        "ip_address": "10.1.1.5",
    }


def test_the_relay_hands_the_nics_to_the_adapter_which_reads_them_into_the_spec() -> None:
    machine = vm()
    machine.plug_nic(_nic(uuid4(), "02:00:00:00:00:01", "10.1.1.5", default=True, uri="vlan://7"))
    machine.plug_nic(_nic(uuid4(), "02:00:00:00:00:02", "10.2.1.5", default=False))
    spec = vm_spec(_relayed(_start_requested(machine)))
    assert spec.nics == (
        NicSpec("02:00:00:00:00:01", "vlan://7", "10.1.1.5"),
        NicSpec("02:00:00:00:00:02", "", "10.2.1.5"),
    )


def test_a_start_request_stored_without_nics_starts_the_vm_with_none() -> None:
    requested = _start_requested(vm())
    # As the store's mapper rebuilds an event: its stored state, no constructor run.
    stored = {key: value for key, value in requested.__dict__.items() if key != "nics"}
    old = object.__new__(type(requested))
    object.__setattr__(old, "__dict__", stored)
    assert _relayed(old)["nics"] == []
    replayed = vm()
    old.apply(replayed)
    assert replayed.pending == "start"
    assert vm_spec(START).nics == ()


@pytest.mark.parametrize("nics", ["02:00:00:00:00:01", [{"ip_address": "10.1.1.5"}], ["x"]])
def test_malformed_nics_in_a_start_request_are_refused(nics: Any) -> None:
    with pytest.raises(BadRequest):
        vm_spec({**START, "nics": nics})
