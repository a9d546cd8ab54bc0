"""Commands on instance groups: create, rename, delete, and putting a VM in one (by name, made
when new, as 4.3 does for `deployVirtualMachine group=` and `updateVirtualMachine group=`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from commands import Outcome
from domain.errors import NotFound
from domain.instance_group import CLAIM_KIND, InstanceGroup, check_name, claim_key
from domain.names import NameClaim, claim_id
from domain.vm import VirtualMachine


@dataclass(frozen=True)
class GroupRef:
    """The group a VM being deployed goes into."""

    id: UUID
    name: str


def _taken(verb: str, group_name: str) -> str:
    return f"Unable to {verb} instance group, a group with name {group_name}"


def _claim(store: Any, account_id: UUID, name: str) -> NameClaim | None:
    try:
        return store.get(NameClaim, claim_id(CLAIM_KIND, claim_key(account_id, name)))
    except NotFound:
        return None


def _hold_name(
    store: Any, group: InstanceGroup, name: str, verb: str = "create", *, known: Any = False
) -> NameClaim:
    """The name claim for `name`, taken for `group` (InvalidParameter when another has it).
    `known` is the claim as this attempt already read it (read once: a second read could see
    another group's claim that the first did not)."""
    claim = _claim(store, group.account_id, name) if known is False else known
    if claim is None:
        return NameClaim(kind=CLAIM_KIND, key=claim_key(group.account_id, name), owner_id=group.id)
    if claim.owner_id != group.id:
        claim.take(group.id, _taken(verb, name))
    return claim


def _named(store: Any, account_id: UUID, domain_id: UUID, name: str) -> list[Any]:
    """[the account's group of that name] or, when there is none, [a new one, its claim]."""
    claim = _claim(store, account_id, name)
    if claim is not None and claim.owner_id is not None:
        return [store.get(InstanceGroup, claim.owner_id, what="instance group")]
    group = InstanceGroup(uuid4(), check_name(name), account_id, domain_id)
    return [group, _hold_name(store, group, name, known=claim)]


def _saved(store: Any, changed: list[Any], outcome_id: UUID | None) -> Outcome:
    return Outcome(store.last_position(store.save(*changed)), outcome_id)


@dataclass(frozen=True)
class CreateInstanceGroup:
    group_id: UUID
    name: str
    account_id: UUID
    domain_id: UUID


def create_group(store: Any, command: CreateInstanceGroup) -> Outcome:
    """A new group; its name is unique in the account."""

    def attempt() -> Outcome:
        group = InstanceGroup(command.group_id, command.name, command.account_id, command.domain_id)
        return _saved(store, [group, _hold_name(store, group, command.name)], group.id)

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class RenameInstanceGroup:
    group_id: UUID
    name: str


def rename_group(store: Any, command: RenameInstanceGroup) -> Outcome:
    def attempt() -> Outcome:
        group = store.get(InstanceGroup, command.group_id, what="instance group")
        if group.name.lower() == command.name.lower():
            group.rename(command.name)  # the same name in other letters keeps its claim
            return _saved(store, [group], group.id)
        claim = _hold_name(store, group, check_name(command.name), "update")
        old = _claim(store, group.account_id, group.name)
        group.rename(command.name)
        changed = [group, claim]
        if old is not None and old.owner_id == group.id:
            old.release()
            changed.append(old)
        return _saved(store, changed, group.id)

    result: Outcome = store.run(attempt)
    return result


def delete_group(store: Any, group_id: UUID) -> Outcome:
    """The group goes, its VMs stay (in no group), its name is free again."""

    def attempt() -> Outcome:
        group = store.get(InstanceGroup, group_id, what="instance group")
        changed: list[Any] = [group, *_members_leaving(store, group)]
        claim = _claim(store, group.account_id, group.name)
        if claim is not None and claim.owner_id == group.id:
            claim.release()
            changed.append(claim)
        group.delete()
        return _saved(store, changed, group.id)

    result: Outcome = store.run(attempt)
    return result


def _members_leaving(store: Any, group: InstanceGroup) -> list[VirtualMachine]:
    leaving = []
    for vm_id in group.members:
        try:
            vm = store.get(VirtualMachine, vm_id)
        except NotFound:  # a deploy that never saved its VM
            continue
        vm.leave_group(group.id)
        leaving += [vm] if vm.pending_events else []
    return leaving


@dataclass(frozen=True)
class PlaceVm:
    """Put a VM in its account's group of this name (made when new); "" takes it out."""

    vm_id: UUID
    group_name: str


def place_vm(store: Any, command: PlaceVm) -> Outcome:
    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        changed: list[Any] = [vm]
        target: InstanceGroup | None = None
        if command.group_name:
            found = _named(store, vm.account_id, vm.domain_id, command.group_name)
            target, changed = found[0], changed + found
        if vm.group_id is not None and vm.group_id != (target.id if target else None):
            old = store.get(InstanceGroup, vm.group_id, what="instance group")
            old.let_go(vm.id)
            changed.append(old)
        vm.move_to_group(target.id if target else None, target.name if target else "")
        if target is not None:
            target.admit(vm.id)
        return _saved(store, changed, vm.id)

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class JoinInstanceGroup:
    """A VM being deployed, and the name of its account's group it goes into."""

    vm_id: UUID
    account_id: UUID
    domain_id: UUID
    group_name: str


def join_at_deploy(store: Any, command: JoinInstanceGroup) -> GroupRef:
    """Admit a VM being deployed (before it is saved, as its security groups do)."""

    def attempt() -> GroupRef:
        found = _named(store, command.account_id, command.domain_id, command.group_name)
        group = found[0]
        group.admit(command.vm_id)
        store.save(*found)
        return GroupRef(group.id, group.name)

    result: GroupRef = store.run(attempt)
    return result


def _let_go(store: Any, group_id: UUID, vm_id: UUID) -> None:
    def attempt() -> None:
        group = store.get(InstanceGroup, group_id, what="instance group")
        group.let_go(vm_id)
        store.save(group)

    store.run(attempt)


def in_instance_group(
    store: Any, join: JoinInstanceGroup | None, deploy: Callable[[GroupRef | None], Outcome]
) -> Outcome:
    """Deploy a VM in its group: joined first, and left again if the deploy does not happen."""
    if join is None:
        return deploy(None)
    group = join_at_deploy(store, join)
    try:
        return deploy(group)
    except BaseException:
        _let_go(store, group.id, join.vm_id)
        raise
