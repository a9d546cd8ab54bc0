"""Autoscale: counters (what can be measured), an account's conditions on them, policies that
scale up or down when all their conditions hold, VM profiles (what a new member is deployed
from) and VM groups, which keep a load balancer rule's members between two bounds.

An object in use cannot go: each aggregate keeps the ids of those that use it (a counter its
conditions, a condition its policies, a policy or a profile its groups), recorded in the save
that starts or ends the use, so a delete racing a new use writes the same version and one of
them is refused. What the scaler measures and decides is `domain/autoscale_evaluation.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, ResourceInUse

_NAMESPACE = UUID("6a1d53c2-0f4e-4b8a-9d3e-2c7b5e81f4a9")

SOURCES = ("netscaler", "snmp", "hypervisor")  # 4.3's two, and the one Stratus measures
OPERATORS = ("GT", "GE", "LT", "LE", "EQ")
ACTIONS = ("scaleup", "scaledown")
DEFAULT_INTERVAL = 30  # seconds, as 4.3's NetUtils
DEFAULT_QUIET_TIME = 300
DEFAULT_DESTROY_GRACE = 120


class GroupState:
    ENABLED, DISABLED, REVOKE = "enabled", "disabled", "revoke"


# 4.3's seeded counters (source, name, value), then the ones Stratus measures itself.
SEEDED_COUNTERS = (
    ("snmp", "Linux User CPU - percentage", "1.3.6.1.4.1.2021.11.9.0"),
    ("snmp", "Linux System CPU - percentage", "1.3.6.1.4.1.2021.11.10.0"),
    ("snmp", "Linux CPU Idle - percentage", "1.3.6.1.4.1.2021.11.11.0"),
    ("netscaler", "Response Time - microseconds", "RESPTIME"),
    ("hypervisor", "VM disk reads - operations per second", "vm.disk.read.ops"),
    ("hypervisor", "VM disk writes - operations per second", "vm.disk.write.ops"),
    ("hypervisor", "VM disk reads - bytes per second", "vm.disk.read.bytes"),
    ("hypervisor", "VM disk writes - bytes per second", "vm.disk.write.bytes"),
)


def seeded_counter_id(name: str) -> UUID:
    return uuid5(_NAMESPACE, f"counter:{name}")


class _Used(Aggregate):
    """An autoscale object that others use: it keeps their ids and refuses to go while any
    does. `what` names it in errors."""

    what = "object"

    def use(self, user_id: UUID) -> None:
        self.check_live()
        if str(user_id) not in self.used_by:
            self._used(user_id=user_id)

    @event("Used")
    def _used(self, user_id: UUID) -> None:
        self.used_by = self.used_by | {str(user_id)}

    def release(self, user_id: UUID) -> None:
        if str(user_id) in self.used_by:
            self._released(user_id=user_id)

    @event("Released")
    def _released(self, user_id: UUID) -> None:
        self.used_by = self.used_by - {str(user_id)}

    @property
    def used_by(self) -> frozenset[str]:
        return frozenset(self.__dict__.get("_users", frozenset()))

    @used_by.setter
    def used_by(self, value: frozenset[str]) -> None:
        self.__dict__["_users"] = frozenset(value)

    def check_live(self) -> None:
        if self.__dict__.get("removed"):
            raise InvalidParameter(f"Unable to find {self.what}")

    def remove(self, in_use: str, error: type[Exception] = ResourceInUse) -> None:
        self.check_live()
        if self.used_by:
            raise error(in_use)
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True


class Counter(_Used):
    """Something measured about a group's VMs: its source and what the source calls it."""

    what = "Counter"

    @event("Created")
    def __init__(self, id: UUID, name: str, source: str, value: str) -> None:
        self.name, self.source, self.value = name, source, value
        self.removed = False


class Condition(_Used):
    """An account's comparison of a counter with a threshold."""

    what = "Condition"

    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        domain_id: UUID,
        counter_id: UUID,
        operator: str,
        threshold: int,
    ) -> None:
        self.account_id, self.domain_id = account_id, domain_id
        self.counter_id, self.operator, self.threshold = counter_id, operator, threshold
        self.removed = False


def check_timing(duration: int, quiet_time: int) -> None:
    if duration < 0:
        raise InvalidParameter(f"duration is an invalid value: {duration}")
    if quiet_time < 0:
        raise InvalidParameter(f"quiettime is an invalid value: {quiet_time}")


class AutoScalePolicy(_Used):
    """Scale up or down by one VM when all its conditions held over `duration` seconds, at
    most once per `quiet_time` seconds."""

    what = "AutoScale Policy"

    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        domain_id: UUID,
        action: str,
        duration: int,
        quiet_time: int,
        condition_ids: tuple[UUID, ...],
    ) -> None:
        self.account_id, self.domain_id, self.action = account_id, domain_id, action
        self.duration, self.quiet_time = duration, quiet_time
        self.condition_ids = tuple(condition_ids)
        self.removed = False

    def update(self, duration: int, quiet_time: int, condition_ids: tuple[UUID, ...]) -> None:
        self.check_live()
        check_timing(duration, quiet_time)
        self._updated(duration=duration, quiet_time=quiet_time, condition_ids=condition_ids)

    @event("Updated")
    def _updated(self, duration: int, quiet_time: int, condition_ids: tuple[UUID, ...]) -> None:
        self.duration, self.quiet_time = duration, quiet_time
        self.condition_ids = tuple(condition_ids)


@dataclass(frozen=True)
class ProfileSpec:
    """What a group's new VMs are deployed from, and how they leave."""

    zone_id: UUID
    service_offering_id: UUID
    template_id: UUID
    other_deploy_params: str
    destroy_grace: int
    autoscale_user_id: UUID

    def __post_init__(self) -> None:
        if self.destroy_grace < 0:
            raise InvalidParameter("Destroy Vm Grace Period cannot be less than 0.")

    def fields(self) -> dict[str, Any]:
        return {
            "zone_id": self.zone_id,
            "service_offering_id": self.service_offering_id,
            "template_id": self.template_id,
            "other_deploy_params": self.other_deploy_params,
            "destroy_grace": self.destroy_grace,
            "autoscale_user_id": self.autoscale_user_id,
        }


class AutoScaleVmProfile(_Used):
    """One account's recipe for a group's VMs; the autoscale user is who the scaler acts as."""

    what = "AutoScale Vm Profile"

    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        domain_id: UUID,
        zone_id: UUID,
        service_offering_id: UUID,
        template_id: UUID,
        other_deploy_params: str,
        destroy_grace: int,
        autoscale_user_id: UUID,
    ) -> None:
        self.account_id, self.domain_id = account_id, domain_id
        self.spec = ProfileSpec(
            zone_id,
            service_offering_id,
            template_id,
            other_deploy_params,
            destroy_grace,
            autoscale_user_id,
        )
        self.removed = False

    def update(self, spec: ProfileSpec) -> None:
        self.check_live()
        self._updated(
            template_id=spec.template_id,
            destroy_grace=spec.destroy_grace,
            autoscale_user_id=spec.autoscale_user_id,
        )

    @event("Updated")
    def _updated(self, template_id: UUID, destroy_grace: int, autoscale_user_id: UUID) -> None:
        self.spec = replace(
            self.spec,
            template_id=template_id,
            destroy_grace=destroy_grace,
            autoscale_user_id=autoscale_user_id,
        )


@dataclass(frozen=True)
class GroupBounds:
    """A group's bounds and how often the scaler looks at it, checked as 4.3 checks them."""

    minimum: int
    maximum: int
    interval: int

    def __post_init__(self) -> None:
        if self.minimum < 0:
            raise InvalidParameter(f"minmembers is an invalid value: {self.minimum}")
        if self.maximum < 0:
            raise InvalidParameter(f"maxmembers is an invalid value: {self.maximum}")
        if self.minimum > self.maximum:
            raise InvalidParameter(
                f"minmembers ({self.minimum})cannot be greater than maxmembers ({self.maximum})"
            )
        if self.interval < 0:
            raise InvalidParameter(f"interval is an invalid value: {self.interval}")


class AutoScaleVmGroup(Aggregate):
    """The VMs behind one load balancer rule, kept between the bounds by the scaler.

    Members are the VMs the group deployed: `active` ones serve behind the rule; a `draining`
    one was taken off the rule and is destroyed once its profile's grace period is over
    (`destroy_at_ms`). The time of the last scaling each way keeps the policies' quiet time.
    """

    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        domain_id: UUID,
        lb_rule_id: UUID,
        network_id: UUID,
        zone_id: UUID,
        profile_id: UUID,
        minimum: int,
        maximum: int,
        interval: int,
        scale_up: tuple[UUID, ...],
        scale_down: tuple[UUID, ...],
    ) -> None:
        self.account_id, self.domain_id = account_id, domain_id
        self.lb_rule_id, self.network_id, self.zone_id = lb_rule_id, network_id, zone_id
        self.profile_id, self.bounds = profile_id, GroupBounds(minimum, maximum, interval)
        self.scale_up, self.scale_down = tuple(scale_up), tuple(scale_down)
        self.state = GroupState.ENABLED  # 4.3 enables a group as soon as it is configured
        self.members: dict[str, int | None] = {}  # VM id -> destroy_at_ms while draining
        self.last_scaled: dict[str, int] = {}  # action -> when, in ms
        self.removed = False

    @property
    def active(self) -> list[str]:
        return [vm for vm, destroy_at in self.members.items() if destroy_at is None]

    def _check_live(self) -> None:
        if self.removed or self.state == GroupState.REVOKE:
            raise InvalidState("The AutoScale Vm Group is being deleted")

    def update(
        self, bounds: GroupBounds, scale_up: tuple[UUID, ...], scale_down: tuple[UUID, ...]
    ) -> None:
        self._check_live()
        physical = bounds != self.bounds
        if physical and self.state != GroupState.DISABLED:
            raise InvalidParameter(
                "An AutoScale Vm Group can be updated with minMembers/maxMembers/Interval only "
                "when it is in disabled state"
            )
        self._updated(
            minimum=bounds.minimum,
            maximum=bounds.maximum,
            interval=bounds.interval,
            scale_up=scale_up,
            scale_down=scale_down,
        )

    @event("Updated")
    def _updated(
        self,
        minimum: int,
        maximum: int,
        interval: int,
        scale_up: tuple[UUID, ...],
        scale_down: tuple[UUID, ...],
    ) -> None:
        self.bounds = GroupBounds(minimum, maximum, interval)
        self.scale_up, self.scale_down = tuple(scale_up), tuple(scale_down)

    def _require(self, state: str, text: str) -> None:
        self._check_live()
        if self.state != state:
            raise InvalidParameter(f"Only a AutoScale Vm Group which is in {text}.")

    def enable(self) -> None:
        self._require(GroupState.DISABLED, "Disabled state can be enabled")
        self._enabled()

    @event("Enabled")
    def _enabled(self) -> None:
        self.state = GroupState.ENABLED

    def disable(self) -> None:
        self._require(GroupState.ENABLED, "Enabled state can be disabled")
        self._disabled()

    @event("Disabled")
    def _disabled(self) -> None:
        self.state = GroupState.DISABLED

    def revoke(self) -> None:
        """Deleting starts: the scaler stops, the members go, then `remove`."""
        self._check_live()
        self._revoked()

    @event("Revoked")
    def _revoked(self) -> None:
        self.state = GroupState.REVOKE

    def remove(self) -> None:
        if self.removed:
            raise InvalidState("The AutoScale Vm Group has been removed")
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True

    # The scaler's records ----------------------------------------------------------------

    def scaled(self, action: str, at_ms: int) -> None:
        """A scaling decision, recorded before it is carried out: two scalers deciding on one
        group write the same version, and only one goes on."""
        if self.removed or self.state != GroupState.ENABLED:
            raise InvalidState("The AutoScale Vm Group is not enabled")
        self._scaled(action=action, at_ms=at_ms)

    @event("Scaled")
    def _scaled(self, action: str, at_ms: int) -> None:
        self.last_scaled = {**self.last_scaled, action: at_ms}

    def joined(self, vm_id: UUID) -> None:
        self._joined(vm_id=vm_id)

    @event("MemberJoined")
    def _joined(self, vm_id: UUID) -> None:
        self.members = {**self.members, str(vm_id): None}

    def drain(self, vm_id: UUID, destroy_at_ms: int) -> None:
        if self.members.get(str(vm_id), 0) is not None:
            raise InvalidState(f"The VM {vm_id} is not an active member of the group")
        self._draining(vm_id=vm_id, destroy_at_ms=destroy_at_ms)

    @event("MemberDraining")
    def _draining(self, vm_id: UUID, destroy_at_ms: int) -> None:
        self.members = {**self.members, str(vm_id): destroy_at_ms}

    def left(self, vm_id: UUID) -> None:
        if str(vm_id) in self.members:
            self._left(vm_id=vm_id)

    @event("MemberLeft")
    def _left(self, vm_id: UUID) -> None:
        self.members = {k: v for k, v in self.members.items() if k != str(vm_id)}
