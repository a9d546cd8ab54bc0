"""Account: who owns resources; its type makes it a user, a domain admin or a root admin."""

from __future__ import annotations

from enum import IntEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState


class AccountType(IntEnum):
    USER = 0
    ROOT_ADMIN = 1
    DOMAIN_ADMIN = 2
    PROJECT = 5  # a project's own account: it owns the project's resources and has no users


class AccountState:
    ENABLED = "enabled"
    DISABLED = "disabled"
    LOCKED = "locked"


class Account(Aggregate):
    """A tenant account inside a domain."""

    @event("Created")
    def __init__(self, name: str, domain_id: UUID, account_type: int, network_domain: str) -> None:
        if not name:
            raise InvalidParameter("Account name must not be empty")
        if account_type not in tuple(AccountType):
            raise InvalidParameter(f"Invalid account type {account_type}")
        self.name = name
        self.domain_id = domain_id
        self.account_type = int(account_type)
        self.network_domain = network_domain
        self.state = AccountState.ENABLED
        self.removed = False
        self.user_ids: list[UUID] = []
        self.default_zone_id: UUID | None = None
        self.needs_cleanup = False
        self.details: dict[str, str] = {}

    @property
    def is_root_admin(self) -> bool:
        return self.account_type == AccountType.ROOT_ADMIN

    @property
    def is_project(self) -> bool:
        return self.account_type == AccountType.PROJECT

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"Account {self.name} has been removed")

    def rename(self, name: str) -> None:
        self._check_live()
        if not name:
            raise InvalidParameter("Account name must not be empty")
        self._renamed(name=name)

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    @event("NetworkDomainChanged")
    def change_network_domain(self, network_domain: str) -> None:
        self.network_domain = network_domain

    def update_details(self, details: dict[str, str]) -> None:
        """Sets the given details (4.3's `accountdetails`), keeping the others."""
        if not details:
            return
        self._check_live()
        if not all(details):
            raise InvalidParameter("An account detail needs a key")
        self._details_updated(details=dict(details))

    @event("DetailsUpdated")
    def _details_updated(self, details: dict[str, str]) -> None:
        self.details = {**getattr(self, "details", {}), **details}

    def mark_default_zone(self, zone_id: UUID) -> None:
        """The zone the account's users start in (markDefaultZoneForAccount)."""
        self._check_live()
        self._default_zone_marked(zone_id=zone_id)

    @event("DefaultZoneMarked")
    def _default_zone_marked(self, zone_id: UUID) -> None:
        self.default_zone_id = zone_id

    def disable(self, lock: bool) -> None:
        self._check_live()
        self._disabled(state=AccountState.LOCKED if lock else AccountState.DISABLED)

    def lock(self) -> None:
        """Locks an enabled account; a locked one stays as it is, a disabled one is refused."""
        self._check_live()
        if self.state == AccountState.LOCKED:
            return
        if self.state != AccountState.ENABLED:
            raise InvalidState(f"Account {self.name} is {self.state}: only an enabled one locks")
        # A lock is a disabling that leaves the account's VMs running: the same fact, its state.
        self._disabled(state=AccountState.LOCKED)

    @event("Disabled")
    def _disabled(self, state: str) -> None:
        self.state = state

    def record_stops(self, complete: bool) -> None:
        """What disabling stopped: an account whose VMs could not all be stopped is marked as
        needing cleanup (4.3's `needsCleanup`), and the mark goes once a disabling stops them."""
        self._check_live()
        if getattr(self, "needs_cleanup", False) == (not complete):
            return
        self._cleanup_marked(required=not complete)

    @event("CleanupMarked")
    def _cleanup_marked(self, required: bool) -> None:
        self.needs_cleanup = required

    def enable(self) -> None:
        self._check_live()
        self._enabled()
        if getattr(self, "needs_cleanup", False):  # 4.3's enabling clears the mark too
            self._cleanup_marked(required=False)

    @event("Enabled")
    def _enabled(self) -> None:
        self.state = AccountState.ENABLED

    @event("UserAttached")
    def attach_user(self, user_id: UUID) -> None:
        self.user_ids.append(user_id)

    @event("UserDetached")
    def detach_user(self, user_id: UUID) -> None:
        self.user_ids.remove(user_id)

    def remove(self) -> None:
        self._check_live()
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True
