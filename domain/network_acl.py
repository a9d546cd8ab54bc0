"""Network ACL items as values, the checks 4.3 makes before it accepts one, and the two default
ACL lists every VPC may use ("default_allow", "default_deny"), which nobody can change."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any
from uuid import UUID, uuid5

from domain.errors import InvalidParameter
from domain.network_rule_checks import MAX_PORT, MIN_PORT, RuleState, cidr_list

_NAMESPACE = UUID("9a4d2c71-6e3b-4f18-8b05-c27e1f9a3d64")
NAMED_PROTOCOLS = ("tcp", "udp", "icmp", "all")
TRAFFIC_TYPES = ("Ingress", "Egress")
ACTIONS = ("Allow", "Deny")


class AclState:
    ADD = RuleState.ADD
    ACTIVE = RuleState.ACTIVE
    REVOKE = RuleState.REVOKE


@dataclass(frozen=True)
class AclItem:
    """One numbered item of an ACL list: traffic of a protocol (ports, ICMP type and code) from
    or to CIDRs, allowed or denied. Items apply in the order of their numbers."""

    id: UUID
    acl_id: UUID
    number: int
    protocol: str
    traffic_type: str = "Ingress"
    action: str = "Allow"
    start_port: int | None = None
    end_port: int | None = None
    cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    icmp_type: int | None = None
    icmp_code: int | None = None
    state: str = AclState.ADD

    def facts(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_facts(cls, facts: dict[str, Any]) -> AclItem:
        values = dict(facts)
        values["cidrs"] = tuple(values.get("cidrs", ()))
        return cls(**values)

    def with_state(self, state: str) -> AclItem:
        return replace(self, state=state)

    def applied_view(self) -> dict[str, Any]:
        """What the router is given for the item."""
        view = self.facts()
        view.pop("state")
        return {k: str(v) if isinstance(v, UUID) else v for k, v in view.items()}


@dataclass(frozen=True)
class AclItemInput:
    """An item as asked for: None is "not given" (a default, or unchanged on an update)."""

    protocol: str | None = None
    number: int | None = None
    traffic_type: str | None = None
    action: str | None = None
    start_port: int | None = None
    end_port: int | None = None
    cidrs: tuple[str, ...] | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None


def _one_of(value: str, known: tuple[str, ...], message: str) -> str:
    for name in known:
        if name.lower() == value.strip().lower():
            return name
    raise InvalidParameter(message)


def checked_protocol(text: str) -> str:
    """tcp, udp, icmp, all, or a protocol number 0-255 (4.3 takes both)."""
    chosen = text.strip().lower()
    if chosen in NAMED_PROTOCOLS:
        return chosen
    if chosen.isdigit() and 0 <= int(chosen) <= 255:
        return str(int(chosen))
    raise InvalidParameter(f"Invalid protocol: {text}")


def checked_item(base: AclItem, given: AclItemInput) -> AclItem:
    """`base` changed by what is given, checked as 4.3 checks an ACL item."""
    proto = checked_protocol(given.protocol) if given.protocol is not None else base.protocol
    item = replace(
        base,
        protocol=proto,
        number=base.number if given.number is None else given.number,
        traffic_type=_one_of(
            given.traffic_type or base.traffic_type,
            TRAFFIC_TYPES,
            f"Invalid traffic type {given.traffic_type}: use Ingress or Egress",
        ),
        action=_one_of(
            given.action or base.action,
            ACTIONS,
            "Invalid action. Allowed actions are Allow and Deny",
        ),
        cidrs=cidr_list(given.cidrs) if given.cidrs is not None else base.cidrs,
    )
    start = base.start_port if given.start_port is None else given.start_port
    end = given.end_port
    if end is None:
        end = base.end_port if given.start_port is None else given.start_port
    item = replace(
        item,
        start_port=start,
        end_port=end,
        icmp_type=base.icmp_type if given.icmp_type is None else given.icmp_type,
        icmp_code=base.icmp_code if given.icmp_code is None else given.icmp_code,
    )
    _check(item)
    return item


def _check(item: AclItem) -> None:
    if item.number < 1:
        raise InvalidParameter(f"Invalid number {item.number}: ACL item numbers start at 1")
    for value in (item.start_port, item.end_port):
        if value is not None and not MIN_PORT <= value <= MAX_PORT:
            raise InvalidParameter(f"Invalid port {value}: ports are 1 to 65535")
    if (
        item.start_port is not None
        and item.end_port is not None
        and item.start_port > item.end_port
    ):
        raise InvalidParameter("Start port can't be bigger than end port")
    ports = item.start_port is not None or item.end_port is not None
    if item.protocol == "all" and ports:
        raise InvalidParameter("start port and end port must be null if protocol = 'all'")
    if item.protocol == "icmp":
        if ports:
            raise InvalidParameter("Can't specify start/end port when protocol is ICMP")
        for what, value in (("type", item.icmp_type), ("code", item.icmp_code)):
            if value is not None and not -1 <= value <= 255:
                raise InvalidParameter(f"Invalid icmp {what}; should belong to [-1-255] range")
    elif item.icmp_type is not None or item.icmp_code is not None:
        raise InvalidParameter("Can specify icmpType and icmpCode for protocol icmp only")


# The default lists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefaultList:
    id: UUID
    name: str
    description: str
    items: tuple[AclItem, ...]


def _default(name: str, description: str, action: str) -> DefaultList:
    acl_id = uuid5(_NAMESPACE, name)
    items = tuple(
        AclItem(
            uuid5(_NAMESPACE, f"{name}:{number}"),
            acl_id,
            number,
            "all",
            traffic,
            action,
            state=AclState.ACTIVE,
        )
        for number, traffic in ((1, "Ingress"), (2, "Egress"))
    )
    return DefaultList(acl_id, name, description, items)


DEFAULT_DENY = _default("default_deny", "Default Network ACL Deny All", "Deny")
DEFAULT_ALLOW = _default("default_allow", "Default Network ACL Allow All", "Allow")
DEFAULT_LISTS = {d.id: d for d in (DEFAULT_DENY, DEFAULT_ALLOW)}


def is_default_list(acl_id: UUID) -> bool:
    return acl_id in DEFAULT_LISTS
