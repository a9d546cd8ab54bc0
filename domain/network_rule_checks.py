"""The rules a public address carries — port forwarding, firewall (ingress), load balancing,
static NAT and the IP forwarding rules on a static NAT address — and the egress firewall rules
of a network's guests, as values, and the checks CloudStack makes before it accepts one: ports
and ranges, protocols, CIDRs, ICMP type and code, and conflicts with the rules already on the
address (egress rules: on the network).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any
from uuid import UUID

from domain.errors import InvalidParameter, NetworkRuleConflict

MIN_PORT, MAX_PORT = 1, 65535
ANY_CIDR = "0.0.0.0/0"


class RuleKind:
    PORT_FORWARDING = "PortForwarding"
    FIREWALL = "Firewall"
    LOAD_BALANCING = "LoadBalancing"
    STATIC_NAT = "StaticNat"
    IP_FORWARDING = "IpForwarding"  # ports of a static NAT address forwarded to its VM
    EGRESS = "FirewallEgress"  # traffic the network's guests send out (no public address)


FIREWALLS = (RuleKind.FIREWALL, RuleKind.EGRESS)


class RuleState:
    ADD = "Add"  # recorded; the router has not confirmed a set holding it yet
    ACTIVE = "Active"
    REVOKE = "Revoke"  # deleted; the router has not confirmed a set without it yet


PROTOCOLS = {
    RuleKind.PORT_FORWARDING: ("tcp", "udp"),
    RuleKind.FIREWALL: ("tcp", "udp", "icmp"),
    RuleKind.LOAD_BALANCING: ("tcp", "udp", "tcp-proxy", "ssl"),
    RuleKind.STATIC_NAT: ("all",),
    RuleKind.IP_FORWARDING: ("tcp", "udp"),
    RuleKind.EGRESS: ("tcp", "udp", "icmp", "all"),
}
ALGORITHMS = ("roundrobin", "leastconn", "source")


@dataclass(frozen=True)
class Member:
    """A VM behind a load balancer rule, by its address on the rule's network."""

    vm_id: UUID
    vm_ip: str
    state: str = RuleState.ADD


@dataclass(frozen=True)
class StickinessPolicy:
    """How a load balancer keeps a client on one VM (LbCookie, AppCookie, SourceBased) and
    the method's parameters, in the order given."""

    id: UUID
    name: str
    method: str
    params: tuple[tuple[str, str], ...] = ()
    description: str = ""
    state: str = RuleState.ADD

    @classmethod
    def from_facts(cls, facts: dict[str, Any]) -> StickinessPolicy:
        values = dict(facts)
        values["params"] = tuple((str(k), str(v)) for k, v in values.get("params", ()))
        return cls(**values)


@dataclass(frozen=True)
class Rule:
    """One rule on one public address of a network (an egress rule has none: `public_ip_id`
    None, `address` empty). Ports are the public ones (egress: the destination's); `private_*`
    the VM's (port forwarding, load balancing). `vm_id`/`vm_ip`: the VM a port forwarding or
    static NAT rule sends to; `members`: the VMs a load balancer shares among."""

    id: UUID
    kind: str
    public_ip_id: UUID | None
    address: str
    account_id: UUID
    domain_id: UUID
    zone_id: UUID
    protocol: str
    start_port: int | None = None
    end_port: int | None = None
    private_start: int | None = None
    private_end: int | None = None
    vm_id: UUID | None = None
    vm_ip: str | None = None
    cidrs: tuple[str, ...] = ()
    icmp_type: int | None = None
    icmp_code: int | None = None
    name: str = ""
    algorithm: str = ""
    members: tuple[Member, ...] = ()
    related: UUID | None = None  # the rule a firewall rule was opened for (it goes with it)
    state: str = RuleState.ADD
    description: str = ""
    stickiness: tuple[StickinessPolicy, ...] = ()  # a load balancer's (at most one live)
    cert_id: UUID | None = None  # the SSL certificate an ssl load balancer terminates with
    cert_state: str = ""  # Add, Active or Revoke while `cert_id` is set
    network_id: UUID | None = None  # a VPC's rule: the tier its address serves

    def facts(self) -> dict[str, Any]:
        facts = asdict(self)
        facts["members"] = tuple(asdict(m) for m in self.members)
        facts["stickiness"] = tuple(asdict(p) for p in self.stickiness)
        return facts

    @classmethod
    def from_facts(cls, facts: dict[str, Any]) -> Rule:
        values = dict(facts)
        values["cidrs"] = tuple(values.get("cidrs", ()))
        values["members"] = tuple(Member(**m) for m in values.get("members", ()))
        values["stickiness"] = tuple(
            StickinessPolicy.from_facts(p) for p in values.get("stickiness", ())
        )
        return cls(**values)

    @property
    def ports(self) -> tuple[int, int]:
        """The public ports it takes; a rule naming none takes them all."""
        if self.start_port is None:
            return MIN_PORT, MAX_PORT
        return self.start_port, self.end_port or self.start_port

    @property
    def live(self) -> bool:
        return self.state != RuleState.REVOKE

    @property
    def live_cert(self) -> UUID | None:
        """The certificate the router is to terminate with (None when none or going)."""
        return self.cert_id if self.cert_state != RuleState.REVOKE else None

    def with_state(self, state: str) -> Rule:
        return replace(self, state=state)

    def applied_view(self) -> dict[str, Any]:
        """What the router is given: no owner, only members that are not being removed."""
        view = self.facts()
        for key in ("account_id", "domain_id", "zone_id", "state", "description", "cert_state"):
            view.pop(key)
        if view["network_id"] is None:  # a network's own set: every rule is the network's
            view.pop("network_id")
        view["members"] = tuple(
            {"vm_id": str(m.vm_id), "vm_ip": m.vm_ip}
            for m in self.members
            if m.state != RuleState.REVOKE
        )
        view["stickiness"] = tuple(
            {"name": p.name, "method": p.method, "params": dict(p.params)}
            for p in self.stickiness
            if p.state != RuleState.REVOKE
        )
        view["cert_id"] = str(self.cert_id) if self.live_cert else None
        return {
            key: str(value) if isinstance(value, UUID) else value for key, value in view.items()
        }


# Values ---------------------------------------------------------------------------------


def port(value: int | None, what: str) -> int:
    if value is None or not MIN_PORT <= value <= MAX_PORT:
        raise InvalidParameter(f"{what} is an invalid value: {value}; ports are 1 to 65535")
    return value


def port_range(start: int | None, end: int | None, what: str) -> tuple[int, int]:
    """A range of ports; the end defaults to the start."""
    first = port(start, f"{what}startport" if what else "startport")
    last = first if end is None else port(end, f"{what}endport" if what else "endport")
    if first > last:
        raise InvalidParameter(f"Start port can't be bigger than end port: {first}-{last}")
    return first, last


def protocol(kind: str, text: str | None, default: str = "tcp") -> str:
    chosen = (text or default).strip().lower()
    if chosen not in PROTOCOLS[kind]:
        allowed = ", ".join(PROTOCOLS[kind])
        raise InvalidParameter(f"Invalid protocol {text}: use one of {allowed}")
    return chosen


def cidr_list(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """Source CIDRs (comma-separated text or a list); none given means every source."""
    items = text.split(",") if isinstance(text, str) else list(text or ())
    found = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            network = ipaddress.IPv4Network(item, strict=False)
        except ValueError:
            raise InvalidParameter(f"Source cidrs formatting error {item}") from None
        found.append(str(network))
    return tuple(dict.fromkeys(found)) or (ANY_CIDR,)


def icmp_values(chosen: str, icmp_type: int | None, icmp_code: int | None) -> tuple[int, int]:
    if chosen != "icmp":
        if icmp_type is not None or icmp_code is not None:
            raise InvalidParameter("Can specify icmpCode and icmpType for ICMP protocol only")
        return -1, -1
    kind = -1 if icmp_type is None else icmp_type
    code = -1 if icmp_code is None else icmp_code
    if not -1 <= kind <= 255:
        raise InvalidParameter(f"Invalid icmp type {kind}: use -1 (any) to 255")
    if not -1 <= code <= 255:
        raise InvalidParameter(f"Invalid icmp code {code}: use -1 (any) to 255")
    return kind, code


def algorithm(text: str | None) -> str:
    chosen = (text or "").strip().lower()
    if chosen not in ALGORITHMS:
        raise InvalidParameter(f"Invalid algorithm {text}: use one of {', '.join(ALGORITHMS)}")
    return chosen


# Conflicts ------------------------------------------------------------------------------


def _overlap(one: tuple[int, int], other: tuple[int, int]) -> bool:
    return one[0] <= other[1] and other[0] <= one[1]


def check_conflicts(new: Rule, existing: Iterable[Rule]) -> None:
    """Refuse `new` when a live rule of the same address stands in its way (CloudStack's
    rules: static NAT excludes port forwarding and load balancing on the address; firewall
    rules are weighed only against firewall rules; port forwarding rules, and IP forwarding
    rules, may share ports when their protocols differ)."""
    for old in existing:
        if old.public_ip_id != new.public_ip_id or not old.live or old.id == new.id:
            continue
        _refuse_nat_mix(new, old)
        if (old.kind in FIREWALLS or new.kind in FIREWALLS) and old.kind != new.kind:
            continue  # firewall rules are weighed only against their own direction
        if RuleKind.STATIC_NAT in (old.kind, new.kind):
            continue
        if new.kind in FIREWALLS:
            _refuse_firewall_clash(new, old)
        elif _overlap(new.ports, old.ports):
            same = new.kind == old.kind
            by_protocol = (RuleKind.PORT_FORWARDING, RuleKind.IP_FORWARDING)
            if not (same and new.kind in by_protocol and new.protocol != old.protocol):
                raise NetworkRuleConflict(
                    f"The range specified, {new.ports[0]}-{new.ports[1]}, conflicts with rule "
                    f"{old.id} which has {old.ports[0]}-{old.ports[1]}"
                )


def _refuse_nat_mix(new: Rule, old: Rule) -> None:
    forwarding = (RuleKind.PORT_FORWARDING, RuleKind.LOAD_BALANCING)
    if old.kind == RuleKind.STATIC_NAT and new.kind in forwarding:
        raise NetworkRuleConflict(
            f"There is 1 to 1 Nat rule specified for the ip address id={new.public_ip_id}"
        )
    if new.kind == RuleKind.STATIC_NAT and old.kind in forwarding:
        raise NetworkRuleConflict(
            f"There is already firewall rule specified for the ip address id={new.public_ip_id}"
        )
    if new.kind == old.kind == RuleKind.STATIC_NAT:
        raise NetworkRuleConflict(
            f"Static nat is already enabled for ip address {new.address} (vm id={old.vm_id})"
        )


def _refuse_firewall_clash(new: Rule, old: Rule) -> None:
    if new.protocol != old.protocol or not set(new.cidrs) & set(old.cidrs):
        return
    if new.protocol in ("icmp", "all"):
        if (new.icmp_type, new.icmp_code) == (old.icmp_type, old.icmp_code):
            raise InvalidParameter(f"New rule conflicts with existing rule id={old.id}")
        return
    if _overlap(new.ports, old.ports):
        raise NetworkRuleConflict(
            f"The range specified, {new.ports[0]}-{new.ports[1]}, conflicts with rule "
            f"{old.id} which has {old.ports[0]}-{old.ports[1]}"
        )
