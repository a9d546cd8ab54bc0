"""SecurityGroup: an account's named set of ingress and egress rules, and the VMs in it.

A rule allows one protocol (tcp, udp, icmp or all) and port range (or ICMP type and code) from a
CIDR or from the members of another group; each CIDR and each group is a rule of its own, as in
CloudStack. A VM joins its groups when it is deployed and leaves them when it is expunged
(`Joined`/`Left`, the facts usage type 10 bills from); a group with members cannot be deleted.
`VmRules` is a VM's side: its groups and the rule sets sent to the host it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from ipaddress import ip_network
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, NetworkRuleConflict, ResourceInUse
from domain.values import Secret

DEFAULT_GROUP = "default"
PROTOCOLS = ("tcp", "udp", "icmp", "all")
INGRESS = "ingress"
EGRESS = "egress"
_NAMESPACE = UUID("5b7d0c1e-8a4f-4e21-b3c6-9f0e2d4a7c18")


def default_group_id(account_id: UUID) -> UUID:
    """An account's `default` group has an id derived from the account: made once, when needed."""
    return uuid5(_NAMESPACE, f"default:{account_id}")


def vm_rules_id(vm_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"vm:{vm_id}")


@dataclass(frozen=True)
class RuleSpec:
    """What an authorize asks for, before it is split into one rule per CIDR and per group."""

    protocol: str | None
    start_port: int | None = None
    end_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    cidrs: tuple[str, ...] = ()
    groups: tuple[tuple[str, str, str], ...] = ()  # (group id, group name, account name)


def _ports(spec: RuleSpec) -> tuple[int, int]:
    """(start, end) for tcp/udp, (type, code) for icmp, (0, 0) for all; CloudStack's checks."""
    protocol = (spec.protocol or "all").lower()
    if protocol == "icmp":
        kind, code = spec.icmp_type, spec.icmp_code
        if kind is None or code is None:
            raise InvalidParameter(
                f"Invalid ICMP type/code specified, icmpType = {kind}, icmpCode = {code}"
            )
        if kind == -1 and code != -1:
            raise InvalidParameter("Invalid icmp code")
        if kind != -1 and code == -1:
            raise InvalidParameter("Invalid icmp code: need non-negative icmp code ")
        if not (-1 <= kind <= 255 and -1 <= code <= 255):
            raise InvalidParameter("Invalid icmp type/code ")
        return kind, code
    if protocol == "all":
        if spec.start_port is not None or spec.end_port is not None:
            raise InvalidParameter(
                "Cannot specify startPort or endPort without specifying protocol"
            )
        return 0, 0
    start, end = spec.start_port, spec.end_port
    if start is None or end is None:
        raise InvalidParameter(
            f"Invalid port range specified, startPort = {start}, endPort = {end}"
        )
    if start == 0 and end == 0:
        end = 65535
    if start > end:
        raise InvalidParameter(f"Invalid port range {start}:{end}")
    if not (-1 <= start <= 65535 and -1 <= end <= 65535):
        raise InvalidParameter(f"Invalid port numbers {start}:{end}")
    if start < 0 or end < 0:
        raise InvalidParameter(f"Invalid port range {start}:{end}")
    return start, end


def _cidr(text: str) -> str:
    try:
        return str(ip_network(text.strip(), strict=False))
    except ValueError:
        raise InvalidParameter(f"Invalid cidr {text}") from None


def expand_rules(spec: RuleSpec) -> list[dict[str, Any]]:
    """The rules an authorize adds, validated: one per CIDR and one per allowed group."""
    protocol = (spec.protocol or "all").lower()
    if protocol not in PROTOCOLS:
        raise InvalidParameter(f"Invalid protocol {spec.protocol}")
    low, high = _ports(spec)
    if not spec.cidrs and not spec.groups:
        raise InvalidParameter(
            "At least one cidr or at least one security group needs to be specified"
        )
    base = {"protocol": protocol, "start": low, "end": high}
    rules: list[dict[str, Any]] = []
    for cidr in dict.fromkeys(_cidr(c) for c in spec.cidrs):
        rules.append({**base, "cidr": cidr, "group_id": None, "group": None, "account": None})
    for group_id, name, account in dict.fromkeys(spec.groups):
        rules.append(
            {**base, "cidr": None, "group_id": group_id, "group": name, "account": account}
        )
    return rules


def _same(rule: dict[str, Any], other: dict[str, Any]) -> bool:
    keys = ("protocol", "start", "end", "cidr", "group_id")
    return all(rule.get(k) == other.get(k) for k in keys)


class SecurityGroup(Aggregate):
    """A security group; its rules and its member VMs."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        name: str,
        description: str,
        owner_account_id: UUID,
        owner_domain_id: UUID,
    ) -> None:
        if not name:
            raise InvalidParameter("A security group needs a name")
        self.name, self.description = name, description
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self.rules: dict[str, dict[str, Any]] = {}  # rule id → rule (with "direction")
        self.members: dict[str, dict[str, Any]] = {}  # VM id → {name, zone_id}
        self.removed = False

    def _check_present(self) -> None:
        if self.removed:
            raise InvalidState(f"Security group {self.name} has been deleted")

    # Rules --------------------------------------------------------------------------------

    def authorize(self, direction: str, rule_ids: list[UUID], spec: RuleSpec) -> list[str]:
        """Add the rules `spec` asks for (ones already there are skipped); their ids."""
        self._check_present()
        wanted = expand_rules(spec)
        existing = [r for r in self.rules.values() if r["direction"] == direction]
        new = [r for r in wanted if not any(_same(r, old) for old in existing)]
        if not new:
            raise NetworkRuleConflict(
                f"Failed to authorize security group {direction} rule(s): they exist already"
            )
        added = {
            str(i): {**rule, "direction": direction} for i, rule in zip(rule_ids, new, strict=False)
        }
        self._authorized(rules=added)
        return list(added)

    @event("Authorized")
    def _authorized(self, rules: dict[str, dict[str, Any]]) -> None:
        self.rules = {**self.rules, **rules}

    def revoke(self, rule_id: str, direction: str) -> None:
        self._check_present()
        rule = self.rules.get(rule_id)
        if rule is None or rule["direction"] != direction:
            raise InvalidParameter(f"Unable to find {direction} rule with id {rule_id}")
        self._revoked(rule_id=rule_id, rule=dict(rule))

    @event("Revoked")
    def _revoked(self, rule_id: str, rule: dict[str, Any]) -> None:
        self.rules = {k: v for k, v in self.rules.items() if k != rule_id}

    # Members ------------------------------------------------------------------------------

    def join(self, vm_id: UUID, vm_name: str, zone_id: UUID) -> None:
        """A VM is deployed into this group."""
        self._check_present()
        if str(vm_id) not in self.members:
            self._joined(vm_id=vm_id, vm_name=vm_name, zone_id=zone_id)

    @event("Joined")
    def _joined(self, vm_id: UUID, vm_name: str, zone_id: UUID) -> None:
        self.members = {**self.members, str(vm_id): {"name": vm_name, "zone_id": str(zone_id)}}

    def leave(self, vm_id: UUID) -> None:
        """The VM is expunged (or its deploy did not happen)."""
        if str(vm_id) in self.members:
            self._left(vm_id=vm_id)

    @event("Left")
    def _left(self, vm_id: UUID) -> None:
        self.members = {k: v for k, v in self.members.items() if k != str(vm_id)}

    # Delete -------------------------------------------------------------------------------

    def delete(self, *, allowed_by_others: bool) -> None:
        self._check_present()
        if self.name == DEFAULT_GROUP:
            raise InvalidParameter("The network group default is reserved")
        if self.members:
            raise ResourceInUse("Cannot delete group when there are vms in it")
        if allowed_by_others:
            raise ResourceInUse(
                "Cannot delete group when there are security rules that allow this group"
            )
        self._deleted()

    def remove_with_owner(self) -> None:
        """Taken away because its account is removed: the default group too, as 4.3's account
        cleanup does; still refused while a VM is in it. Rules of other groups that name it
        then match nothing."""
        self._check_present()
        if self.members:
            raise ResourceInUse("Cannot delete group when there are vms in it")
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed = True


@dataclass(frozen=True)
class RulesTarget:
    """Where a VM's rule set goes: its host (how to reach it, the password sealed at rest)."""

    host_id: UUID
    url: str
    username: str
    password: Secret
    hypervisor: str
    instance_name: str

    def facts(self) -> dict[str, Any]:
        # Not `asdict`: it would turn the `Secret` into a plain dict, stored in clear.
        return {f.name: getattr(self, f.name) for f in fields(self)}


class VmRules(Aggregate):
    """A VM's security groups and the rule sets sent to its host; only the latest counts."""

    @event("Created")
    def __init__(self, vm_id: UUID, group_ids: list[UUID]) -> None:
        self.vm_id = vm_id
        self.group_ids = list(group_ids)
        self.request_id: str | None = None
        self.applied_host: UUID | None = None  # the host that confirmed the latest rule set
        self.requested_host: UUID | None = None
        self.failure: str | None = None

    @classmethod
    def create_id(cls, vm_id: UUID, group_ids: list[UUID]) -> UUID:
        return vm_rules_id(vm_id)

    def regroup(self, group_ids: list[UUID]) -> None:
        """The VM is in these groups from now on (assignVirtualMachine: its new account's); the
        rule set goes to its host at its next start, as for any stopped VM."""
        if [str(g) for g in group_ids] != [str(g) for g in self.group_ids]:
            self._regrouped(group_ids=list(group_ids))

    @event("Regrouped")
    def _regrouped(self, group_ids: list[UUID]) -> None:
        self.group_ids = list(group_ids)

    def request_apply(self, request_id: str, target: RulesTarget, rules: list[dict]) -> None:
        """Send the VM's whole rule set (union of its groups' rules) to its host."""
        self._apply_requested(request_id=request_id, rules=list(rules), **target.facts())

    @event("ApplyRequested")
    def _apply_requested(
        self,
        request_id: str,
        rules: list[dict[str, Any]],
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
    ) -> None:
        self.request_id, self.requested_host = request_id, host_id

    def settle(self, request_id: str, error: str | None, rule_count: int) -> bool:
        """The host's answer to the request in flight; stale answers change nothing."""
        if request_id != self.request_id:
            return False
        if error is None:
            self._applied(request_id=request_id, rule_count=rule_count)
        else:
            self._apply_failed(request_id=request_id, reason=error)
        return True

    @event("Applied")
    def _applied(self, request_id: str, rule_count: int) -> None:
        self.request_id, self.applied_host, self.failure = None, self.requested_host, None

    @event("ApplyFailed")
    def _apply_failed(self, request_id: str, reason: str) -> None:
        self.request_id, self.failure = None, reason

    def needs_apply(self, host_id: UUID | None) -> bool:
        """A VM running on a host that has not yet been sent (or confirmed) its rules."""
        if host_id is None:
            return False
        return self.applied_host != host_id and not (
            self.request_id is not None and self.requested_host == host_id
        )

    def forget_host(self) -> None:
        """The VM left its host (stopped): the next start sends the rules again."""
        if self.applied_host is not None or self.requested_host is not None:
            self._unplaced()

    @event("Unplaced")
    def _unplaced(self) -> None:
        self.applied_host, self.requested_host, self.request_id = None, None, None
