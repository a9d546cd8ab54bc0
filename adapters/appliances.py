"""What adapters do for system VMs (routers, secondary storage VMs, console proxies).

An appliance is a VM that boots its template's image and reports its own release, so its
actions are the VM ones plus the release it reports. A template upgrade is the VM actions
composed: stop, remove, start from the new image; when the new image does not come up, the
appliance is started again from its old one, so it keeps running what it ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from adapters import Hypervisor, HypervisorError, VpnConfig
from adapters.guests import GUEST_ACTIONS
from adapters.requests import BadRequest, param
from adapters.requests import name as _name
from adapters.requests import vm_spec as _spec


def _with_version(driver: Hypervisor, name: str, status: Any) -> dict[str, Any]:
    return {**asdict(status), "version": driver.appliance_version(name)}


def _start(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    spec = _spec(params)
    return _with_version(driver, spec.name, driver.start_vm(spec))


def _reboot(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    name = _name(params)
    return _with_version(driver, name, driver.reboot_vm(name))


def _stop(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    status = driver.stop_vm(_name(params), forced=bool(params.get("forced", False)))
    return asdict(status)


def _destroy(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    driver.destroy_vm(_name(params))
    return {"name": _name(params), "state": "Destroyed"}


def _scale(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """Resize the running appliance exactly as a guest is resized (the driver may refuse)."""
    return GUEST_ACTIONS["scale_vm"](driver, params)


def _upgrade(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """Reboot onto the new template; on failure come back up on the old one, then report."""
    spec = _spec(params)
    old = params.get("old_template")
    if not old:
        raise BadRequest("parameter 'old_template' is missing")
    driver.stop_vm(spec.name, forced=True)
    driver.destroy_vm(spec.name)
    try:
        status = driver.start_vm(spec)
    except HypervisorError as failure:
        driver.start_vm(replace(spec, template=str(old)))
        raise HypervisorError(
            f"{spec.name} did not come up on the new template ({failure}); it runs its old "
            "template again"
        ) from None
    return _with_version(driver, spec.name, status)


def _check(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    services = tuple(str(s) for s in params.get("services", ()))
    restart = tuple(str(s) for s in params.get("restart", ()))
    name = _name(params)
    found = driver.check_services(name, services, restart)
    return {
        "host_id": params.get("host_id"),
        "services": found,
        "version": driver.appliance_version(name),
    }


def _configure_vpn(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """The router's remote access VPN; its key and users come from the sealed secrets."""
    secrets = params.get("secrets")
    if not isinstance(secrets, dict) or "preshared_key" not in secrets:
        raise BadRequest("the request carries no sealed VPN secrets")
    try:
        users = tuple((str(u["username"]), str(u["password"])) for u in secrets.get("users", ()))
    except (KeyError, TypeError):
        raise BadRequest("malformed VPN users in the sealed secrets") from None
    vpn = VpnConfig(
        public_ip=str(param(params, "public_ip")),
        local_ip=str(param(params, "local_ip")),
        ip_range=str(param(params, "ip_range")),
        preshared_key=str(secrets["preshared_key"]),
        users=users,
        removing=bool(params.get("removing", False)),
    )
    return dict(driver.configure_vpn(_name(params), vpn))


APPLIANCE_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "start_system_vm": _start,
    "stop_system_vm": _stop,
    "reboot_system_vm": _reboot,
    "destroy_system_vm": _destroy,
    "scale_system_vm": _scale,
    "upgrade_router": _upgrade,
    "check_router": _check,
    "configure_remote_access_vpn": _configure_vpn,
}
