"""Commands on affinity groups and the VMs in them, and the rule placement asks of them.

A VM's groups are set before it is placed (deploy) or while it is stopped (updateVMAffinityGroup);
placement reads them afresh in the same attempt that reserves room on a host, so two members
racing for one host write the same capacity aggregate and the second sees the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.names import claimed
from domain.affinity_group import AffinityGroup, VmAffinity, check_type, vm_affinity_id
from domain.errors import InvalidParameter, NotFound
from domain.names import NameClaim, claim_id
from domain.vm import VirtualMachine

CLAIM_KIND = "affinity-group"


def _claim_key(account_id: UUID, name: str) -> str:
    return f"{account_id}:{name}"


def group_claim_key(account_id: UUID | None, domain_id: UUID, name: str) -> str:
    """The name claim of a group: an account's, or a domain's explicit dedication group."""
    return _claim_key(account_id, name) if account_id else f"domain:{domain_id}:{name}"


@dataclass(frozen=True)
class CreateAffinityGroup:
    group_id: UUID
    name: str
    description: str
    group_type: str
    account_id: UUID
    domain_id: UUID


def create_group(store: Any, command: CreateAffinityGroup) -> Outcome:
    """A new group; its name is unique in the account (held by a name claim)."""
    check_type(command.group_type)

    def attempt() -> Outcome:
        key = _claim_key(command.account_id, command.name)
        what = f"Unable to create affinity group, a group with name {command.name}"
        claim = claimed(store, CLAIM_KIND, key, command.group_id, what)
        group = AffinityGroup(
            command.group_id,
            command.name,
            command.description,
            command.group_type,
            command.account_id,
            command.domain_id,
        )
        return Outcome(store.last_position(store.save(group, claim)), group.id)

    result: Outcome = store.run(attempt)
    return result


def delete_group(store: Any, group_id: UUID) -> Outcome:
    """Delete a group; its members leave it in the same commit (as 4.3 does)."""

    def attempt() -> Outcome:
        group: AffinityGroup = store.get(AffinityGroup, group_id, what="affinity group")
        changed: list[Any] = [group]
        for vm_id in sorted(group.members):
            membership = _membership(store, vm_id)
            if membership is not None:
                membership.set_groups(g for g in membership.group_ids if g != group.id)
                changed.append(membership)
        group.delete()
        claim = _claim(store, group)
        if claim is not None and claim.owner_id == group.id:
            claim.release()
            changed.append(claim)
        return Outcome(store.last_position(store.save(*changed)), group.id)

    result: Outcome = store.run(attempt)
    return result


def _claim(store: Any, group: AffinityGroup) -> NameClaim | None:
    try:
        claim: NameClaim = store.get(
            NameClaim,
            claim_id(CLAIM_KIND, group_claim_key(group.account_id, group.domain_id, group.name)),
        )
    except NotFound:
        return None
    return claim


# A VM's groups -------------------------------------------------------------------------------


def _membership(store: Any, vm_id: UUID) -> VmAffinity | None:
    try:
        membership: VmAffinity = store.get(VmAffinity, vm_affinity_id(vm_id), what="VM affinity")
    except NotFound:
        return None
    return membership


def _regrouped(store: Any, vm_id: UUID, group_ids: Sequence[UUID]) -> list[Any]:
    """The VM's membership and every group it joins or leaves, changed (not saved)."""
    membership = _membership(store, vm_id) or VmAffinity(vm_id)
    before, after = set(membership.group_ids), set(group_ids)
    changed: list[Any] = [membership]
    for group_id in sorted(before | after, key=str):
        try:
            group: AffinityGroup = store.get(AffinityGroup, group_id, what="affinity group")
        except NotFound:
            if group_id in after:
                raise InvalidParameter(f"Unable to find affinity group by id {group_id}") from None
            continue
        if group_id in after:
            group.join(vm_id)
        else:
            group.leave(vm_id)
        changed.append(group)
    membership.set_groups(group_ids)
    return [a for a in changed if a.pending_events]


def set_vm_groups(store: Any, vm_id: UUID, group_ids: Sequence[UUID]) -> Outcome:
    """Put a VM in exactly these groups (leaving any others)."""

    def attempt() -> Outcome:
        changed = _regrouped(store, vm_id, group_ids)
        if not changed:
            return Outcome(0, vm_id)
        return Outcome(store.last_position(store.save(*changed)), vm_id)

    result: Outcome = store.run(attempt)
    return result


def in_affinity_groups(
    store: Any, vm_id: UUID, group_ids: Sequence[UUID], deploy: Callable[[], Outcome]
) -> Outcome:
    """Deploy a VM in its groups: they are joined first, and left again if the deploy fails or
    leaves the VM in Error (no host could take it), as 4.3 drops an Error VM's groups."""
    if not group_ids:
        return deploy()
    set_vm_groups(store, vm_id, group_ids)
    try:
        outcome = deploy()
    except BaseException:
        set_vm_groups(store, vm_id, ())
        raise
    vm: VirtualMachine = store.get(VirtualMachine, vm_id, what="virtual machine")
    if vm.state != "Error":
        return outcome
    left = set_vm_groups(store, vm_id, ())
    return Outcome(max(outcome.position, left.position), outcome.id)


STOPPED_ONLY = (
    "Unable update affinity groups of the virtual machine {name} in state {state}; make sure "
    "the virtual machine is stopped and not in an error state before updating."
)


def update_vm_groups(store: Any, vm_id: UUID, group_ids: Sequence[UUID]) -> Outcome:
    """updateVMAffinityGroup: a stopped VM's groups become exactly these."""

    def attempt() -> Outcome:
        vm: VirtualMachine = store.get(VirtualMachine, vm_id, what="virtual machine")
        if vm.state != "Stopped" or vm.removed:
            raise InvalidParameter(STOPPED_ONLY.format(name=vm.instance_name, state=vm.state))
        changed = _regrouped(store, vm_id, group_ids)
        if not changed:
            return Outcome(0, vm_id)
        return Outcome(store.last_position(store.save(*changed)), vm_id)

    result: Outcome = store.run(attempt)
    return result


# What placement and the VM's life ask ---------------------------------------------------------


def kept_apart(store: Any, vm_id: UUID) -> frozenset[UUID]:
    """The VMs this VM may not share a host with, read afresh from its groups."""
    membership = _membership(store, vm_id)
    apart: set[UUID] = set()
    for group_id in membership.group_ids if membership else ():
        try:
            group: AffinityGroup = store.get(AffinityGroup, group_id, what="affinity group")
        except NotFound:
            continue
        apart |= group.keeps_apart(vm_id)
    return frozenset(apart)


def has_groups(store: Any, vm_id: UUID) -> bool:
    membership = _membership(store, vm_id)
    return bool(membership and membership.group_ids)


_Vm: Any = VirtualMachine  # events made by the library's decorator: type checkers cannot see them
_LEAVING_EVENTS = (_Vm.Expunged, _Vm.StartFailed)


def follow_vm_affinity(store: Any, aggregates: Iterable[Any]) -> list[Any]:
    """What to save beside a VM: one expunged or put in Error leaves its groups (as 4.3).
    (A deploy that found no host leaves them in `in_affinity_groups`: its save is not retried,
    and the groups are where concurrent deploys write.)"""
    vm = next(iter(aggregates), None)
    if not isinstance(vm, VirtualMachine):
        return []
    if not any(isinstance(e, _LEAVING_EVENTS) for e in vm.pending_events):
        return []
    if not (vm.removed or vm.state == "Error") or not has_groups(store, vm.id):
        return []
    return _regrouped(store, vm.id, ())
