"""What the simulator adapter does for an operator: set how a simulated host answers an action
(configureSimulator). Only the simulator has the capability; no other driver is asked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import Hypervisor
from adapters.requests import BadRequest, Unsupported, param
from adapters.simulator.world import Mock


def _configure(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    configure = getattr(driver, "configure_simulator", None)
    if configure is None:
        raise Unsupported(f"the {driver.kind} adapter is not a simulator")
    try:
        enabled, wait = bool(param(params, "enabled")), float(param(params, "wait_seconds"))
    except (TypeError, ValueError):
        raise BadRequest("enabled and wait_seconds must be a flag and a number") from None
    mock = None if enabled and not wait else Mock(enabled=enabled, wait_seconds=wait)
    result: dict[str, Any] = configure(str(param(params, "action")), mock)
    return result


SIMULATION_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "configure_simulator": _configure,
}
