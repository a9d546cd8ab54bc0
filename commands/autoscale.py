"""Commands on autoscale counters, conditions, policies, VM profiles and VM groups, and the
scaler's records on a group. Each save that starts or ends a use also records it on what is
used (domain/autoscale.py), so nothing in use can be deleted; a load balancer rule holds one
group, held by a claim on the rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome
from commands.names import claimed, released
from domain.autoscale import (
    SEEDED_COUNTERS,
    AutoScalePolicy,
    AutoScaleVmGroup,
    AutoScaleVmProfile,
    Condition,
    Counter,
    GroupBounds,
    GroupState,
    ProfileSpec,
    check_timing,
    seeded_counter_id,
)
from domain.errors import ConcurrencyConflict, InvalidParameter, NotFound, ResourceInUse
from domain.names import NameClaim, claim_id

LB_RULE_CLAIM = "autoscale-lb-rule"


def check_rule_without_group(store: Any, rule_id: UUID) -> None:
    """A load balancer rule that an autoscale VM group balances is not deleted under it: the
    group must be deleted first (536; later CloudStack releases refuse it with this text)."""
    try:
        claim: NameClaim = store.get(NameClaim, claim_id(LB_RULE_CLAIM, str(rule_id)))
    except NotFound:
        return
    if claim.owner_id is not None:
        raise ResourceInUse(
            f"Cannot delete load balancer rule {rule_id} because it is being used by 1 "
            "Autoscale VM group."
        )


def _saved(store: Any, main: Any, *others: Any) -> Outcome:
    return Outcome(store.last_position(store.save(main, *others)), main.id)


def _run(store: Any, attempt: Any) -> Outcome:
    result: Outcome = store.run(attempt)
    return result


def _relinked(
    store: Any, kind: type, old: Iterable[UUID], new: Iterable[UUID], user_id: UUID, what: str
) -> list[Any]:
    """The used objects of `kind` whose use by `user_id` starts or ends (not saved)."""
    old_ids, new_ids = {str(i) for i in old}, {str(i) for i in new}
    changed = []
    for item_id in sorted(old_ids ^ new_ids):
        used = store.get(kind, UUID(item_id), what=what)
        if item_id in new_ids:
            used.use(user_id)
        else:
            used.release(user_id)
        changed.append(used)
    return changed


# Counters -----------------------------------------------------------------------------------


def seed_counters(store: Any) -> int:
    """4.3's default counters (and Stratus's own), once: a seeded counter deleted stays so."""

    def attempt() -> int:
        made = []
        for source, name, value in SEEDED_COUNTERS:
            try:
                store.repository.get(seeded_counter_id(name))
            except AggregateNotFoundError:
                made.append(Counter(seeded_counter_id(name), name, source, value))
        if made:
            store.save(*made)
        return len(made)

    count: int = store.run(attempt)
    return count


@dataclass(frozen=True)
class CreateCounter:
    counter_id: UUID
    name: str
    source: str
    value: str


def create_counter(store: Any, command: CreateCounter) -> Outcome:
    def attempt() -> Outcome:
        counter = Counter(command.counter_id, command.name, command.source, command.value)
        return _saved(store, counter)

    return _run(store, attempt)


def delete_counter(store: Any, counter_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        counter = store.get(Counter, counter_id, what="Counter")
        counter.remove("Counter is in use.")
        return _saved(store, counter)

    return _run(store, attempt)


# Conditions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateCondition:
    condition_id: UUID
    account_id: UUID
    domain_id: UUID
    counter_id: UUID
    operator: str
    threshold: int


def create_condition(store: Any, command: CreateCondition) -> Outcome:
    def attempt() -> Outcome:
        counter = store.get(Counter, command.counter_id, what="counter")
        counter.use(command.condition_id)
        condition = Condition(
            command.condition_id,
            command.account_id,
            command.domain_id,
            command.counter_id,
            command.operator,
            command.threshold,
        )
        return _saved(store, condition, counter)

    return _run(store, attempt)


def delete_condition(store: Any, condition_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        condition = store.get(Condition, condition_id, what="Condition")
        condition.remove(
            "Cannot delete Condition when it is in use by one or more AutoScale Policies."
        )
        counter = store.get(Counter, condition.counter_id, what="counter")
        counter.release(condition.id)
        return _saved(store, condition, counter)

    return _run(store, attempt)


# Policies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatePolicy:
    policy_id: UUID
    account_id: UUID
    domain_id: UUID
    action: str
    duration: int
    quiet_time: int
    condition_ids: tuple[UUID, ...]


def create_policy(store: Any, command: CreatePolicy) -> Outcome:
    def attempt() -> Outcome:
        check_timing(command.duration, command.quiet_time)
        conditions = _relinked(
            store, Condition, (), command.condition_ids, command.policy_id, "condition"
        )
        policy = AutoScalePolicy(
            command.policy_id,
            command.account_id,
            command.domain_id,
            command.action,
            command.duration,
            command.quiet_time,
            command.condition_ids,
        )
        return _saved(store, policy, *conditions)

    return _run(store, attempt)


@dataclass(frozen=True)
class UpdatePolicy:
    policy_id: UUID
    duration: int | None
    quiet_time: int | None
    condition_ids: tuple[UUID, ...] | None


def update_policy(store: Any, command: UpdatePolicy) -> Outcome:
    def attempt() -> Outcome:
        policy = store.get(AutoScalePolicy, command.policy_id, what="Auto Scale Policy")
        duration = policy.duration if command.duration is None else command.duration
        for group_id in sorted(policy.used_by):
            group = store.get(AutoScaleVmGroup, UUID(group_id), what="AutoScale Vm Group")
            if group.state != GroupState.DISABLED:
                raise InvalidParameter(
                    "The AutoScale Policy can be updated only if the Vm Group it is associated "
                    "with is disabled in state"
                )
            if duration < group.bounds.interval:
                raise InvalidParameter(
                    "duration is less than the associated AutoScaleVmGroup's interval"
                )
        wanted = policy.condition_ids if command.condition_ids is None else command.condition_ids
        conditions = _relinked(
            store, Condition, policy.condition_ids, wanted, policy.id, "condition"
        )
        quiet = policy.quiet_time if command.quiet_time is None else command.quiet_time
        policy.update(duration, quiet, tuple(wanted))
        return _saved(store, policy, *conditions)

    return _run(store, attempt)


def delete_policy(store: Any, policy_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        policy = store.get(AutoScalePolicy, policy_id, what="AutoScale Policy")
        policy.remove(
            "Cannot delete AutoScale Policy when it is in use by one or more AutoScale Vm Groups",
            InvalidParameter,
        )
        conditions = _relinked(store, Condition, policy.condition_ids, (), policy.id, "condition")
        return _saved(store, policy, *conditions)

    return _run(store, attempt)


# Profiles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateProfile:
    profile_id: UUID
    account_id: UUID
    domain_id: UUID
    spec: ProfileSpec


def create_profile(store: Any, command: CreateProfile) -> Outcome:
    def attempt() -> Outcome:
        profile = AutoScaleVmProfile(
            command.profile_id, command.account_id, command.domain_id, **command.spec.fields()
        )
        return _saved(store, profile)

    return _run(store, attempt)


def update_profile(store: Any, profile_id: UUID, spec: ProfileSpec) -> Outcome:
    """A new template, autoscale user or grace period, only while its groups are disabled."""

    def attempt() -> Outcome:
        profile = store.get(AutoScaleVmProfile, profile_id, what="Auto Scale Vm Profile")
        if spec != profile.spec:
            for group_id in sorted(profile.used_by):
                group = store.get(AutoScaleVmGroup, UUID(group_id), what="AutoScale Vm Group")
                if group.state != GroupState.DISABLED:
                    raise InvalidParameter(
                        "The AutoScale Vm Profile can be updated only if the Vm Group it is "
                        "associated with is disabled in state"
                    )
        profile.update(spec)
        return _saved(store, profile)

    return _run(store, attempt)


def delete_profile(store: Any, profile_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        profile = store.get(AutoScaleVmProfile, profile_id, what="AutoScale Vm Profile")
        profile.remove(
            "Cannot delete AutoScale Vm Profile when it is in use by one more vm groups",
            InvalidParameter,
        )
        return _saved(store, profile)

    return _run(store, attempt)


# Groups -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateGroup:
    group_id: UUID
    account_id: UUID
    domain_id: UUID
    lb_rule_id: UUID
    network_id: UUID
    zone_id: UUID
    profile_id: UUID
    bounds: GroupBounds
    scale_up: tuple[UUID, ...]
    scale_down: tuple[UUID, ...]


def create_group(store: Any, command: CreateGroup) -> Outcome:
    def attempt() -> Outcome:
        claim = claimed(
            store,
            LB_RULE_CLAIM,
            str(command.lb_rule_id),
            command.group_id,
            "An AutoScaleVmGroup on this lb rule",
        )
        policies = _relinked(
            store,
            AutoScalePolicy,
            (),
            (*command.scale_up, *command.scale_down),
            command.group_id,
            "policy",
        )
        profile = store.get(AutoScaleVmProfile, command.profile_id, what="vmprofileid")
        profile.use(command.group_id)
        group = AutoScaleVmGroup(
            command.group_id,
            command.account_id,
            command.domain_id,
            command.lb_rule_id,
            command.network_id,
            command.zone_id,
            command.profile_id,
            command.bounds.minimum,
            command.bounds.maximum,
            command.bounds.interval,
            command.scale_up,
            command.scale_down,
        )
        return _saved(store, group, claim, profile, *policies)

    return _run(store, attempt)


@dataclass(frozen=True)
class UpdateGroup:
    group_id: UUID
    bounds: GroupBounds
    scale_up: tuple[UUID, ...]
    scale_down: tuple[UUID, ...]


def update_group(store: Any, command: UpdateGroup) -> Outcome:
    def attempt() -> Outcome:
        group = store.get(AutoScaleVmGroup, command.group_id, what="AutoScale Vm Group")
        policies = _relinked(
            store,
            AutoScalePolicy,
            (*group.scale_up, *group.scale_down),
            (*command.scale_up, *command.scale_down),
            group.id,
            "policy",
        )
        group.update(command.bounds, command.scale_up, command.scale_down)
        return _saved(store, group, *policies)

    return _run(store, attempt)


def change_group_state(store: Any, group_id: UUID, state: str) -> Outcome:
    """Enable, disable or start deleting (revoke) a group."""

    def attempt() -> Outcome:
        group = store.get(AutoScaleVmGroup, group_id, what="AutoScale Vm Group")
        {
            GroupState.ENABLED: group.enable,
            GroupState.DISABLED: group.disable,
            GroupState.REVOKE: group.revoke,
        }[state]()
        return _saved(store, group)

    return _run(store, attempt)


def remove_group(store: Any, group_id: UUID) -> Outcome:
    """The group is gone: its rule, profile and policies are free again."""

    def attempt() -> Outcome:
        group = store.get(AutoScaleVmGroup, group_id, what="AutoScale Vm Group")
        group.remove()
        policies = _relinked(
            store, AutoScalePolicy, (*group.scale_up, *group.scale_down), (), group.id, "policy"
        )
        profile = store.get(AutoScaleVmProfile, group.profile_id, what="vmprofileid")
        profile.release(group.id)
        claim = released(store, LB_RULE_CLAIM, str(group.lb_rule_id))
        others = [profile, *policies, *([claim] if claim is not None else [])]
        return _saved(store, group, *others)

    return _run(store, attempt)


# The scaler's records -----------------------------------------------------------------------


def record_scaled(store: Any, group_id: UUID, action: str, at_ms: int, version: int) -> Outcome:
    """The scaler's decision on the group as it saw it (`version`): a group that changed since
    (another scaler, a user) refuses it with a conflict."""

    def attempt() -> Outcome:
        group = store.get(AutoScaleVmGroup, group_id, what="AutoScale Vm Group")
        if group.version != version:
            raise ConcurrencyConflict("The AutoScale Vm Group changed since it was weighed")
        group.scaled(action, at_ms)
        return _saved(store, group)

    result: Outcome = store.run(attempt)
    return result


def record_member(store: Any, group_id: UUID, vm_id: UUID, destroy_at_ms: int | None) -> Outcome:
    """A VM joins the group (None), drains (when it is to be destroyed) or, with -1, leaves."""

    def attempt() -> Outcome:
        group = store.get(AutoScaleVmGroup, group_id, what="AutoScale Vm Group")
        if destroy_at_ms is None:
            group.joined(vm_id)
        elif destroy_at_ms < 0:
            group.left(vm_id)
        else:
            group.drain(vm_id, destroy_at_ms)
        return _saved(store, group)

    return _run(store, attempt)
