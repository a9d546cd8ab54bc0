"""What adapters do for security groups: hand a VM's host the VM's whole rule set.

The request carries every rule of the VM's groups (direction, protocol, start, end, cidr), so
applying it again changes nothing. The result says how many rules the host holds for the VM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import Hypervisor
from adapters.requests import BadRequest, name

DIRECTIONS = ("ingress", "egress")
PROTOCOLS = ("tcp", "udp", "icmp", "all")


def checked_rules(raw: Any) -> tuple[dict[str, Any], ...]:
    """The rules of a request, each with the five fields and sane values."""
    if not isinstance(raw, list | tuple):
        raise BadRequest("parameter 'rules' must be a list of rules")
    rules = []
    for rule in raw:
        try:
            checked = {
                "direction": str(rule["direction"]),
                "protocol": str(rule["protocol"]),
                "start": int(rule["start"]),
                "end": int(rule["end"]),
                "cidr": str(rule["cidr"]),
            }
        except (KeyError, TypeError, ValueError):
            raise BadRequest(f"malformed security rule {rule!r}") from None
        if checked["direction"] not in DIRECTIONS or checked["protocol"] not in PROTOCOLS:
            raise BadRequest(f"unknown direction or protocol in security rule {rule!r}")
        rules.append(checked)
    return tuple(rules)


def _apply(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    rules = checked_rules(params.get("rules"))
    return {"rule_count": driver.apply_security_rules(name(params), rules)}


SECURITY_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "apply_security_rules": _apply,
}
