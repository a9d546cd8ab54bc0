"""Authentication: API-key signatures and login sessions, behind the failure brake."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.access import Caller
from api.brake import FailureBrake
from api.directory import directory
from api.errors import AuthenticationFailed, LoginFailed
from api.signing import SignaturePolicy, api_key, verify
from commands.passwords import verify_password
from domain.account import AccountType
from projections.projects import member_project_accounts
from stratus.db import Database
from stratus.store.secrets import SecretBox

log = logging.getLogger(__name__)

SESSION_TIMEOUT = 1800
COOKIE = "JSESSIONID"

_USER_COLUMNS = (
    "u.id, u.username, u.account_id, u.account_name, u.account_type, u.domain_id, "
    "u.domain_path, u.state AS user_state, a.state AS account_state, u.password_hash, "
    "u.sealed_secret_key, u.firstname, u.lastname, u.timezone, u.removed, "
    "a.removed AS account_removed, u.session_epoch AS user_epoch, a.session_epoch AS account_epoch"
)


@dataclass
class Session:
    """A login, good while its user's and account's session epochs stay as they were."""

    caller: Caller
    key: str
    expires: float
    epochs: tuple[int, int]


class Sessions:
    """Login sessions held by this API process (signed requests work on any process)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, caller: Caller, epochs: tuple[int, int]) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(24)
        expires = time.monotonic() + SESSION_TIMEOUT
        session = Session(caller, secrets.token_urlsafe(24), expires, epochs)
        with self._lock:
            self._by_id[session_id] = session
        return session_id, session

    def find(self, session_id: str | None, key: str | None) -> Session | None:
        if not session_id or not key:
            return None
        with self._lock:
            session = self._by_id.get(session_id)
            if session is None or session.expires < time.monotonic():
                self._by_id.pop(session_id, None)
                return None
            if not secrets.compare_digest(session.key, key):
                self._by_id.pop(session_id, None)  # a wrong key ends the session, as in CloudStack
                return None
            session.expires = time.monotonic() + SESSION_TIMEOUT
            return session

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._by_id.pop(session_id or "", None)


class Authenticator:
    """Turns a request's credentials into a Caller, or refuses it with a 401."""

    def __init__(self, db: Database, box: SecretBox, policy: SignaturePolicy | None = None) -> None:
        self.db, self.box = db, box
        self.policy = policy or SignaturePolicy()
        self.sessions = Sessions()
        self.brake = FailureBrake()

    def by_signature(self, params: Mapping[str, str], now: datetime, remote: str) -> Caller:
        claimed = (value for name, value in params.items() if name.lower() == "apikey")
        principal = "key:" + "\n".join(claimed)
        self.brake.check(remote, principal)
        try:
            key = api_key(params)
            row = self._user_by_key(key) if key else None
            if row is None or not row["sealed_secret_key"]:
                raise AuthenticationFailed("unknown api key")
            verify(params, self.box.open(row["sealed_secret_key"]), now=now, policy=self.policy)
            self._check_enabled(row)
        except AuthenticationFailed as error:
            self.brake.failed(remote, principal)
            log.info("refused a signed request from %s: %s", remote, error)
            raise
        return Caller.from_row(row)

    def by_session(self, session_id: str | None, key: str | None) -> tuple[Caller, str]:
        session = self.sessions.find(session_id, key)
        if session is None:
            raise AuthenticationFailed("no valid session")
        # The state that ends a session lives in the read model, shared by every API process:
        # disabling, locking, deleting or a new password made anywhere ends it here too.
        row = self._user_by_id(session.caller.user_id)
        try:
            if row is None or _epochs(row) != session.epochs:
                raise AuthenticationFailed("the session's credentials were taken away")
            self._check_enabled(row)
        except AuthenticationFailed:
            self.sessions.close(session_id)
            raise
        return Caller.from_row(row), session.key

    def login(
        self,
        username: str,
        password: str,
        domain_path: str | None,
        domain_id: str | None,
        remote: str,
    ) -> tuple[str, Session, dict[str, Any]]:
        principal = f"login:{domain_id or _normalise_path(domain_path)}:{username}"
        self.brake.check(remote, principal)
        row = self._user_by_name(username, domain_path, domain_id)
        if row is None or not self._password_holds(row, password):
            self.brake.failed(remote, principal)
            log.info("failed login for %r from %s", username, remote)
            raise LoginFailed(username)
        try:
            self._check_enabled(row)
        except AuthenticationFailed:
            raise LoginFailed(username) from None
        session_id, session = self.sessions.open(Caller.from_row(row), _epochs(row))
        return session_id, session, row

    def _password_holds(self, row: dict[str, Any], password: str) -> bool:
        """The user's own password, else (when LDAP is configured) the directory's: the
        directory is asked to bind as the user of that name, as 4.3's LDAP authenticator does.
        The password is never kept."""
        if verify_password(password, row["password_hash"]):
            return True
        with self.db.read() as cursor:
            found = directory(cursor, self.box)
        return found is not None and found.authenticate(row["username"], password)

    def acting_user(self, user_id: str) -> Caller:
        """The caller a server process acts as for a user (autoscale's autoscale user): only
        an enabled user of an enabled account."""
        row = self._user_by_id(user_id)
        if row is None:
            raise AuthenticationFailed("unknown user")
        self._check_enabled(row)
        return Caller.from_row(row)

    def _check_enabled(self, row: dict[str, Any]) -> None:
        if row["removed"] or row["account_removed"]:
            raise AuthenticationFailed("user or account is deleted")
        if row["user_state"] != "enabled" or row["account_state"] != "enabled":
            raise AuthenticationFailed("user or account is disabled")

    def _user_by_id(self, user_id: str) -> dict[str, Any] | None:
        with self.db.read() as cursor:
            row = cursor.execute(
                f"SELECT {_USER_COLUMNS} FROM users AS u JOIN accounts AS a "
                "ON a.id = u.account_id WHERE u.id = %s",
                (user_id,),
            ).fetchone()
            return _with_projects(cursor, row)

    def _user_by_key(self, key: str) -> dict[str, Any] | None:
        with self.db.read() as cursor:
            row = cursor.execute(
                f"SELECT {_USER_COLUMNS} FROM users AS u JOIN accounts AS a "
                "ON a.id = u.account_id WHERE u.api_key = %s AND u.removed = 0",
                (key,),
            ).fetchone()
            return _with_projects(cursor, row)

    def _user_by_name(
        self, username: str, domain_path: str | None, domain_id: str | None
    ) -> dict[str, Any] | None:
        column, value = (
            ("u.domain_id", domain_id)
            if domain_id
            else ("u.domain_path", _normalise_path(domain_path))
        )
        with self.db.read() as cursor:
            row = cursor.execute(
                f"SELECT {_USER_COLUMNS} FROM users AS u JOIN accounts AS a "
                f"ON a.id = u.account_id WHERE u.username = %s AND {column} = %s "
                "AND u.removed = 0",
                (username, value),
            ).fetchone()
            return _with_projects(cursor, row)


def _with_projects(cursor: Any, row: dict[str, Any] | None) -> dict[str, Any] | None:
    """The user's row with the accounts of the projects its account is a member of (which only
    a plain user's reach needs: administrators reach projects by their domains)."""
    if row is not None and int(row["account_type"]) == AccountType.USER:
        row = {**row, "project_accounts": member_project_accounts(cursor, row["account_id"])}
    return row


def _epochs(row: dict[str, Any]) -> tuple[int, int]:
    return int(row["user_epoch"]), int(row["account_epoch"])


def _normalise_path(path: str | None) -> str:
    """`child` or `/child` or `/child/` → `/child/`; nothing → `/` (ROOT)."""
    if not path or path == "/":
        return "/"
    return "/" + path.strip("/") + "/"
