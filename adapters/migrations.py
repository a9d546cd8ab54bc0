"""What adapters do to move a running guest or appliance live to another host: the request goes
to the machine's host, and the destination's login comes with it among the sealed secrets. A
guest's disks named by the request move to their new primary storage pools first."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from adapters import Credentials, Hypervisor, HypervisorError, VolumeMove
from adapters.disks import volume_move
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
    """Move the disks the request names to their new pools (live), then the machine, with
    the disks that travel with it onto the destination's pools (a move to another cluster);
    when anything fails, the disks already moved go back, best effort, and the failure is
    reported."""
    first, along = _moves(params)
    done: list[VolumeMove] = []
    try:
        for move in first:
            driver.migrate_volume(move)
            done.append(move)
        status = driver.migrate_vm(name(params), destination(params), along)
    except HypervisorError:
        for move in reversed(done):
            back = replace(move, from_pool_id=move.to_pool_id, to_pool_id=move.from_pool_id)
            with contextlib.suppress(HypervisorError):
                driver.migrate_volume(back)
        raise
    return {**asdict(status), "volumes": [asdict(move) for move in [*done, *along]]}


def _moves(params: dict[str, Any]) -> tuple[list[VolumeMove], list[VolumeMove]]:
    """The disks this host copies before the machine moves, and those that move with it."""
    raw = params.get("volumes") or []
    if not isinstance(raw, list):
        raise BadRequest("parameter 'volumes' must be a list")
    first: list[VolumeMove] = []
    along: list[VolumeMove] = []
    for spec in raw:
        move = volume_move({**spec, "name": name(params), "live": True})
        (along if spec.get("with_vm") else first).append(move)
    return first, along


MIGRATION_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "migrate_vm": _migrate,
    "migrate_system_vm": _migrate,
}
