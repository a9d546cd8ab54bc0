"""What adapters do for a network's rules: hand the router its network's whole rule set.

The request carries every rule of the network (port forwarding, firewall, load balancing,
static NAT) and a generation; applying it again, or applying an older generation after a
newer one, changes nothing. The result names the generation the router holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import Hypervisor
from adapters.haproxy import Limits, build_config
from adapters.requests import BadRequest, count, name


def _apply(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    vm, generation = name(params), count(params, "generation")
    rules = params.get("rules")
    if not isinstance(rules, list | tuple) or not all(isinstance(r, dict) for r in rules):
        raise BadRequest("parameter 'rules' must be a list of rules")
    certificates = params.get("certificates") or []
    secrets = params.get("secrets") or {}
    keys = secrets.get("ssl_keys") if isinstance(secrets, dict) else None
    limits = params.get("balancer") or {}
    if not isinstance(limits, dict):
        raise BadRequest("parameter 'balancer' must be a mapping")
    try:
        balancer = build_config(rules, certificates, keys, Limits.of(limits))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(f"malformed load balancer rules or certificates: {exc}") from None
    held = driver.apply_network_rules(vm, generation, tuple(rules), balancer)
    return {"generation": held, "rules": len(rules)}


def _apply_acls(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    """A VPC router's network ACLs: per tier, the ordered items of its list."""
    vm, generation = name(params), count(params, "generation")
    acls = params.get("acls")
    if not isinstance(acls, list | tuple) or not all(isinstance(a, dict) for a in acls):
        raise BadRequest("parameter 'acls' must be a list of tiers")
    held = driver.apply_network_acls(vm, generation, tuple(acls))
    return {"generation": held, "tiers": len(acls)}


RULE_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "apply_network_rules": _apply,
    "apply_network_acls": _apply_acls,
}
