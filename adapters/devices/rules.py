"""What a device adapter does for `apply_device_rules`: read the request, hand its driver the
network's share of rules (with the certificates' keys, opened from the seal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.devices import NetworkDeviceDriver, NetworkFacts, TlsMaterial
from adapters.requests import BadRequest, count


def _apply(driver: Any, params: dict[str, Any]) -> dict[str, Any]:
    device: NetworkDeviceDriver = driver
    generation = count(params, "generation")
    rules = params.get("rules")
    if not isinstance(rules, list | tuple) or not all(isinstance(r, dict) for r in rules):
        raise BadRequest("parameter 'rules' must be a list of rules")
    try:
        network = NetworkFacts.of(params["network"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(f"parameter 'network' is malformed: {exc}") from None
    held = device.apply_rules(network, generation, tuple(rules), _certificates(params))
    return {"generation": held, "rules": len(rules)}


def _certificates(params: dict[str, Any]) -> tuple[TlsMaterial, ...]:
    secrets = params.get("secrets") or {}
    keys = secrets.get("ssl_keys") if isinstance(secrets, dict) else None
    found = []
    for given in params.get("certificates") or ():
        try:
            key = (keys or {})[given["id"]]
            found.append(TlsMaterial(given["id"], given["certificate"], given["chain"] or "", key))
        except (KeyError, TypeError) as exc:
            raise BadRequest(
                f"a certificate of the set is malformed or has no key: {exc}"
            ) from None
    return tuple(found)


DEVICE_ACTIONS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "apply_device_rules": _apply,
}
