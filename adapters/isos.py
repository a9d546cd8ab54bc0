"""What adapters do for a VM's CD drive: put an ISO in, take it out.

Results carry the ISO the drive holds afterwards, as the hypervisor reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import Hypervisor, IsoSpec
from adapters.requests import name, param


def _attach(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    iso = IsoSpec(
        str(param(params, "iso_id")), str(param(params, "iso_url")), str(param(params, "zone_id"))
    )
    location = driver.attach_iso(name(params), iso)
    return {"name": name(params), "location": location, "iso": driver.vm_iso(name(params))}


def _detach(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    driver.detach_iso(name(params))
    return {"name": name(params), "iso": driver.vm_iso(name(params))}


ISO_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "attach_iso": _attach,
    "detach_iso": _detach,
}
