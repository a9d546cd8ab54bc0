"""What adapters do for primary storage: make a pool known to a host and report what the host
sees of it (capacity, free bytes, where the host keeps it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from adapters import Hypervisor, PoolSpec
from adapters.requests import BadRequest, param


def pool_spec(params: dict[str, Any]) -> PoolSpec:
    raw = param(params, "pool")
    if not isinstance(raw, dict):
        raise BadRequest("parameter 'pool' must be a mapping")
    try:
        port = int(raw.get("port") or 0)
    except (TypeError, ValueError):
        raise BadRequest("a pool's port must be a whole number") from None
    return PoolSpec(
        pool_id=str(param(raw, "pool_id")),
        pool_type=str(param(raw, "pool_type")),
        host=str(raw.get("host") or ""),
        path=str(raw.get("path") or ""),
        port=port,
        user=str(raw.get("user") or ""),
    )


def _connect(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    return {"pool": asdict(driver.connect_pool(pool_spec(params)))}


POOL_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "connect_pool": _connect,
}
