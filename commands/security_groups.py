"""Commands on security groups, the VMs in them, and the rule sets sent to the VMs' hosts.

A VM's rule set is the union of its groups' rules, with rules that allow another group made
concrete as that group's members' addresses. It is sent to the host the VM runs on whenever it
changes (authorize, revoke) and whenever the VM comes up on a host (`follow_vm_groups`, called
from every VM save); only the answer to the latest request counts. A host that cannot apply it
raises an ALERT.USERVM alert.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome
from commands.names import claimed
from domain.alert import DEFAULT_TYPES, Alert
from domain.errors import InvalidParameter, NotFound
from domain.host import Host, HostState
from domain.names import NameClaim, claim_id
from domain.security_group import (
    DEFAULT_GROUP,
    RuleSpec,
    RulesTarget,
    SecurityGroup,
    VmRules,
    default_group_id,
    vm_rules_id,
)
from domain.vm import VirtualMachine
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work

USERVM_ALERT = 8  # ALERT.USERVM
CLAIM_KIND = "security-group"
APPLY_ACTION = "apply_security_rules"


def _claim_key(account_id: UUID, name: str) -> str:
    return f"{account_id}:{name}"


# Groups -------------------------------------------------------------------------------------


def default_group(store: Any, account_id: UUID, domain_id: UUID) -> SecurityGroup:
    """The account's `default` group, made the first time it is needed (not saved here)."""
    try:
        group: SecurityGroup = store.get(
            SecurityGroup, default_group_id(account_id), what="security group"
        )
    except NotFound:
        group = SecurityGroup(
            default_group_id(account_id),
            DEFAULT_GROUP,
            "Default Security Group",
            account_id,
            domain_id,
        )
    return group


def ensure_default_group(store: Any, account_id: UUID, domain_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        group = default_group(store, account_id, domain_id)
        position = store.save(group) if group.pending_events else None
        return Outcome(store.last_position(position) if position else 0, group.id)

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class CreateSecurityGroup:
    group_id: UUID
    name: str
    description: str
    account_id: UUID
    domain_id: UUID


def create_group(store: Any, command: CreateSecurityGroup) -> Outcome:
    """A new group; its name is unique in the account (held by a name claim)."""
    if command.name.lower() == DEFAULT_GROUP:
        raise InvalidParameter(f"The security group name {command.name} is reserved")

    def attempt() -> Outcome:
        key = _claim_key(command.account_id, command.name)
        what = f"Unable to create security group, a group with name {command.name}"
        claim = claimed(store, CLAIM_KIND, key, command.group_id, what)
        group = SecurityGroup(
            command.group_id,
            command.name,
            command.description,
            command.account_id,
            command.domain_id,
        )
        return Outcome(store.last_position(store.save(group, claim)), group.id)

    result: Outcome = store.run(attempt)
    return result


def delete_group(store: Any, group_id: UUID, *, allowed_by_others: bool) -> Outcome:
    return _take_away(store, group_id, lambda g: g.delete(allowed_by_others=allowed_by_others))


def remove_owners_group(store: Any, group_id: UUID) -> Outcome:
    """A removed account's group, its default one included, taken away by the account
    cleanup (no API command names it: 4.3 keeps the default group from every caller)."""
    return _take_away(store, group_id, SecurityGroup.remove_with_owner)


def _take_away(store: Any, group_id: UUID, how: Callable[[SecurityGroup], None]) -> Outcome:
    def attempt() -> Outcome:
        group: SecurityGroup = store.get(SecurityGroup, group_id, what="security group")
        how(group)
        changed: list[Any] = [group]
        try:
            claim = store.get(
                NameClaim, claim_id(CLAIM_KIND, _claim_key(group.account_id, group.name))
            )
        except NotFound:
            claim = None
        if claim is not None and claim.owner_id == group.id:
            claim.release()
            changed.append(claim)
        return Outcome(store.last_position(store.save(*changed)), group.id)

    result: Outcome = store.run(attempt)
    return result


# Rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizeRules:
    group_id: UUID
    direction: str  # INGRESS or EGRESS
    spec: RuleSpec
    rule_ids: tuple[UUID, ...]  # enough for every CIDR and group of the spec


def authorize(store: Any, command: AuthorizeRules) -> Outcome:
    """Add rules to a group and send the new rule set to the hosts of its running VMs."""

    def attempt() -> Outcome:
        group: SecurityGroup = store.get(SecurityGroup, command.group_id, what="security group")
        group.authorize(command.direction, list(command.rule_ids), command.spec)
        return _saved_with_members(store, group)

    result: Outcome = store.run(attempt)
    return result


def revoke(store: Any, group_id: UUID, rule_id: str, direction: str) -> Outcome:
    def attempt() -> Outcome:
        group: SecurityGroup = store.get(SecurityGroup, group_id, what="security group")
        group.revoke(rule_id, direction)
        return _saved_with_members(store, group)

    result: Outcome = store.run(attempt)
    return result


def _saved_with_members(store: Any, group: SecurityGroup) -> Outcome:
    changed: list[Any] = [group]
    for vm_id in sorted(group.members):
        try:
            vm: VirtualMachine = store.get(VirtualMachine, UUID(vm_id), what="virtual machine")
        except NotFound:
            continue
        changed += _apply_if_placed(store, vm, {group.id: group}, force=True)
    return Outcome(store.last_position(store.save(*changed)), group.id)


# A VM's groups -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinGroups:
    vm_id: UUID
    vm_name: str
    zone_id: UUID
    account_id: UUID
    domain_id: UUID
    group_ids: tuple[UUID, ...] | None  # None: a zone without security groups


def joined(store: Any, command: JoinGroups) -> list[Any]:
    """A VM being deployed put into its groups, not saved: its deploy records the groups and
    the VM's rule set in its own commit (nothing when the zone has no security groups)."""
    if command.group_ids is None:
        return []
    groups = _joined_groups(store, command)
    return [VmRules(command.vm_id, [g.id for g in groups]), *groups]


def regrouped(store: Any, command: JoinGroups) -> list[Any]:
    """A stopped VM handed to another account leaves its old account's groups and joins these
    of its new one, not saved: the assignment records all of it in its own commit (nothing
    when the zone has no security groups)."""
    if command.group_ids is None:
        return []
    rules = _vm_rules(store, command.vm_id)
    left = _leave(store, command.vm_id)
    groups = _joined_groups(store, command)
    if rules is None:
        return [VmRules(command.vm_id, [g.id for g in groups]), *left, *groups]
    rules.regroup([g.id for g in groups])
    return [rules, *left, *groups]


def _joined_groups(store: Any, command: JoinGroups) -> list[SecurityGroup]:
    """The groups named (the owner's `default` one when none is, made if need be), each with
    the VM joined."""
    groups: list[SecurityGroup] = []
    for group_id in command.group_ids or (default_group_id(command.account_id),):
        if group_id == default_group_id(command.account_id):
            group = default_group(store, command.account_id, command.domain_id)
        else:
            group = store.get(SecurityGroup, group_id, what="security group")
        group.join(command.vm_id, command.vm_name, command.zone_id)
        groups.append(group)
    return groups


def _vm_rules(store: Any, vm_id: UUID) -> VmRules | None:
    try:
        rules: VmRules = store.get(VmRules, vm_rules_id(vm_id), what="VM security rules")
    except NotFound:
        return None
    return rules


def _leave(store: Any, vm_id: UUID) -> list[Any]:
    rules = _vm_rules(store, vm_id)
    if rules is None:
        return []
    changed: list[Any] = []
    for group_id in rules.group_ids:
        try:
            group = store.get(SecurityGroup, group_id, what="security group")
        except NotFound:
            continue
        group.leave(vm_id)
        if group.pending_events:
            changed.append(group)
    return changed


def follow_vm_groups(store: Any, aggregates: Sequence[Any]) -> list[Any]:
    """What to save beside a VM: an expunged VM leaves its groups; a VM that came up on a host
    gets its rule set sent there; a VM that left its host is forgotten there."""
    vm = aggregates[0] if aggregates else None
    if not isinstance(vm, VirtualMachine) or not _placement_changes(vm):
        return []  # most saves of a VM (requests, updates) change neither its host nor its run
    if vm.removed:
        return _leave(store, vm.id)
    return _apply_if_placed(store, vm, {}, force=False)


# The events after which a VM runs on a host, or no longer does (made by @event: Any to mypy).
_Vm: Any = VirtualMachine
_PLACEMENT_EVENTS = (
    _Vm.Started,
    _Vm.Stopped,
    _Vm.StartFailed,
    _Vm.Destroyed,
    _Vm.Expunged,
    _Vm.Migrated,  # its rules go to the host it moved to
)


def _placement_changes(vm: VirtualMachine) -> bool:
    return any(isinstance(event, _PLACEMENT_EVENTS) for event in vm.pending_events)


def _apply_if_placed(
    store: Any, vm: VirtualMachine, known: dict[UUID, SecurityGroup], *, force: bool
) -> list[Any]:
    rules = _vm_rules(store, vm.id)
    if rules is None:
        return []
    running = vm.state == "Running" and vm.host_id is not None
    if not running:
        if vm.host_id is None:
            rules.forget_host()
        return [rules] if rules.pending_events else []
    if not force and not rules.needs_apply(vm.host_id):
        return []
    target = _target(store, vm)
    if target is None:
        return []
    rules.request_apply(uuid.uuid4().hex, target, _rule_set(store, rules, known))
    return [rules]


def _target(store: Any, vm: VirtualMachine) -> RulesTarget | None:
    try:
        host: Host = store.get(Host, vm.host_id, what="host")
    except NotFound:
        return None
    if host.removed or not host.managed or host.state != HostState.UP:
        return None
    return RulesTarget(
        host.id, host.url, host.username, host.password, host.hypervisor, vm.instance_name
    )


def _rule_set(store: Any, rules: VmRules, known: dict[UUID, SecurityGroup]) -> list[dict[str, Any]]:
    """The VM's rules for its host: every rule of its groups, another group's as its members'
    addresses (/32 each), sorted so equal sets are equal lists."""
    found: list[dict[str, Any]] = []
    for group_id in rules.group_ids:
        group = known.get(group_id) or _group_or_none(store, group_id)
        if group is None or group.removed:
            continue
        for rule in group.rules.values():
            for cidr in _sources(store, rule, known):
                found.append(_wire_rule(rule, cidr))
    unique = {tuple(sorted(r.items())): r for r in found}
    return [unique[key] for key in sorted(unique, key=str)]


def _group_or_none(store: Any, group_id: UUID) -> SecurityGroup | None:
    try:
        group: SecurityGroup = store.get(SecurityGroup, group_id, what="security group")
    except NotFound:
        return None
    return group


def _sources(store: Any, rule: dict[str, Any], known: dict[UUID, SecurityGroup]) -> list[str]:
    if rule["cidr"]:
        return [rule["cidr"]]
    group = known.get(UUID(rule["group_id"])) or _group_or_none(store, UUID(rule["group_id"]))
    if group is None:
        return []
    addresses: list[str] = []
    for vm_id in sorted(group.members):
        try:
            vm = store.get(VirtualMachine, UUID(vm_id), what="virtual machine")
        except NotFound:
            continue
        addresses += [f"{n['ip_address']}/32" for n in getattr(vm, "nics", ()) if n["ip_address"]]
        addresses += [
            f"{ip['ip_address']}/{128 if ':' in ip['ip_address'] else 32}"
            for ip in vm.secondary_ips.values()
        ]
    return addresses


def _wire_rule(rule: dict[str, Any], cidr: str) -> dict[str, Any]:
    return {
        "direction": rule["direction"],
        "protocol": rule["protocol"],
        "start": rule["start"],
        "end": rule["end"],
        "cidr": cidr,
    }


# Messages and results ------------------------------------------------------------------------


def security_group_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """`VmRules.ApplyRequested` becomes an `apply_security_rules` request to the VM's host."""

    def apply(e: Any) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=APPLY_ACTION,
            target_id=str(e.originator_id),
            params={"host_id": str(e.host_id), "name": e.instance_name, "rules": e.rules},
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    rules: Any = VmRules  # events made by the library's decorator: mypy cannot see them
    return {get_topic(rules.ApplyRequested): apply}


OUTBOX_ROUTES = security_group_routes


def on_rules_result(store: Any, result: WorkResult) -> Outcome:
    """The host's answer: recorded on the VM's rules; a failure is alerted."""

    def attempt() -> Outcome:
        rules: VmRules = store.get(VmRules, UUID(result.target_id), what="VM security rules")
        count = int(result.data.get("rule_count", 0)) if result.ok else 0
        error = None if result.ok else (result.error or "the hypervisor did not answer")
        if not rules.settle(result.request_id, error, count):
            return Outcome(0, rules.id)
        changed: list[Any] = [rules]
        if error is not None:
            changed.append(_alert(store, rules.vm_id, error))
        return Outcome(store.last_position(store.save(*changed)), rules.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def _alert(store: Any, vm_id: UUID, error: str) -> Alert:
    try:
        vm = store.get(VirtualMachine, vm_id, what="virtual machine")
        name, zone_id = vm.instance_name, vm.zone_id
    except NotFound:
        name, zone_id = str(vm_id), None
    text = f"Security group rules of VM {name} could not be applied on its host: {error}"
    return Alert(USERVM_ALERT, DEFAULT_TYPES[USERVM_ALERT], text, zone_id, None, vm_id)


RESULT_HANDLERS = {APPLY_ACTION: on_rules_result}
