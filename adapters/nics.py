"""What adapters do for a VM's guest NICs: plug one in, unplug one.

Results carry the MACs of the VM's NICs afterwards, as the hypervisor reports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import Hypervisor
from adapters.requests import name, nic_spec, param


def _plug(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    nic = nic_spec(params)
    return {"name": name(params), "nics": list(driver.plug_nic(name(params), nic))}


def _unplug(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    macs = driver.unplug_nic(name(params), str(param(params, "mac_address")))
    return {"name": name(params), "nics": list(macs)}


NIC_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "plug_nic": _plug,
    "unplug_nic": _unplug,
}
