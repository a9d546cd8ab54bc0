"""What adapters do to move a running guest or appliance live to another host: the request goes
to the machine's host, and the destination's login comes with it among the sealed secrets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from adapters import Credentials, Hypervisor
from adapters.requests import BadRequest, name


def destination(params: dict[str, Any]) -> Credentials:
    """The destination host's login, from the request's sealed secrets."""
    secrets = params.get("secrets")
    found = secrets.get("destination") if isinstance(secrets, dict) else None
    if not isinstance(found, dict) or not found.get("url"):
        raise BadRequest("the request carries no sealed destination host")
    return Credentials(
        str(found["url"]), str(found.get("username", "")), str(found.get("password", ""))
    )


def _migrate(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    return asdict(driver.migrate_vm(name(params), destination(params)))


MIGRATION_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "migrate_vm": _migrate,
    "migrate_system_vm": _migrate,
}
