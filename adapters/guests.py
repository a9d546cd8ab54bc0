"""What adapters do for a guest VM's lifecycle: start, stop, reboot, destroy, scale, status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from adapters import Hypervisor
from adapters.requests import count, name, param, vm_spec


def _start(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    return asdict(driver.start_vm(vm_spec(params)))


def _stop(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    return asdict(driver.stop_vm(name(params), forced=bool(params.get("forced", False))))


def _reboot(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    return asdict(driver.reboot_vm(name(params)))


def _destroy(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    driver.destroy_vm(name(params))
    return {"name": name(params), "state": "Destroyed"}


def _scale(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    sizes = count(params, "cpu_number"), count(params, "memory_mb")
    return asdict(driver.scale_vm(name(params), *sizes))


def _restore(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    spec = vm_spec({**params, "cpu_number": 0, "cpu_speed_mhz": 0, "memory_mb": 0})
    return asdict(driver.restore_vm(spec, str(param(params, "restore_id"))))


def _status(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    return asdict(driver.vm_status(name(params)))


GUEST_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "start_vm": _start,
    "stop_vm": _stop,
    "reboot_vm": _reboot,
    "destroy_vm": _destroy,
    "scale_vm": _scale,
    "restore_vm": _restore,
    "vm_status": _status,
}
