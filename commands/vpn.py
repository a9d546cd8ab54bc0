"""Commands on remote access VPNs and VPN users, and the router's answers to them.

What a router must serve travels as `RemoteAccessVpn.ApplyRequested`: the pre-shared key, the
address range and every user of the account with their password, all sealed at rest; the relay
seals them again, with the host's credentials, for the adapter (`configure_remote_access_vpn`).
Each request carries the whole state, so a newer one supersedes one in flight.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from commands import Outcome
from commands.names import claimed
from domain.errors import NotFound, ResourceUnavailable
from domain.host import Host, HostState
from domain.job import Job, JobStatus
from domain.names import NameClaim, claim_id
from domain.system_vm import State, SystemVm
from domain.values import Secret
from domain.vpn import KeyDisclosure, RemoteAccessVpn, VpnState, VpnUser, vpn_user_id
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work

CLAIM_KIND = "remote-access-vpn"
APPLY_ACTION = "configure_remote_access_vpn"


def vpn_result(vpn_id: UUID) -> dict[str, Any]:
    return {"object": "remoteaccessvpn", "id": str(vpn_id)}


def _job(store: Any, job_id: UUID | None) -> Job | None:
    return store.get(Job, job_id, what="job") if job_id else None


def router_target(store: Any, router_id: UUID | None) -> dict[str, Any] | None:
    """The running router's host and instance name, or None when it cannot act now."""
    if router_id is None:
        return None
    try:
        router: SystemVm = store.get(SystemVm, router_id, what="router")
        host: Host | None = None
        if router.host_id is not None:
            host = store.get(Host, router.host_id, what="host")
    except NotFound:
        return None
    if router.state != State.RUNNING or host is None or host.state != HostState.UP:
        return None
    return {
        "host_id": host.id,
        "url": host.url,
        "username": host.username,
        "password": host.password,
        "hypervisor": host.hypervisor,
        "instance_name": router.instance_name,
    }


def _served_users(store: Any, user_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    """The users a router serves: present and not being removed."""
    users: list[dict[str, Any]] = []
    for user_id in user_ids:
        try:
            user: VpnUser = store.get(VpnUser, user_id, what="VPN user")
        except NotFound:
            continue
        if not user.removed and user.state != "Revoke":
            users.append({"id": str(user.id), "username": user.username, "password": user.password})
    return users


# Remote access VPNs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRemoteAccessVpn:
    vpn_id: UUID
    public_ip_id: UUID
    public_ip: str
    network_id: UUID | None  # None on a VPC's address (`vpc_id`)
    account_id: UUID
    domain_id: UUID
    zone_id: UUID
    ip_range: str
    preshared_key: Secret
    router_id: UUID | None
    user_ids: tuple[UUID, ...] = ()
    job_id: UUID | None = None
    vpc_id: UUID | None = None


def create_vpn(store: Any, command: CreateRemoteAccessVpn) -> Outcome:
    """Record the VPN (one per public address) and send it to the network's router."""

    def attempt() -> Outcome:
        target = router_target(store, command.router_id)
        if target is None:
            where = f"VPC {command.vpc_id}" if command.vpc_id else f"network {command.network_id}"
            raise ResourceUnavailable(
                f"Unable to apply the remote access VPN: the virtual router of {where} is not "
                "running"
            )
        claim = _claim(store, command.public_ip_id, command.vpn_id)
        vpn = RemoteAccessVpn(
            command.vpn_id,
            command.public_ip_id,
            command.public_ip,
            command.network_id,
            command.account_id,
            command.domain_id,
            command.zone_id,
            command.ip_range,
            command.preshared_key,
        )
        if command.vpc_id is not None:
            vpn.serve_vpc(command.vpc_id)
        users = _served_users(store, command.user_ids)
        vpn.request_apply(uuid.uuid4().hex, command.job_id, target, users)
        return Outcome(store.last_position(store.save(vpn, claim)), vpn.id)

    result: Outcome = store.run(attempt)
    return result


def _claim(store: Any, public_ip_id: UUID, vpn_id: UUID) -> NameClaim:
    what = "A Remote Access VPN for this public ip address"
    return claimed(store, CLAIM_KIND, str(public_ip_id), vpn_id, what)


def _release_claim(store: Any, vpn: RemoteAccessVpn) -> list[Any]:
    try:
        claim: NameClaim = store.get(NameClaim, claim_id(CLAIM_KIND, str(vpn.public_ip_id)))
    except NotFound:
        return []
    if claim.owner_id != vpn.id:
        return []
    claim.release()
    return [claim]


def delete_vpn(store: Any, vpn_id: UUID, router_id: UUID | None, job_id: UUID | None) -> Outcome:
    """Ask the router to stop serving; with no running router the record alone goes."""

    def attempt() -> Outcome:
        vpn: RemoteAccessVpn = store.get(RemoteAccessVpn, vpn_id, what="remote access VPN")
        target = router_target(store, router_id)
        if target is not None:
            vpn.request_apply(uuid.uuid4().hex, job_id, target, [], removing=True)
            return Outcome(store.last_position(store.save(vpn)), vpn.id)
        vpn.remove_at_once()
        job = _job(store, job_id)
        if job is not None:
            job.succeed({"success": True})
        changed = [vpn, *_release_claim(store, vpn), *([job] if job else [])]
        return Outcome(store.last_position(store.save(*changed)), vpn.id)

    result: Outcome = store.run(attempt)
    return result


def refresh_vpns(
    store: Any, vpns: Sequence[tuple[UUID, UUID | None]], user_ids: Sequence[UUID]
) -> int:
    """Send every live VPN (id, its router) of an account its users again; the position."""
    position = 0
    for vpn_id, router_id in vpns:

        def attempt(vpn_id: UUID = vpn_id, router_id: UUID | None = router_id) -> int:
            vpn: RemoteAccessVpn = store.get(RemoteAccessVpn, vpn_id, what="remote access VPN")
            target = router_target(store, router_id)
            if not vpn.live or target is None:
                return 0
            vpn.request_apply(uuid.uuid4().hex, None, target, _served_users(store, user_ids))
            return int(store.last_position(store.save(vpn)))

        position = max(position, store.run(attempt))
    return position


# VPN users ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddVpnUser:
    username: str
    password: Secret
    account_id: UUID
    domain_id: UUID


def add_user(store: Any, command: AddVpnUser) -> Outcome:
    """A new user (a removed name may be added again); refused when the name is taken."""

    def attempt() -> Outcome:
        user_id = vpn_user_id(command.account_id, command.username)
        try:
            user: VpnUser = store.get(VpnUser, user_id, what="VPN user")
            user.add_again(command.password)
        except NotFound:
            user = VpnUser(
                user_id, command.username, command.password, command.account_id, command.domain_id
            )
        return Outcome(store.last_position(store.save(user)), user.id)

    result: Outcome = store.run(attempt)
    return result


def remove_user(store: Any, user_id: UUID) -> Outcome:
    """The user is revoked (its usage ends) and gone; routers are told by `refresh_vpns`."""

    def attempt() -> Outcome:
        user: VpnUser = store.get(VpnUser, user_id, what="VPN user")
        user.revoke()
        user.drop()
        return Outcome(store.last_position(store.save(user)), user.id)

    result: Outcome = store.run(attempt)
    return result


def disclose_key(store: Any, vpn_id: UUID, user_id: UUID) -> bool:
    """Whether this answer is the one that shows the VPN's pre-shared key: True once, for the
    answer that records the disclosure; every other (earlier record, or a concurrent one that
    lost the race to record it, in this process or another) is False."""
    disclosure_id = KeyDisclosure.create_id(vpn_id)
    try:
        store.get(KeyDisclosure, disclosure_id)
        return False
    except NotFound:
        pass
    try:
        store.save(KeyDisclosure(vpn_id=vpn_id, user_id=user_id))
    except IntegrityError:  # another answer recorded it first
        return False
    return True


# Messages and results --------------------------------------------------------------------------


def vpn_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """`ApplyRequested` becomes a `configure_remote_access_vpn` request to the router's host;
    the key and the users' passwords travel sealed with the host's credentials."""

    def apply(e: Any) -> Outgoing:
        secrets = {
            "preshared_key": e.preshared_key.reveal(),
            "users": [
                {"username": u["username"], "password": u["password"].reveal()} for u in e.users
            ],
        }
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=APPLY_ACTION,
            target_id=str(e.originator_id),
            params={
                "host_id": str(e.host_id),
                "name": e.instance_name,
                "public_ip": e.public_ip,
                "local_ip": e.local_ip,
                "ip_range": e.ip_range,
                "removing": e.removing,
            },
            sealed_credentials=seal_credentials(
                box, e.url, e.username, e.password.reveal(), secrets=secrets
            ),
            **origin(e),
        )
        return work(request, prefix)

    vpn: Any = RemoteAccessVpn  # events made by the library's decorator: mypy cannot see them
    return {get_topic(vpn.ApplyRequested): apply}


OUTBOX_ROUTES = vpn_routes


def on_vpn_result(store: Any, result: WorkResult) -> Outcome:
    """The router's answer to the request in flight: the VPN runs (its users are active) or is
    removed, or the request failed; the job, if any, finishes with it."""

    def attempt() -> Outcome:
        vpn: RemoteAccessVpn = store.get(RemoteAccessVpn, UUID(result.target_id))
        if not vpn.is_current(result.request_id):
            return Outcome(0, vpn.id)
        job = _job(store, vpn.job_id)
        changed: list[Any] = [vpn]
        if result.ok:
            vpn.confirm(result.request_id)
            changed += _activated(store, vpn)
        else:
            vpn.fail(result.request_id, result.error or "the router did not answer")
        if vpn.state == VpnState.REMOVED:
            changed += _release_claim(store, vpn)
        if job is not None and job.status == JobStatus.PENDING:
            _finish(job, vpn, result)
            changed.append(job)
        return Outcome(store.last_position(store.save(*changed)), vpn.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def _activated(store: Any, vpn: RemoteAccessVpn) -> list[Any]:
    if vpn.state != VpnState.RUNNING:
        return []
    changed = []
    for user_id in vpn.user_ids:
        try:
            user: VpnUser = store.get(VpnUser, UUID(user_id), what="VPN user")
        except NotFound:
            continue
        user.activate()
        if user.pending_events:
            changed.append(user)
    return changed


def _finish(job: Job, vpn: RemoteAccessVpn, result: WorkResult) -> None:
    if result.ok:
        job.succeed({"success": True} if vpn.removing else vpn_result(vpn.id))
    else:
        verb = "remove" if vpn.removing else "apply"
        job.fail(
            "ResourceUnavailable",
            f"Unable to {verb} the remote access VPN on {vpn.public_ip}: {result.error}",
        )


RESULT_HANDLERS = {APPLY_ACTION: on_vpn_result}
