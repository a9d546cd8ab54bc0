"""Remote access VPN on a network's virtual router, and the account's VPN users.

A `RemoteAccessVpn` serves one public address of an isolated network with the Vpn service: an
L2TP/IPsec server on the network's router with a generated pre-shared key (sealed at rest, like
every `Secret`). A `VpnUser` belongs to an account and is given to every VPN of that account.
What the router must hold (the key, the address range, the users and their passwords) is sent
to it by `ApplyRequested`; the router's answer confirms (`Applied`) or fails the request in
flight. Users are billed (usage type 14) from `Added` to `Revoked`.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret

_NAMESPACE = UUID("8e2f4a6b-1c3d-4e5f-a7b9-0c2d4e6f8a1b")
DEFAULT_IP_RANGE = "10.1.2.1-10.1.2.8"  # remote.access.vpn.client.iprange's default
_USERNAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9@._-]{2,63}")
_PASSWORD = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9@#+=._-]{2,31}")


class VpnState:
    ADDED = "Added"
    RUNNING = "Running"
    REMOVED = "Removed"


class VpnUserState:
    ADD = "Add"
    ACTIVE = "Active"
    REVOKE = "Revoke"


def vpn_user_id(account_id: UUID, username: str) -> UUID:
    """A user's id derives from account and name, so the name is unique in the account."""
    return uuid5(_NAMESPACE, f"user:{account_id}:{username.lower()}")


def check_credentials(username: str, password: str) -> None:
    """CloudStack's rules for VPN user names and passwords (the password is never echoed)."""
    if not _USERNAME.fullmatch(username):
        raise InvalidParameter(
            "Username has to be begin with an alphabet have 3-64 characters including "
            "alphabets, numbers and the set '@.-_'"
        )
    if not _PASSWORD.fullmatch(password):
        raise InvalidParameter(
            "Password has to be 3-31 characters including alphabets, numbers and the set '@#+=.-_'"
        )


def parse_ip_range(text: str) -> tuple[str, str]:
    """`first-last` (the first address is the VPN server's); 431 when malformed."""
    parts = text.split("-")
    try:
        first, last = IPv4Address(parts[0].strip()), IPv4Address(parts[-1].strip())
    except ValueError:
        raise InvalidParameter(f"Invalid ip range {text}") from None
    if len(parts) != 2 or first >= last:
        raise InvalidParameter(f"Invalid ip range {text}")
    return str(first), str(last)


class RemoteAccessVpn(Aggregate):
    """A remote access VPN on one public address (of an isolated network, or a VPC's source
    NAT address); one request to its router in flight."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        public_ip_id: UUID,
        public_ip: str,
        network_id: UUID | None,
        owner_account_id: UUID,
        owner_domain_id: UUID,
        zone_id: UUID,
        ip_range: str,
        preshared_key: Secret,
    ) -> None:
        first, _last = parse_ip_range(ip_range)
        self.public_ip_id, self.public_ip, self.network_id = public_ip_id, public_ip, network_id
        self.account_id, self.domain_id, self.zone_id = owner_account_id, owner_domain_id, zone_id
        self.ip_range, self.local_ip = ip_range, first
        self.preshared_key = preshared_key
        self.state = VpnState.ADDED
        self.request_id: str | None = None
        self.job_id: UUID | None = None
        self.removing = False
        self.user_ids: list[str] = []
        self.vpc_id: UUID | None = None

    def serve_vpc(self, vpc_id: UUID) -> None:
        """The VPN is on a VPC's source NAT address: the VPC's router serves it (saved with
        its creation; `network_id` is then None)."""
        self._vpc_served(vpc_id=vpc_id)

    @event("VpcServed")
    def _vpc_served(self, vpc_id: UUID) -> None:
        self.vpc_id = vpc_id

    def _check_live(self) -> None:
        if self.state == VpnState.REMOVED:
            raise InvalidState("The remote access VPN has been removed")

    @property
    def live(self) -> bool:
        return self.state != VpnState.REMOVED and not (self.removing and self.request_id)

    def request_apply(
        self,
        request_id: str,
        job_id: UUID | None,
        target: dict[str, Any],
        users: list[dict[str, Any]],
        *,
        removing: bool = False,
    ) -> None:
        """Send the router what it must serve (`users`: id, username, password as `Secret`),
        or, `removing`, ask it to stop serving; `target` is the router's host and name. A new
        request supersedes one in flight (each carries the whole state), except a removal."""
        self._check_live()
        if self.removing and self.request_id is not None:
            raise InvalidState(f"The remote access VPN on {self.public_ip} is being removed")
        self._apply_requested(
            request_id=request_id,
            job_id=job_id,
            preshared_key=self.preshared_key,
            public_ip=self.public_ip,
            ip_range=self.ip_range,
            local_ip=self.local_ip,
            users=list(users),
            removing=removing,
            **target,
        )

    @event("ApplyRequested")
    def _apply_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        preshared_key: Secret,
        public_ip: str,
        ip_range: str,
        local_ip: str,
        users: list[dict[str, Any]],
        removing: bool,
        host_id: UUID,
        url: str,
        username: str,
        password: Secret,
        hypervisor: str,
        instance_name: str,
    ) -> None:
        self.request_id, self.removing = request_id, removing
        self.job_id = job_id or self.job_id
        self.user_ids = [str(u["id"]) for u in users]

    def is_current(self, request_id: str) -> bool:
        return request_id == self.request_id

    def confirm(self, request_id: str) -> None:
        state = VpnState.REMOVED if self.removing else VpnState.RUNNING
        self._applied(request_id=request_id, state=state)

    @event("Applied")
    def _applied(self, request_id: str, state: str) -> None:
        self.state, self.request_id, self.job_id = state, None, None

    def fail(self, request_id: str, reason: str) -> None:
        """A VPN that never ran is removed (it can be created again); others stay as they were."""
        state = VpnState.REMOVED if self.state == VpnState.ADDED else self.state
        self._apply_failed(request_id=request_id, reason=reason, state=state)

    @event("ApplyFailed")
    def _apply_failed(self, request_id: str, reason: str, state: str) -> None:
        self.state, self.request_id, self.job_id = state, None, None

    def remove_at_once(self) -> None:
        """No router can act (it is gone or stopped): the record alone changes."""
        self._check_live()
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.state, self.request_id, self.job_id = VpnState.REMOVED, None, None


class VpnUser(Aggregate):
    """A VPN user of an account: its name and its password (sealed at rest, never shown)."""

    @event("Added")
    def __init__(
        self,
        id: UUID,
        username: str,
        password: Secret,
        owner_account_id: UUID,
        owner_domain_id: UUID,
    ) -> None:
        check_credentials(username, password.reveal())
        self.username, self.password = username, password
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self.state = VpnUserState.ADD
        self.removed = False

    def add_again(self, password: Secret) -> None:
        """The same name, once removed, may be added again."""
        if not self.removed:
            raise InvalidParameter(f"VPN User with name {self.username} is already added")
        check_credentials(self.username, password.reveal())
        self._added_again(password=password)

    @event("AddedAgain")
    def _added_again(self, password: Secret) -> None:
        self.password, self.state, self.removed = password, VpnUserState.ADD, False

    def activate(self) -> None:
        """A router now serves this user."""
        if not self.removed and self.state == VpnUserState.ADD:
            self._activated()

    @event("Activated")
    def _activated(self) -> None:
        self.state = VpnUserState.ACTIVE

    def revoke(self) -> None:
        if self.removed or self.state == VpnUserState.REVOKE:
            raise InvalidState(f"VPN user {self.username} is being removed already")
        self._revoked()

    @event("Revoked")
    def _revoked(self) -> None:
        self.state = VpnUserState.REVOKE

    def drop(self) -> None:
        """No router serves the user any more: gone for good."""
        if not self.removed and self.state == VpnUserState.REVOKE:
            self._dropped()

    @event("Dropped")
    def _dropped(self) -> None:
        self.removed = True


class KeyDisclosure(Aggregate):
    """That a VPN's pre-shared key was shown in its create job's answer.

    It exists at most once per VPN (its id comes from the VPN's), so of all the answers of
    that job, from however many API processes, exactly one records it and shows the key.
    """

    @staticmethod
    def create_id(vpn_id: UUID) -> UUID:
        return uuid5(vpn_id, "preshared-key-disclosure")

    @event("Recorded")
    def __init__(self, vpn_id: UUID, user_id: UUID) -> None:
        self.vpn_id, self.user_id = vpn_id, user_id
