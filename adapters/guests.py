"""What adapters do for a guest VM's lifecycle: start, stop, reboot, destroy, scale, status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from adapters import Hypervisor
from adapters.requests import Unsupported, count, name, param, vm_spec
from stratus.actions import Capability


def _network_boot(driver: Hypervisor, params: dict[str, Any]) -> None:
    """A bare-metal host's request carries its network boot (PXE and DHCP servers): its
    driver takes it before acting."""
    if params.get("boot") is not None:
        take = getattr(driver, "network_boot", None)
        if take is None:
            raise Unsupported(f"network-booted hosts are not driven by the {driver.kind} adapter")
        take(params)


def _start(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """Start the VM; the answer carries its data disks and CD drive as the hypervisor reads
    them back, when the start gave it any."""
    _network_boot(driver, params)
    spec = vm_spec(params)
    if spec.iso is not None and Capability.ISOS not in driver.capabilities:
        raise Unsupported(f"booting from an ISO is not supported yet on {driver.kind}")
    answer = asdict(driver.start_vm(spec))
    if spec.data_disks:
        answer["disks"] = [asdict(disk) for disk in driver.vm_disks(spec.name)]
    if spec.iso is not None:
        answer["iso"] = driver.vm_iso(spec.name)
    return answer


def _stop(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    _network_boot(driver, params)
    return asdict(driver.stop_vm(name(params), forced=bool(params.get("forced", False))))


def _reboot(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    _network_boot(driver, params)
    return asdict(driver.reboot_vm(name(params)))


def _destroy(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    _network_boot(driver, params)
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
