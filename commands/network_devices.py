"""Commands on external network devices: add (to a physical network that has the device's
provider, checked on the PhysicalNetwork aggregate), configure, enable or disable, delete.

What a device holds alone (one controller per physical network, one traffic monitor per zone,
one GSLB provider, an ASA's address) is held by a name claim, so two adds cannot both win."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome, change
from commands.names import claimed, released
from domain.errors import InvalidParameter
from domain.network_device import DeviceChange, DeviceSpec, NetworkDevice, check_provider
from domain.network_physical import PhysicalNetwork

CLAIM = "network-device"
WHAT = "network device"


@dataclass(frozen=True)
class AddDevice:
    device_id: UUID
    spec: DeviceSpec


def add_device(store: Any, command: AddDevice) -> Outcome:
    spec = command.spec

    def attempt() -> Outcome:
        provider = spec.device_kind.provider
        if spec.physical_network_id is not None and provider:
            physical: PhysicalNetwork = store.get(
                PhysicalNetwork, spec.physical_network_id, what="physical network"
            )
            if physical.removed:
                raise InvalidParameter(f"Could not find physical network with ID: {physical.id}")
            check_provider(physical.providers.values(), provider, str(physical.id))
        device = NetworkDevice(command.device_id, **spec.fields())
        claims = [claimed(store, CLAIM, key, device.id, what) for key, what in device.claims()]
        return Outcome(store.last_position(store.save(device, *claims)), device.id)

    result: Outcome = store.run(attempt)
    return result


def configure_device(store: Any, device_id: UUID, wanted: DeviceChange) -> Outcome:
    return change(store, NetworkDevice, device_id, lambda d: d.configure(wanted), what=WHAT)


def set_device_state(store: Any, device_id: UUID, state: str) -> Outcome:
    return change(store, NetworkDevice, device_id, lambda d: d.set_state(state), what=WHAT)


def delete_device(store: Any, device_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        device: NetworkDevice = store.get(NetworkDevice, device_id, what=WHAT)
        device.remove()
        freed = [c for key, _ in device.claims() if (c := released(store, CLAIM, key))]
        return Outcome(store.last_position(store.save(device, *freed)), device.id)

    result: Outcome = store.run(attempt)
    return result
