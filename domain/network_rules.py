"""NetworkRules: every rule on the public addresses of one isolated network (or of one VPC,
whose router holds the rules of all its tiers as one set), and their application to the
network's (the VPC's) virtual router.

One aggregate per network (its id derives from the network's), because the router applies a
network's rules as one set. A change is checked against every rule of the network and recorded
with the full set to apply in the same save, so two rules wanting one port cannot both pass
(they write the same aggregate version; the store lets one through and the other is checked
again), and no apply request carries a set that misses a rule recorded before it. Each request
has a generation; a router keeps the newest set it was given, so requests answered out of order
never bring an older set back.

A rule is `Add` until the router confirms a set holding it, then `Active`; deleting makes it
`Revoke` until the router confirms a set without it, then it is gone. A failed apply removes the
rules it was adding (their ports are free again) and puts back those it was revoking. Load
balancer members follow the same states inside their rule.

A VPC tier's internal load balancers (scheme Internal) live in a set of their own per source
address (`internal_rule_set_id`), applied by the internal load balancer VM of that address:
while the VM is still starting, a change waits in the set (`defer_apply`) and is sent when it
runs (`send_waiting`); when nothing is left to apply, the change settles at once.

The set also holds the network's egress firewall rules and, once one was made, the egress
policy of the network's offering (CloudStack's system egress rule): with a default of deny the
egress rules are what the guests may send, with a default of allow what they may not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, NotFound
from domain.network_rule_checks import (
    MAX_PORT,
    Member,
    Rule,
    RuleKind,
    RuleState,
    StickinessPolicy,
    check_conflicts,
)
from domain.values import Secret
from domain.vm import HostAccess

T = TypeVar("T", Member, StickinessPolicy)
_NAMESPACE = UUID("3e8b6c1f-2d47-4a95-8f0e-71c5a9d2b463")
KIND_NAMES = {
    RuleKind.PORT_FORWARDING: "port forwarding rule",
    RuleKind.FIREWALL: "firewall rule",
    RuleKind.LOAD_BALANCING: "load balancer rule",
    RuleKind.STATIC_NAT: "static nat rule",
    RuleKind.IP_FORWARDING: "ip forwarding rule",
    RuleKind.EGRESS: "egress firewall rule",
}
EGRESS_DEFAULT = "EgressDefault"  # the entry of an applied set that carries the egress policy


def rule_set_id(network_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"rules:{network_id}")


def internal_rule_set_id(network_id: UUID, source_ip: str) -> UUID:
    """The set of a tier's internal load balancers on one source address."""
    return uuid5(_NAMESPACE, f"internal-lb:{network_id}:{source_ip}")


def static_nat_rule_id(public_ip_id: UUID) -> UUID:
    """An address has at most one static NAT: its rule's id derives from the address."""
    return uuid5(_NAMESPACE, f"static-nat:{public_ip_id}")


@dataclass(frozen=True)
class ApplyTarget:
    """The router that applies the set, and how to reach its host."""

    router_id: UUID
    instance_name: str
    access: HostAccess
    # The kinds of rule this applier holds (empty: every kind), when external devices hold the
    # others; and for a device, what it needs to know of the network (its CIDR, VLAN, source
    # NAT address).
    kinds: tuple[str, ...] = ()
    device: dict[str, Any] | None = None
    # A router's load balancer limits from the network's offering (max_connections,
    # keep_alive); None: haproxy's defaults.
    balancer: dict[str, Any] | None = None

    def request(
        self,
        request_id: str,
        job_id: UUID | None,
        generation: int,
        changes: tuple[tuple[str, ...], tuple[str, ...]],
        result: dict[str, Any],
    ) -> dict[str, Any]:
        """The facts of a request that this router hold a whole set (the set itself aside):
        who and where, its generation, the keys it adds and revokes, what its job returns."""
        access = self.access
        return {
            "request_id": request_id,
            "job_id": job_id,
            "generation": generation,
            "router_id": self.router_id,
            "host_id": access.host_id,
            "url": access.url,
            "username": access.username,
            "password": access.password,
            "hypervisor": access.hypervisor,
            "instance_name": self.instance_name,
            "adds": tuple(changes[0]),
            "revokes": tuple(changes[1]),
            "result": dict(result),
            **({"device": dict(self.device)} if self.device is not None else {}),
            **({"balancer": dict(self.balancer)} if self.balancer is not None else {}),
        }


@dataclass(frozen=True)
class Pending:
    """An apply request in flight: its job, what it adds and revokes, what the job returns."""

    job_id: UUID | None
    adds: tuple[str, ...]
    revokes: tuple[str, ...]
    result: dict[str, Any]


def member_key(rule_id: UUID, vm_id: UUID, vm_ip: str = "") -> str:
    """A member's key in an apply request: `<rule>/<vm>@<address>` (a VM may sit behind one
    rule by several of its addresses); requests recorded before carry `<rule>/<vm>`, which
    settles every place of the VM."""
    return f"{rule_id}/{vm_id}@{vm_ip}" if vm_ip else f"{rule_id}/{vm_id}"


MemberTarget = UUID | tuple[UUID, str]  # a VM (all its places) or a VM by one address


CHANGED = "changed"  # the key of a rule's change in an apply request: `<rule id>/changed`
STICKY = "sticky:"  # a stickiness policy's key: `<rule id>/sticky:<policy id>`
CERT = "cert"  # a load balancer's certificate binding: `<rule id>/cert`
SSL = "ssl"


@dataclass(frozen=True)
class Certificate:
    """What an ssl load balancer terminates with: the certificate, its chain and its key."""

    id: UUID
    certificate: str
    chain: str
    private_key: Secret


def _settled(items: tuple[T, ...], matches: Any, expected: str, activate: bool) -> tuple[T, ...]:
    """Members or policies once the router answered: the matching one in state `expected`
    becomes active, or goes."""
    kept = []
    for item in items:
        if matches(item) and item.state == expected:
            if not activate:
                continue
            item = replace(item, state=RuleState.ACTIVE)
        kept.append(item)
    return tuple(kept)


class NetworkRules(Aggregate):
    """The rule set of one network's public addresses."""

    @staticmethod
    def create_id(
        network_id: UUID, zone_id: UUID, account_id: UUID, domain_id: UUID, source_ip: str = ""
    ) -> UUID:
        if source_ip:
            return internal_rule_set_id(network_id, source_ip)
        return rule_set_id(network_id)

    @event("Opened")
    def __init__(
        self,
        network_id: UUID,
        zone_id: UUID,
        account_id: UUID,
        domain_id: UUID,
        source_ip: str = "",  # an internal load balancer's address; '' for public rules
    ) -> None:
        self.source_ip = source_ip
        self.network_id, self.zone_id = network_id, zone_id
        self.account_id, self.domain_id = account_id, domain_id
        self.rules: dict[UUID, Rule] = {}
        self.pending: dict[str, Pending] = {}
        self.generation = 0
        self.egress_allow: bool | None = None  # the offering's egress default, once chosen

    # Reading ------------------------------------------------------------------------------

    def rule(self, rule_id: UUID, kind: str) -> Rule:
        found = self.rules.get(rule_id)
        if found is None or found.kind != kind:
            raise NotFound(f"Unable to find {KIND_NAMES[kind]} with id {rule_id}")
        return found

    def count_on(self, public_ip_id: UUID) -> int:
        """Rules in any state on the address (it cannot be released while any remain)."""
        return sum(1 for r in self.rules.values() if r.public_ip_id == public_ip_id)

    def applied_set(self, kinds: tuple[str, ...] = ()) -> tuple[dict[str, Any], ...]:
        """What the router (or a device) is to hold: every rule that is not being revoked, of
        `kinds` when given, in a fixed order, then the egress policy when the network has one
        (and egress rules are among the kinds)."""
        live = sorted(
            (r for r in self.rules.values() if r.live and (not kinds or r.kind in kinds)),
            key=lambda r: (r.address, r.kind, r.ports, str(r.id)),
        )
        policy = self.egress_allow
        if kinds and RuleKind.EGRESS not in kinds:
            policy = None
        default = () if policy is None else ({"kind": EGRESS_DEFAULT, "allow": policy},)
        return (*(r.applied_view() for r in live), *default)

    def choose_egress_policy(self, allow: bool) -> None:
        """The egress default the network's offering sets (allow, or deny), recorded when it
        differs from the one the set holds."""
        if self.egress_allow != allow:
            self._egress_policy_chosen(allow=allow)

    @event("EgressPolicyChosen")
    def _egress_policy_chosen(self, allow: bool) -> None:
        self.egress_allow = allow

    # Changes ------------------------------------------------------------------------------

    def add(self, rule: Rule) -> str:
        """Record a new rule (state Add); refused when it conflicts with a rule of its address."""
        earlier = self.rules.get(rule.id)
        if earlier is not None:
            raise InvalidState(
                f"The {KIND_NAMES[earlier.kind]} {rule.id} is still being removed; try again "
                "when that is done"
            )
        if rule.kind == RuleKind.IP_FORWARDING:
            rule = self._on_static_nat(rule)
        check_conflicts(rule, self.rules.values())
        if rule.kind == RuleKind.STATIC_NAT:
            for other in self.rules.values():
                if other.kind == RuleKind.STATIC_NAT and other.live and other.vm_id == rule.vm_id:
                    raise InvalidParameter(
                        f"Virtual machine {rule.vm_id} already has static nat on ip address "
                        f"{other.address}"
                    )
        self._rule_added(
            network_id=rule.network_id or self.network_id,
            rule=rule.with_state(RuleState.ADD).facts(),
        )
        return str(rule.id)

    def _on_static_nat(self, rule: Rule) -> Rule:
        """An IP forwarding rule forwards its ports, unchanged, to the VM the address's static
        NAT sends to; it goes with the static NAT (disabling it revokes the rule)."""
        nat = None
        if rule.public_ip_id is not None:
            nat = self.rules.get(static_nat_rule_id(rule.public_ip_id))
        if nat is None or nat.kind != RuleKind.STATIC_NAT or not nat.live:
            raise InvalidParameter(f"Static nat is not enabled for ip address {rule.address}")
        return replace(
            rule,
            vm_id=nat.vm_id,
            vm_ip=nat.vm_ip,
            private_start=rule.start_port,
            private_end=rule.end_port,
            related=nat.id,
        )

    @event("RuleAdded")
    def _rule_added(self, network_id: UUID, rule: dict[str, Any]) -> None:
        added = Rule.from_facts(rule)
        self.rules[added.id] = added

    def revoke(self, rule_id: UUID, kind: str) -> list[str]:
        """Start deleting an active rule and the active rules that go with it (firewall rules
        opened for it, a static NAT's IP forwarding rules); each is gone once the router
        confirms."""
        rule = self.rule(rule_id, kind)
        if rule.state == RuleState.ADD:
            raise InvalidState(
                f"The {KIND_NAMES[kind]} {rule_id} is still being applied; try again when that "
                "is done"
            )
        if rule.state == RuleState.REVOKE:
            raise InvalidState(f"The {KIND_NAMES[kind]} {rule_id} is already being deleted")
        self._revoke_requested(rule_id=rule_id)
        keys, parents = [str(rule_id)], [rule_id]
        while parents:  # what was opened for the rule, and in turn for those
            parent = parents.pop()
            for opened in list(self.rules.values()):
                if opened.related == parent and opened.state == RuleState.ACTIVE:
                    self._revoke_requested(rule_id=opened.id)
                    keys.append(str(opened.id))
                    parents.append(opened.id)
        return keys

    def change_forwarding(
        self, rule_id: UUID, private_start: int, vm_id: UUID, vm_ip: str
    ) -> list[str]:
        """Send an active port forwarding rule to another private port (its range keeps its
        size) or VM. The rule shows the new values at once; a failed apply puts the old ones
        back."""
        rule = self.rule(rule_id, RuleKind.PORT_FORWARDING)
        if rule.state != RuleState.ACTIVE or rule_id in self._changing:
            raise InvalidState(
                f"The port forwarding rule {rule_id} is being applied, changed or deleted; try "
                "again when that is done"
            )
        size = (rule.private_end or private_start) - (rule.private_start or private_start)
        if private_start + size > MAX_PORT:
            raise InvalidParameter(
                f"privateport is an invalid value: {private_start}; the rule's range would end "
                f"past {MAX_PORT}"
            )
        changed = replace(
            rule,
            private_start=private_start,
            private_end=private_start + size,
            vm_id=vm_id,
            vm_ip=vm_ip,
        )
        self._rule_changed(rule_id=rule_id, rule=changed.facts(), previous=rule.facts())
        return [f"{rule_id}/{CHANGED}"]

    def change_balancer(
        self, rule_id: UUID, name: str | None, description: str | None, algorithm: str | None
    ) -> list[str]:
        """Rename a load balancer, describe it, or give it another algorithm; a failed apply
        puts the old values back, as 4.3 does."""
        rule = self._balancer(rule_id)
        if rule.state != RuleState.ACTIVE or rule_id in self._changing:
            raise InvalidState(
                f"The load balancer rule {rule_id} is being applied, changed or deleted; try "
                "again when that is done"
            )
        changed = replace(
            rule,
            name=rule.name if name is None else name,
            description=rule.description if description is None else description,
            algorithm=rule.algorithm if algorithm is None else algorithm,
        )
        self._rule_changed(rule_id=rule_id, rule=changed.facts(), previous=rule.facts())
        return [f"{rule_id}/{CHANGED}"]

    @property
    def _changing(self) -> dict[UUID, Rule]:
        """Rules whose change the router has not confirmed yet, with their earlier values."""
        if not hasattr(self, "changes_pending"):
            self.changes_pending: dict[UUID, Rule] = {}
        return self.changes_pending

    @event("RuleChanged")
    def _rule_changed(self, rule_id: UUID, rule: dict[str, Any], previous: dict[str, Any]) -> None:
        self.rules[rule_id] = Rule.from_facts(rule)
        self._changing[rule_id] = Rule.from_facts(previous)

    def _settle_change(self, rule: Rule, keep: bool) -> None:
        previous = self._changing.get(rule.id)
        if previous is None:
            return
        # A rule deleted meanwhile stays deleted: only its values go back.
        values = rule
        if not keep:
            values = replace(
                previous,
                state=rule.state,
                members=rule.members,
                stickiness=rule.stickiness,
                cert_id=rule.cert_id,
                cert_state=rule.cert_state,
            )
        self._change_settled(rule_id=rule.id, rule=values.facts())

    @event("ChangeSettled")
    def _change_settled(self, rule_id: UUID, rule: dict[str, Any]) -> None:
        self._changing.pop(rule_id, None)
        self.rules[rule_id] = Rule.from_facts(rule)

    @event("RevokeRequested")
    def _revoke_requested(self, rule_id: UUID) -> None:
        self.rules[rule_id] = self.rules[rule_id].with_state(RuleState.REVOKE)

    def assign(self, rule_id: UUID, members: list[Member]) -> list[str]:
        """Put VMs behind a load balancer rule (each in state Add), each by one of its
        addresses on the network: a VM may be there by several."""
        rule = self._balancer(rule_id)
        present = {(m.vm_id, m.vm_ip) for m in rule.members}
        added = []
        for member in members:
            if (member.vm_id, member.vm_ip) in present:
                raise InvalidParameter(
                    f"VM {member.vm_id} is already assigned to load balancer rule {rule.name}"
                    f" with ip {member.vm_ip}"
                )
            present.add((member.vm_id, member.vm_ip))
            added.append(replace(member, state=RuleState.ADD))
        self._set_members(rule, (*rule.members, *added))
        return [member_key(rule_id, m.vm_id, m.vm_ip) for m in added]

    def unassign(self, rule_id: UUID, targets: list[MemberTarget]) -> list[str]:
        """Take active VMs from behind a load balancer rule (each in state Revoke): a VM
        named alone leaves by all its addresses, a VM with an address by that one."""
        rule = self._balancer(rule_id)
        gone: list[Member] = []
        for target in targets:
            vm_id, vm_ip = target if isinstance(target, tuple) else (target, "")
            found = [
                m
                for m in rule.members
                if m.vm_id == vm_id and (not vm_ip or m.vm_ip == vm_ip) and m not in gone
            ]
            if not found or any(m.state != RuleState.ACTIVE for m in found):
                shown = f"VM {vm_id}" + (f" with ip {vm_ip}" if vm_ip else "")
                raise InvalidParameter(f"{shown} is not assigned to load balancer rule {rule.name}")
            gone += found
        members = tuple(
            replace(m, state=RuleState.REVOKE) if m in gone else m for m in rule.members
        )
        self._set_members(rule, members)
        return [member_key(rule_id, m.vm_id, m.vm_ip) for m in gone]

    def _balancer(self, rule_id: UUID) -> Rule:
        rule = self.rule(rule_id, RuleKind.LOAD_BALANCING)
        if rule.state == RuleState.REVOKE:
            raise InvalidState(f"Load balancer rule {rule.name} is being deleted")
        return rule

    def _set_members(self, rule: Rule, members: tuple[Member, ...]) -> None:
        self._members_changed(rule_id=rule.id, members=tuple(asdict(m) for m in members))

    @event("MembersChanged")
    def _members_changed(self, rule_id: UUID, members: tuple[dict[str, Any], ...]) -> None:
        rule = self.rules[rule_id]
        self.rules[rule_id] = replace(rule, members=tuple(Member(**m) for m in members))

    # Stickiness and certificates ------------------------------------------------------------

    def add_stickiness(self, rule_id: UUID, policy: StickinessPolicy) -> list[str]:
        """Give a load balancer its stickiness policy (4.3 allows one per rule)."""
        rule = self._balancer(rule_id)
        live = [p for p in rule.stickiness if p.state != RuleState.REVOKE]
        if live:
            raise InvalidParameter(
                f"Failed to create Stickiness policy: Already policy attached {len(live)}"
            )
        policies = (*rule.stickiness, replace(policy, state=RuleState.ADD))
        self._set_stickiness(rule, policies)
        return [f"{rule_id}/{STICKY}{policy.id}"]

    def policy_rule(self, policy_id: UUID) -> Rule:
        """The load balancer holding the stickiness policy."""
        for rule in self.rules.values():
            if any(p.id == policy_id for p in rule.stickiness):
                return rule
        raise NotFound(f"Invalid Stickiness policy id value: {policy_id}")

    def remove_stickiness(self, policy_id: UUID) -> list[str]:
        rule = self.policy_rule(policy_id)
        policy = next(p for p in rule.stickiness if p.id == policy_id)
        if policy.state != RuleState.ACTIVE:
            raise InvalidState(
                f"The stickiness policy {policy_id} is being applied or deleted; try again "
                "when that is done"
            )
        policies = tuple(
            replace(p, state=RuleState.REVOKE) if p.id == policy_id else p for p in rule.stickiness
        )
        self._set_stickiness(rule, policies)
        return [f"{rule.id}/{STICKY}{policy_id}"]

    def _set_stickiness(self, rule: Rule, policies: tuple[StickinessPolicy, ...]) -> None:
        self._stickiness_changed(rule_id=rule.id, policies=tuple(asdict(p) for p in policies))

    @event("StickinessChanged")
    def _stickiness_changed(self, rule_id: UUID, policies: tuple[dict[str, Any], ...]) -> None:
        rule = self.rules[rule_id]
        stickiness = tuple(StickinessPolicy.from_facts(p) for p in policies)
        self.rules[rule_id] = replace(rule, stickiness=stickiness)

    @property
    def certificates(self) -> dict[UUID, Certificate]:
        """The certificates bound to this network's load balancers, with their keys."""
        if not hasattr(self, "bound_certificates"):
            self.bound_certificates: dict[UUID, Certificate] = {}
        return self.bound_certificates

    def assign_cert(self, rule_id: UUID, certificate: Certificate) -> list[str]:
        """Bind a certificate to an ssl load balancer (one per rule, as 4.3)."""
        rule = self._balancer(rule_id)
        if rule.cert_id is not None:
            raise InvalidParameter("Another certificate is already bound to the LB")
        if rule.protocol != SSL:
            raise InvalidParameter(f"Bad LB protocol: Expected ssl got {rule.protocol}")
        self._cert_assigned(
            rule_id=rule_id,
            cert_id=certificate.id,
            certificate=certificate.certificate,
            chain=certificate.chain,
            private_key=certificate.private_key,
        )
        return [f"{rule_id}/{CERT}"]

    @event("CertAssigned")
    def _cert_assigned(
        self, rule_id: UUID, cert_id: UUID, certificate: str, chain: str, private_key: Secret
    ) -> None:
        self.rules[rule_id] = replace(self.rules[rule_id], cert_id=cert_id, cert_state="Add")
        self.certificates[cert_id] = Certificate(cert_id, certificate, chain, private_key)

    def remove_cert(self, rule_id: UUID) -> list[str]:
        rule = self._balancer(rule_id)
        if rule.cert_id is None:
            raise InvalidParameter(f"No certificate is bound to the load balancer {rule_id}")
        if rule.cert_state != RuleState.ACTIVE:
            raise InvalidState(
                f"The certificate of load balancer {rule_id} is being bound or removed; try "
                "again when that is done"
            )
        self._cert_state_set(rule_id=rule_id, state=RuleState.REVOKE)
        return [f"{rule_id}/{CERT}"]

    @event("CertStateSet")
    def _cert_state_set(self, rule_id: UUID, state: str) -> None:
        rule = self.rules[rule_id]
        if state:
            self.rules[rule_id] = replace(rule, cert_state=state)
            return
        self.rules[rule_id] = replace(rule, cert_id=None, cert_state="")
        self._forget_unbound()

    def _forget_unbound(self) -> None:
        used = {r.cert_id for r in self.rules.values()}
        for cert_id in [c for c in self.certificates if c not in used]:
            del self.certificates[cert_id]

    def bindings(self) -> set[tuple[UUID, UUID]]:
        """(rule, certificate) pairs bound in any state."""
        return {(r.id, r.cert_id) for r in self.rules.values() if r.cert_id is not None}

    def _settle_policy(self, rule: Rule, policy_id: UUID, expected: str, activate: bool) -> None:
        policies = _settled(rule.stickiness, lambda p: p.id == policy_id, expected, activate)
        if policies != rule.stickiness:
            self._set_stickiness(rule, policies)

    def _settle_cert(self, rule: Rule, expected: str, activate: bool) -> None:
        if rule.cert_id is None or rule.cert_state != expected:
            return
        self._cert_state_set(rule_id=rule.id, state=RuleState.ACTIVE if activate else "")

    # Applying -----------------------------------------------------------------------------

    def request_apply(
        self,
        request_id: str,
        job_id: UUID | None,
        target: ApplyTarget,
        changes: tuple[tuple[str, ...], tuple[str, ...]],
        result: dict[str, Any],
    ) -> None:
        """Ask the router to hold the whole set now; `changes` are the keys (rule ids, or
        rule/vm for members) this request adds and revokes."""
        facts = target.request(request_id, job_id, self.generation + 1, changes, result)
        self._apply_requested(
            **facts,
            rules=self.applied_set(target.kinds),
            certificates=self._live_certificates(target.kinds),
        )

    @event("ApplyRequested")
    def _apply_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        generation: int,
        router_id: UUID,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
        rules: tuple[dict[str, Any], ...],
        adds: tuple[str, ...],
        revokes: tuple[str, ...],
        result: dict[str, Any],
        certificates: tuple[dict[str, Any], ...] = (),
        device: dict[str, Any] | None = None,
        balancer: dict[str, Any] | None = None,
    ) -> None:
        self.generation = generation
        self.pending[request_id] = Pending(job_id, tuple(adds), tuple(revokes), dict(result))
        self.waiting.discard(request_id)

    def _live_certificates(self, kinds: tuple[str, ...] = ()) -> tuple[dict[str, Any], ...]:
        """The certificates the set's ssl load balancers terminate with, keys sealed at rest
        (none for an applier that holds no load balancer)."""
        if kinds and RuleKind.LOAD_BALANCING not in kinds:
            return ()
        wanted = sorted({str(r.live_cert) for r in self.rules.values() if r.live and r.live_cert})
        found = []
        for cert_id in wanted:
            cert = self.certificates[UUID(cert_id)]
            found.append(
                {
                    "id": cert_id,
                    "certificate": cert.certificate,
                    "chain": cert.chain,
                    "private_key": cert.private_key,
                }
            )
        return tuple(found)

    @property
    def waiting(self) -> set[str]:
        """Requests recorded but not sent: their appliance was not running yet."""
        if not hasattr(self, "waiting_requests"):
            self.waiting_requests: set[str] = set()
        return self.waiting_requests

    @property
    def internal_address(self) -> str:
        """The source address of an internal load balancers' set ('' for public rules)."""
        return str(getattr(self, "source_ip", ""))

    @property
    def has_live_rules(self) -> bool:
        return any(r.live for r in self.rules.values())

    def defer_apply(
        self,
        request_id: str,
        job_id: UUID | None,
        changes: tuple[tuple[str, ...], tuple[str, ...]],
        result: dict[str, Any],
    ) -> None:
        """Record a change whose appliance is not running yet: it is in flight like a sent
        request (it settles, fails or is given up the same way), sent by `send_waiting`."""
        self._apply_deferred(
            request_id=request_id,
            job_id=job_id,
            adds=tuple(changes[0]),
            revokes=tuple(changes[1]),
            result=dict(result),
        )

    @event("ApplyDeferred")
    def _apply_deferred(
        self,
        request_id: str,
        job_id: UUID | None,
        adds: tuple[str, ...],
        revokes: tuple[str, ...],
        result: dict[str, Any],
    ) -> None:
        self.pending[request_id] = Pending(job_id, tuple(adds), tuple(revokes), dict(result))
        self.waiting.add(request_id)

    def send_waiting(self, target: ApplyTarget) -> None:
        """The appliance runs now: each waiting change goes to it, with the whole set."""
        for request_id in sorted(self.waiting):
            pending = self.pending[request_id]
            changes = (pending.adds, pending.revokes)
            self.request_apply(request_id, pending.job_id, target, changes, pending.result)

    def settle_at_once(
        self, request_id: str, job_id: UUID | None, changes: tuple[tuple[str, ...], tuple[str, ...]]
    ) -> Pending | None:
        """Nothing is left for an appliance to hold (it goes): the change settles now."""
        self.defer_apply(request_id, job_id, changes, {"success": True})
        return self.applied(request_id)

    def applied(self, request_id: str) -> Pending | None:
        """The router holds the set of `request_id`: its adds are active, its revokes gone.
        None for a request that is not in flight (answered already, or never made)."""
        pending = self.pending.get(request_id)
        if pending is None:
            return None
        for key in pending.adds:
            self._settle(key, RuleState.ADD, activate=True, reason="")
        for key in pending.revokes:
            self._settle(key, RuleState.REVOKE, activate=False, reason="")
        self._apply_done(request_id=request_id, ok=True, reason="")
        return pending

    def apply_failed(self, request_id: str, reason: str) -> Pending | None:
        """The router could not apply the set: rules being added go (their ports are free),
        rules being revoked stay active."""
        pending = self.pending.get(request_id)
        if pending is None:
            return None
        for key in pending.adds:
            self._settle(key, RuleState.ADD, activate=False, reason=reason)
        for key in pending.revokes:
            self._settle(key, RuleState.REVOKE, activate=True, reason=reason)
        self._apply_done(request_id=request_id, ok=False, reason=reason)
        return pending

    @event("ApplyDone")
    def _apply_done(self, request_id: str, ok: bool, reason: str) -> None:
        self.pending.pop(request_id, None)
        self.waiting.discard(request_id)

    def _settle(self, key: str, expected: str, *, activate: bool, reason: str) -> None:
        rule_text, _, vm_text = key.partition("/")
        rule = self.rules.get(UUID(rule_text))
        if rule is None:
            return
        if vm_text == CHANGED:
            self._settle_change(rule, activate)
        elif vm_text.startswith(STICKY):
            self._settle_policy(rule, UUID(vm_text.removeprefix(STICKY)), expected, activate)
        elif vm_text == CERT:
            self._settle_cert(rule, expected, activate)
        elif vm_text:
            vm_id, _, vm_ip = vm_text.partition("@")
            self._settle_member(rule, UUID(vm_id), vm_ip, expected, activate)
        elif rule.state == expected and activate:
            self._rule_activated(rule_id=rule.id)
        elif rule.state == expected:
            self._remove(rule, reason)

    def _settle_member(
        self, rule: Rule, vm_id: UUID, vm_ip: str, expected: str, activate: bool
    ) -> None:
        def matches(m: Member) -> bool:
            return m.vm_id == vm_id and (not vm_ip or m.vm_ip == vm_ip)

        members = _settled(rule.members, matches, expected, activate)
        if members != rule.members:
            self._set_members(rule, members)

    @event("RuleActivated")
    def _rule_activated(self, rule_id: UUID) -> None:
        self.rules[rule_id] = self.rules[rule_id].with_state(RuleState.ACTIVE)

    def _remove(self, rule: Rule, reason: str) -> None:
        self._rule_removed(
            rule_id=rule.id,
            kind=rule.kind,
            public_ip_id=rule.public_ip_id,
            account_id=rule.account_id,
            zone_id=rule.zone_id,
            reason=reason,
        )

    @event("RuleRemoved")
    def _rule_removed(
        self,
        rule_id: UUID,
        kind: str,
        public_ip_id: UUID | None,
        account_id: UUID,
        zone_id: UUID,
        reason: str,
    ) -> None:
        self.rules.pop(rule_id, None)
        self._forget_unbound()

    def drop_vm(self, vm_id: UUID, reason: str) -> list[UUID]:
        """An expunged VM takes the rules that send traffic to it (port forwarding and static
        NAT, with the firewall rules opened for them) and its places behind load balancers, in
        whatever state; no router is asked. Returns the addresses whose rules changed."""
        gone = self._with_related({r.id for r in self.rules.values() if r.vm_id == vm_id})
        touched = {self.rules[rule_id].public_ip_id for rule_id in gone}
        for rule_id in sorted(gone, key=str):
            self._remove(self.rules[rule_id], reason)
        for rule in sorted(self.rules.values(), key=lambda r: str(r.id)):
            kept = tuple(m for m in rule.members if m.vm_id != vm_id)
            if kept != rule.members:
                self._set_members(rule, kept)
                touched.add(rule.public_ip_id)
        return sorted((a for a in touched if a is not None), key=str)

    def drop_address(self, public_ip_id: UUID, reason: str) -> bool:
        """A released address takes every rule on it (firewall, port forwarding, static NAT,
        load balancing, in whatever state) and the rules opened for them; no router is asked.
        Whether any went."""
        gone = self._with_related(
            {r.id for r in self.rules.values() if r.public_ip_id == public_ip_id}
        )
        for rule_id in sorted(gone, key=str):
            self._remove(self.rules[rule_id], reason)
        return bool(gone)

    def _with_related(self, rule_ids: set[UUID]) -> set[UUID]:
        """The rules, with those opened for them (a forwarding rule's firewall rule), and so on."""
        gone = set(rule_ids)
        while more := {r.id for r in self.rules.values() if r.related in gone} - gone:
            gone |= more
        return gone

    def drop_all(self, reason: str, tier: UUID | None = None) -> list[UUID]:
        """The network is deleted with its router: every rule goes, no router asked (`tier`:
        a VPC's tier is deleted, its rules go from the VPC's set). Returns the addresses that
        held rules."""
        gone = [r for r in self.rules.values() if tier is None or r.network_id == tier]
        addresses = sorted({r.public_ip_id for r in gone if r.public_ip_id is not None}, key=str)
        for rule in sorted(gone, key=lambda r: str(r.id)):
            self._remove(rule, reason)
        return addresses
