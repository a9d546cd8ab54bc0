"""Commands on network ACL lists and their items, their application by the VPC's router, and
the handler of the router's answers.

A change of an item loads the VPC (domain/vpc.py), checks and records it, and in the same save
either asks the VPC's running router to hold the VPC's whole ACL set (with the job that waits
for its answer) or, when no tier uses the list or the router is not running, settles it at once
and finishes the job: there is nothing to apply it to yet, and a router gets the whole set
when it boots (`reapply_after_boot`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome, change
from commands.network_rules import Applying, JobSpec, router_set_route, rule_job
from commands.routers import current_router
from commands.system_vms import host_access, request_id
from domain.errors import InvalidParameter, NotFound
from domain.job import Job, JobStatus
from domain.network import Network
from domain.network_acl import AclItem, AclItemInput, checked_item, is_default_list
from domain.network_rules import ApplyTarget
from domain.system_vm import Role, State, SystemVm
from domain.vpc import Vpc
from stratus.messages import WorkResult

APPLY_FAILED = "Failed to apply network ACLs on the VPC's virtual router"


@dataclass(frozen=True)
class CreateAclList:
    vpc_id: UUID
    name: str
    description: str
    acl_id: UUID = field(default_factory=uuid.uuid4)


def create_acl_list(store: Any, command: CreateAclList) -> Outcome:
    def made(vpc: Vpc) -> None:
        vpc.create_acl_list(command.acl_id, command.name, command.description)

    outcome = change(store, Vpc, command.vpc_id, made, what="vpc")
    return Outcome(outcome.position, command.acl_id)


def delete_acl_list(store: Any, vpc_id: UUID, acl_id: UUID) -> Outcome:
    return change(store, Vpc, vpc_id, lambda v: v.delete_acl_list(acl_id), what="vpc")


@dataclass(frozen=True)
class AddAclItem:
    vpc_id: UUID
    acl_id: UUID
    given: AclItemInput
    job: JobSpec
    item_id: UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class ChangeAclItem:
    vpc_id: UUID
    item_id: UUID
    given: AclItemInput
    job: JobSpec


@dataclass(frozen=True)
class RevokeAclItem:
    vpc_id: UUID
    item_id: UUID
    job: JobSpec


@dataclass(frozen=True)
class ReplaceAcl:
    """Another list on a tier (`network_id`) or a private gateway (`gateway_id`, with the VPC)."""

    network_id: UUID | None
    acl_id: UUID
    job: JobSpec
    gateway: tuple[UUID, UUID] | None = None  # (vpc id, gateway id)


@dataclass(frozen=True)
class ReapplyAcls:
    """Send the VPC's whole set to its router again (restartVPC)."""

    vpc_id: UUID
    job: JobSpec


def _target(store: Any, vpc: Vpc) -> ApplyTarget | None:
    """The VPC's running router, or None when it has none running."""
    router = current_router(store, vpc.id)
    if router is None or router.state != State.RUNNING or router.host_id is None:
        return None
    try:
        access = host_access(store, router.host_id)[0]
    except NotFound:
        return None
    return ApplyTarget(router.id, router.instance_name, access)


def give_up_abandoned(store: Any, vpc: Vpc) -> None:
    """Requests whose job ended unanswered fail as if the router had said so."""
    for request, pending in list(vpc.pending.items()):
        if pending.job_id is None:
            continue
        job = store.get(Job, pending.job_id, what="job")
        if job.status != JobStatus.PENDING:
            vpc.answered(request, False, "the router did not answer before the job ended")


def apply_or_settle(
    store: Any,
    vpc: Vpc,
    spec: JobSpec,
    subject: tuple[UUID, UUID | None],
    changes: tuple[tuple[str, ...], tuple[str, ...]],
    result: dict[str, Any],
    *others: Any,
) -> Applying:
    """Apply on the router (a request with its job) or settle at once (the job succeeds);
    `subject`: the id the job is about, and the ACL list changed (None: every tier)."""
    job = rule_job(spec, subject[0])
    target = _target(store, vpc)
    if target is not None and vpc.needs_router(subject[1]):
        vpc.request_apply(request_id(), job.id, target, changes, result)
    else:
        vpc.settle(changes, ok=True)
        job.succeed(result)
    recordings = store.save(vpc, job, *others)
    return Applying(store.last_position(recordings), subject[0], job.id)


def add_item(store: Any, command: AddAclItem) -> Applying:
    def attempt() -> Applying:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        give_up_abandoned(store, vpc)
        if is_default_list(command.acl_id):
            raise InvalidParameter("Default ACL cannot be modified")
        base = AclItem(
            command.item_id,
            command.acl_id,
            vpc.next_number(command.acl_id),
            command.given.protocol or "",
        )
        key = vpc.add_item(checked_item(base, command.given))
        result = {"object": "networkacl", "id": str(command.item_id)}
        subject = (command.item_id, command.acl_id)
        return apply_or_settle(store, vpc, command.job, subject, ((key,), ()), result)

    outcome: Applying = store.run(attempt)
    return outcome


def change_item(store: Any, command: ChangeAclItem) -> Applying:
    def attempt() -> Applying:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        give_up_abandoned(store, vpc)
        old = vpc.item(command.item_id)
        key = vpc.change_item(checked_item(old, command.given))
        result = {"object": "networkacl", "id": str(old.id)}
        return apply_or_settle(store, vpc, command.job, (old.id, old.acl_id), ((key,), ()), result)

    outcome: Applying = store.run(attempt)
    return outcome


def revoke_item(store: Any, command: RevokeAclItem) -> Applying:
    def attempt() -> Applying:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        give_up_abandoned(store, vpc)
        item = vpc.item(command.item_id)
        key = vpc.revoke_item(item.id)
        subject = (item.id, item.acl_id)
        return apply_or_settle(store, vpc, command.job, subject, ((), (key,)), {"success": True})

    outcome: Applying = store.run(attempt)
    return outcome


def replace_acl(store: Any, command: ReplaceAcl) -> Applying:
    """Apply another ACL list to a tier (the router then holds the tier's new items)."""

    def attempt() -> Applying:
        if command.gateway is not None:
            vpc_id, gateway_id = command.gateway
            gateway_vpc: Vpc = store.get(Vpc, vpc_id, what="vpc")
            give_up_abandoned(store, gateway_vpc)
            gateway_vpc.replace_gateway_acl(gateway_id, command.acl_id)
            subject = (gateway_id, None)
            changes: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
            return apply_or_settle(
                store, gateway_vpc, command.job, subject, changes, {"success": True}
            )
        network: Network = store.get(Network, command.network_id, what="network")
        if network.vpc_id is None:
            raise InvalidParameter(f"Network {network.name} is not part of a VPC")
        vpc: Vpc = store.get(Vpc, network.vpc_id, what="vpc")
        give_up_abandoned(store, vpc)
        vpc.replace_acl(network.id, command.acl_id)
        network.replace_acl(command.acl_id)
        subject = (network.id, None)
        return apply_or_settle(
            store, vpc, command.job, subject, ((), ()), {"success": True}, network
        )

    outcome: Applying = store.run(attempt)
    return outcome


def reapply(store: Any, command: ReapplyAcls) -> Applying:
    def attempt() -> Applying:
        vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
        vpc.check_live()
        give_up_abandoned(store, vpc)
        vpc.restart()
        result = {"object": "vpc", "id": str(vpc.id)}
        return apply_or_settle(store, vpc, command.job, (vpc.id, None), ((), ()), result)

    outcome: Applying = store.run(attempt)
    return outcome


# Results ------------------------------------------------------------------------------------


def on_acls_result(store: Any, result: WorkResult) -> Any:
    """The router's answer to an apply request: settle its items, finish its job."""

    def attempt() -> Any:
        vpc: Vpc = store.get(Vpc, UUID(result.target_id), what="vpc")
        reason = result.error or "the router did not answer"
        pending = vpc.answered(result.request_id, result.ok, reason)
        if pending is None:
            return None  # answered already: a redelivered result changes nothing
        job = store.get(Job, pending.job_id, what="job") if pending.job_id else None
        if job is not None and job.status == JobStatus.PENDING:
            if result.ok:
                job.succeed(pending.result)
            else:
                job.fail("ResourceUnavailable", f"{APPLY_FAILED}: {reason}")
        return store.save(vpc, *([job] if job is not None else []))

    return store.run(attempt)


RESULT_HANDLERS = {"apply_network_acls": on_acls_result}


def reapply_after_boot(store: Any, result: WorkResult) -> None:
    """A VPC router that booted from its image holds no ACLs: its VPC's set goes to it."""
    if not result.ok:
        return
    try:
        router = store.get(SystemVm, UUID(result.target_id), what="router")
    except NotFound:
        return
    if router.role != Role.ROUTER or router.vpc_id is None or router.state != State.RUNNING:
        return
    vpc_id: UUID = router.vpc_id

    def attempt() -> None:
        try:
            vpc: Vpc = store.get(Vpc, vpc_id, what="vpc")
        except NotFound:
            return
        target = _target(store, vpc)
        if vpc.removed or target is None or not vpc.tiers:
            return
        vpc.request_apply(request_id(), None, target, ((), ()), {})
        store.save(vpc)

    store.run(attempt)


FOLLOW_UPS = {"start_system_vm": reapply_after_boot, "upgrade_router": reapply_after_boot}


# Outbox routes ------------------------------------------------------------------------------


def acl_routes(box: Any, prefix: str) -> dict[str, Any]:
    """An apply request names the VPC's router by its instance name on its host."""
    from eventsourcing.utils import get_topic

    vpc: Any = Vpc  # events made by the library's decorator: mypy cannot see them
    route = router_set_route(box, prefix, "apply_network_acls", "acls")
    return {get_topic(vpc.ApplyRequested): route}


OUTBOX_ROUTES = acl_routes
