"""GlobalLoadBalancer: a name served by DNS (`gslbdomainname`) whose answers spread clients over
load balancer rules in different zones, by method (round robin, least connections, proximity),
weight and persistence; and the answers the service gives for the name.

The checks are 4.3's: the method, persistence and service type known; a valid domain name (held
unique by a `NameClaim`); member rules of the same account, one per zone, weights 1 to 100.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, NotFound

CLAIM_KIND = "gslb-domain-name"
METHODS = ("roundrobin", "leastconn", "proximity")
PERSISTENCE = ("sourceip",)
SERVICE_TYPES = ("tcp", "udp", "http")
MIN_WEIGHT, MAX_WEIGHT, DEFAULT_WEIGHT = 1, 100, 1
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def method(text: str | None) -> str:
    chosen = (text or "roundrobin").strip().lower()
    if chosen not in METHODS:
        raise InvalidParameter(f"Invalid Algorithm: {text}")
    return chosen


def persistence(text: str | None) -> str:
    chosen = (text or "sourceip").strip().lower()
    if chosen not in PERSISTENCE:
        raise InvalidParameter(f"Invalid persistence: {text}")
    return chosen


def service_type(text: str) -> str:
    chosen = text.strip().lower()
    if chosen not in SERVICE_TYPES:
        raise InvalidParameter(f"Invalid service type: {text}")
    return chosen


def domain_name(text: str) -> str:
    name = text.strip().rstrip(".").lower()
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise InvalidParameter(f"Invalid domain name : {text}")
    return name


def weight(value: int | None, rule_id: UUID) -> int:
    chosen = DEFAULT_WEIGHT if value is None else value
    if not MIN_WEIGHT <= chosen <= MAX_WEIGHT:
        raise InvalidParameter(f"Invalid weight {chosen} given for the LB rule id: {rule_id}")
    return chosen


@dataclass(frozen=True)
class GslbMember:
    """A load balancer rule behind the name: its zone and weight."""

    rule_id: UUID
    zone_id: UUID
    weight: int


class GlobalLoadBalancer(Aggregate):
    """A global load balancer rule of an account, in a region."""

    @event("Created")
    def __init__(
        self,
        name: str,
        description: str,
        region_id: int,
        gslb_domain: str,
        service: str,
        lb_method: str,
        sticky_method: str,
        account_id: UUID,
        domain_id: UUID,
    ) -> None:
        self.name, self.description, self.region_id = name, description, region_id
        self.gslb_domain, self.service = gslb_domain, service
        self.lb_method, self.sticky_method = lb_method, sticky_method
        self.account_id, self.domain_id = account_id, domain_id
        self.members: dict[UUID, GslbMember] = {}
        self.removed = False

    def check_live(self) -> None:
        if self.removed:
            raise NotFound(f"Invalid global load balancer rule id: {self.id}")

    def update(self, description: str | None, lb_method: str | None, sticky: str | None) -> None:
        self.check_live()
        self._updated(
            description=self.description if description is None else description,
            lb_method=self.lb_method if lb_method is None else lb_method,
            sticky_method=self.sticky_method if sticky is None else sticky,
        )

    @event("Updated")
    def _updated(self, description: str, lb_method: str, sticky_method: str) -> None:
        self.description, self.lb_method, self.sticky_method = description, lb_method, sticky_method

    def assign(
        self,
        members: Sequence[GslbMember],
        account_of: dict[UUID, UUID],
        gone: Iterable[UUID] = (),
    ) -> None:
        """Put load balancer rules of the same account behind the name, one per zone (members
        whose load balancer rule is `gone` are forgotten first: their zone is free)."""
        self.check_live()
        self.forget(gone)
        zones = {m.zone_id: m.rule_id for m in self.members.values()}
        for member in members:
            if account_of.get(member.rule_id) != self.account_id:
                raise InvalidParameter(
                    f"GSLB rule and load balancer rule {member.rule_id} does not belong to "
                    "same account"
                )
            if member.rule_id in self.members:
                raise InvalidParameter(
                    f"Load balancer rule {member.rule_id} is already assigned to global load "
                    f"balancer rule {self.name}"
                )
            if member.zone_id in zones:
                raise InvalidParameter("Each load balancer rule specified should be in unique zone")
            zones[member.zone_id] = member.rule_id
        self._assigned(
            members=tuple(
                {"rule_id": m.rule_id, "zone_id": m.zone_id, "weight": m.weight} for m in members
            )
        )

    @event("Assigned")
    def _assigned(self, members: tuple[dict[str, object], ...]) -> None:
        for facts in members:
            member = GslbMember(
                UUID(str(facts["rule_id"])), UUID(str(facts["zone_id"])), int(str(facts["weight"]))
            )
            self.members[member.rule_id] = member

    def unassign(self, rule_ids: Iterable[UUID]) -> None:
        self.check_live()
        gone = tuple(dict.fromkeys(rule_ids))
        for rule_id in gone:
            if rule_id not in self.members:
                raise InvalidParameter(
                    f"Load balancer rule {rule_id} is not assigned to global load balancer "
                    f"rule: {self.name}"
                )
        self._unassigned(rule_ids=gone)

    def forget(self, rule_ids: Iterable[UUID]) -> None:
        """Load balancer rules deleted (or going): they leave the name, as in 4.3 a deleted
        load balancer rule takes its places behind global ones with it."""
        gone = tuple(rule_id for rule_id in dict.fromkeys(rule_ids) if rule_id in self.members)
        if gone and not self.removed:
            self._unassigned(rule_ids=gone)

    @event("Unassigned")
    def _unassigned(self, rule_ids: tuple[UUID, ...]) -> None:
        for rule_id in rule_ids:
            self.members.pop(UUID(str(rule_id)), None)

    def delete(self) -> None:
        self.check_live()
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed = True
        self.members = {}


# The answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A member as DNS answers it: its rule's public address, zone, weight, connections."""

    address: str
    zone_id: str
    weight: int
    connections: int = 0


def _weighted_round_robin(sites: Sequence[Site], count: int) -> list[str]:
    """Smooth weighted round robin: over any run of sum(weights) answers each site is given
    its weight's share, interleaved rather than in bursts."""
    current = [0] * len(sites)
    total = sum(s.weight for s in sites)
    answers = []
    for _ in range(count):
        for index, site in enumerate(sites):
            current[index] += site.weight
        best = max(range(len(sites)), key=lambda i: (current[i], -i))
        current[best] -= total
        answers.append(sites[best].address)
    return answers


def _least_connections(sites: Sequence[Site], count: int) -> list[str]:
    """Each answer goes to the site with the fewest connections for its weight, and adds one."""
    held = [s.connections for s in sites]
    answers = []
    for _ in range(count):
        best = min(range(len(sites)), key=lambda i: (held[i] / sites[i].weight, i))
        held[best] += 1
        answers.append(sites[best].address)
    return answers


def answers(
    lb_method: str,
    sticky: str,
    sites: Sequence[Site],
    count: int,
    client: str = "",
    client_zone: str = "",
) -> list[str]:
    """The addresses the name resolves to for `count` successive queries. With persistence
    (`sourceip`) and a client address, every answer for that client is the same site, chosen
    by the client's address over the weights. Proximity answers the client's own zone's site
    when there is one, and otherwise spreads as round robin does."""
    live = sorted((s for s in sites if s.weight > 0), key=lambda s: (s.zone_id, s.address))
    if not live or count < 1:
        return []
    if lb_method == "proximity" and client_zone:
        near = [s for s in live if s.zone_id == client_zone]
        if near:
            return [near[0].address] * count
    if sticky == "sourceip" and client:
        slot = int(hashlib.sha256(client.encode()).hexdigest(), 16) % sum(s.weight for s in live)
        for site in live:
            if slot < site.weight:
                return [site.address] * count
            slot -= site.weight
    if lb_method == "leastconn":
        return _least_connections(live, count)
    return _weighted_round_robin(live, count)
