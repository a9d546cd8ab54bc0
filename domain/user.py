"""User: a person or tool that signs in for an account, by password or by API key."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret


class User(Aggregate):
    """A login of an account; its password is kept only as a salted slow hash."""

    @event("Created")
    def __init__(
        self,
        username: str,
        account_id: UUID,
        domain_id: UUID,
        password_hash: str,
        profile: dict[str, str],
    ) -> None:
        if not username:
            raise InvalidParameter("Username must not be empty")
        self.username = username
        self.account_id = account_id
        self.domain_id = domain_id
        self.password_hash = password_hash
        self.profile = dict(profile)
        self.api_key: str | None = None
        self.secret_key: Secret | None = None
        self.state = "enabled"
        self.removed = False

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"User {self.username} has been removed")

    def update_profile(self, changes: dict[str, str]) -> None:
        self._check_live()
        self._profile_updated(changes=dict(changes))

    @event("ProfileUpdated")
    def _profile_updated(self, changes: dict[str, str]) -> None:
        self.profile.update(changes)

    def rename(self, username: str) -> None:
        self._check_live()
        if not username:
            raise InvalidParameter("Username must not be empty")
        self._renamed(username=username)

    @event("Renamed")
    def _renamed(self, username: str) -> None:
        self.username = username

    def change_password(self, password_hash: str) -> None:
        self._check_live()
        self._password_changed(password_hash=password_hash)

    @event("PasswordChanged")
    def _password_changed(self, password_hash: str) -> None:
        self.password_hash = password_hash

    def register_keys(self, api_key: str, secret_key: Secret) -> None:
        self._check_live()
        self._keys_registered(api_key=api_key, secret_key=secret_key)

    @event("KeysRegistered")
    def _keys_registered(self, api_key: str, secret_key: Secret) -> None:
        self.api_key = api_key
        self.secret_key = secret_key

    def disable(self) -> None:
        self._check_live()
        self._disabled()

    @event("Disabled")
    def _disabled(self) -> None:
        self.state = "disabled"

    def lock(self) -> None:
        self._check_live()
        self._locked()

    @event("Locked")
    def _locked(self) -> None:
        self.state = "locked"

    def enable(self) -> None:
        self._check_live()
        self._enabled()

    @event("Enabled")
    def _enabled(self) -> None:
        self.state = "enabled"

    def remove(self) -> None:
        self._check_live()
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True
