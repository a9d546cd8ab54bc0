"""What adapters do for usage statistics: read a router's network counters and a VM's disk
counters, and answer them with what the request named (host, network, volumes, reading time),
so the server can tell a reading of the resource's current run from an older one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import Hypervisor
from adapters.requests import name as _name


def _echo(params: dict[str, Any]) -> dict[str, Any]:
    return {"host_id": params.get("host_id"), "read_at_ms": params.get("read_at_ms")}


def _network(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    counters = driver.network_stats(_name(params))
    return {
        **_echo(params),
        "network_id": params.get("network_id"),
        "epoch": counters.epoch,
        "sent": counters.bytes_sent,
        "received": counters.bytes_received,
    }


def _disks(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """Each disk's counters under the id of the volume in its slot (disks of no known volume
    are left out: nothing is charged for them)."""
    slots = {int(v["device_id"]): str(v["id"]) for v in params.get("volumes", ())}
    disks = driver.disk_stats(_name(params))
    volumes = {
        slots[disk.device_id]: [disk.io_read, disk.io_write, disk.bytes_read, disk.bytes_write]
        for disk in disks
        if disk.device_id in slots
    }
    epoch = disks[0].epoch if disks else ""
    return {**_echo(params), "epoch": epoch, "volumes": volumes}


STATISTICS_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "network_stats": _network,
    "disk_stats": _disks,
}
