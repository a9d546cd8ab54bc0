"""Commands on domains, accounts and users, and the first-start bootstrap of ROOT and admin."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome, change, check_fresh
from commands.names import claimed
from commands.passwords import hash_password
from domain.account import Account, AccountType
from domain.domains import ROOT_PATH, Domain, child_path
from domain.errors import InvalidParameter, NotFound
from domain.given_ids import created
from domain.names import NameClaim, claim_id
from domain.user import User
from domain.values import Secret

ROOT_CLAIM = ("domain", ROOT_PATH)


def _release(store: Any, kind: str, key: str) -> NameClaim | None:
    try:
        claim = store.repository.get(claim_id(kind, key))
    except AggregateNotFoundError:
        return None
    claim.release()
    return claim


def root_domain_id(store: Any) -> UUID | None:
    try:
        return store.repository.get(claim_id(*ROOT_CLAIM)).owner_id
    except AggregateNotFoundError:
        return None


@dataclass(frozen=True)
class CreateDomain:
    name: str
    parent_id: UUID
    network_domain: str = ""
    domain_id: UUID | None = None  # given by another system; else a new one


def create_domain(store: Any, command: CreateDomain) -> Outcome:
    def attempt() -> Outcome:
        parent = store.get(Domain, command.parent_id, what="parent domain")
        if parent.removed:
            raise NotFound(f"Unable to find parent domain with id {command.parent_id}")
        path = child_path(parent.path, command.name)
        check_fresh(store, command.domain_id)
        domain = created(
            Domain,
            command.domain_id,
            name=command.name,
            parent_id=parent.id,
            path=path,
            network_domain=command.network_domain,
        )
        claim = claimed(store, "domain", path, domain.id, f"Domain with name {command.name}")
        parent.attach_child(domain.id)
        return Outcome(store.last_position(store.save(domain, parent, claim)), domain.id)

    return store.run(attempt)


@dataclass(frozen=True)
class UpdateDomain:
    domain_id: UUID
    name: str | None = None
    network_domain: str | None = None


def update_domain(store: Any, command: UpdateDomain) -> Outcome:
    def attempt() -> Outcome:
        domain = store.get(Domain, command.domain_id, what="domain")
        changed: list[Any] = [domain]
        if command.name is not None and command.name != domain.name:
            old_path = domain.path
            domain.rename(command.name)
            parent = store.get(Domain, domain.parent_id)
            new_path = child_path(parent.path, command.name)
            changed.append(
                claimed(store, "domain", new_path, domain.id, f"Domain with name {command.name}")
            )
            released = _release(store, "domain", old_path)
            changed += [released] if released else []
        if command.network_domain is not None:
            domain.change_network_domain(command.network_domain)
        return Outcome(store.last_position(store.save(*changed)), domain.id)

    return store.run(attempt)


@dataclass(frozen=True)
class DeleteDomain:
    domain_id: UUID
    cleanup: bool = False


def delete_domain(store: Any, command: DeleteDomain) -> Outcome:
    """Remove a domain; with cleanup, its sub-domains, accounts and users go first."""
    position = 0
    domain = store.get(Domain, command.domain_id, what="domain")
    if domain.is_root:
        raise InvalidParameter("Can't delete the ROOT domain")
    if command.cleanup:
        for account_id in list(domain.account_ids):
            position = delete_account(store, DeleteAccount(account_id)).position
        for child_id in list(domain.child_ids):
            position = delete_domain(store, DeleteDomain(child_id, cleanup=True)).position

    def attempt() -> Outcome:
        target = store.get(Domain, command.domain_id, what="domain")
        parent = store.get(Domain, target.parent_id)
        target.remove()
        parent.detach_child(target.id)
        released = _release(store, "domain", target.path)
        saved = [target, parent] + ([released] if released else [])
        return Outcome(store.last_position(store.save(*saved)), target.id)

    outcome = store.run(attempt)
    return Outcome(max(position, outcome.position), outcome.id)


@dataclass(frozen=True)
class UserProfile:
    username: str
    password: str = field(repr=False)
    email: str = ""
    firstname: str = ""
    lastname: str = ""
    timezone: str = ""

    def fields(self) -> dict[str, str]:
        return {
            "email": self.email,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "timezone": self.timezone,
        }


@dataclass(frozen=True)
class CreateAccount:
    domain_id: UUID
    account_type: int
    user: UserProfile
    account_name: str | None = None
    network_domain: str = ""
    account_id: UUID | None = None  # given by another system; else a new one
    user_id: UUID | None = None  # the first user's, likewise
    details: dict[str, str] = field(default_factory=dict)


def create_account(store: Any, command: CreateAccount) -> Outcome:
    """Create an account with its first user, as CloudStack's createAccount does."""
    name = command.account_name or command.user.username
    password_hash = hash_password(command.user.password)

    def attempt() -> Outcome:
        domain = store.get(Domain, command.domain_id, what="domain")
        if domain.removed:
            raise NotFound(f"Unable to find domain with id {command.domain_id}")
        if command.account_id is not None and command.account_id == command.user_id:
            raise InvalidParameter("The account and its user cannot be given one id")
        check_fresh(store, command.account_id)
        check_fresh(store, command.user_id)
        account = created(
            Account,
            command.account_id,
            name=name,
            domain_id=domain.id,
            account_type=command.account_type,
            network_domain=command.network_domain,
        )
        user = _new_user(command.user_id, command.user, account, password_hash)
        account.update_details(command.details)
        account.attach_user(user.id)
        domain.attach_account(account.id)
        claims = [
            claimed(
                store,
                "account",
                f"{domain.id}/{name}",
                account.id,
                f"The account {name} in domain {domain.name}",
            ),
            claimed(
                store,
                "user",
                f"{domain.id}/{command.user.username}",
                user.id,
                f"The user {command.user.username} in domain {domain.name}",
            ),
        ]
        saved = store.save(account, user, domain, *claims)
        return Outcome(store.last_position(saved), account.id)

    return store.run(attempt)


@dataclass(frozen=True)
class UpdateAccount:
    account_id: UUID
    new_name: str | None = None
    network_domain: str | None = None
    details: dict[str, str] = field(default_factory=dict)


def update_account(store: Any, command: UpdateAccount) -> Outcome:
    def attempt() -> Outcome:
        account = store.get(Account, command.account_id, what="account")
        changed: list[Any] = [account]
        if command.new_name and command.new_name != account.name:
            changed.append(
                claimed(
                    store,
                    "account",
                    f"{account.domain_id}/{command.new_name}",
                    account.id,
                    f"The account {command.new_name}",
                )
            )
            released = _release(store, "account", f"{account.domain_id}/{account.name}")
            changed += [released] if released else []
            account.rename(command.new_name)
        if command.network_domain is not None:
            account.change_network_domain(command.network_domain)
        account.update_details(command.details)
        return Outcome(store.last_position(store.save(*changed)), account.id)

    return store.run(attempt)


@dataclass(frozen=True)
class SetAccountState:
    account_id: UUID
    enabled: bool
    lock: bool = False


def set_account_state(store: Any, command: SetAccountState) -> Outcome:
    def apply(account: Account) -> None:
        account.enable() if command.enabled else account.disable(command.lock)

    return change(store, Account, command.account_id, apply, what="account")


@dataclass(frozen=True)
class RecordAccountStops:
    """What a disabling stopped: `complete` False marks the account as needing cleanup."""

    account_id: UUID
    complete: bool


def record_account_stops(store: Any, command: RecordAccountStops) -> Outcome:
    def apply(account: Account) -> None:
        account.record_stops(command.complete)

    return change(store, Account, command.account_id, apply, what="account")


@dataclass(frozen=True)
class LockAccount:
    account_id: UUID


def lock_account(store: Any, command: LockAccount) -> Outcome:
    return change(store, Account, command.account_id, Account.lock, what="account")


@dataclass(frozen=True)
class DeleteAccount:
    account_id: UUID


def delete_account(store: Any, command: DeleteAccount) -> Outcome:
    def attempt() -> Outcome:
        account = store.get(Account, command.account_id, what="account")
        domain = store.get(Domain, account.domain_id)
        changed: list[Any] = [account, domain]
        for user_id in list(account.user_ids):
            user = store.get(User, user_id)
            changed += _remove_user(store, user, account)
        account.remove()
        domain.detach_account(account.id)
        released = _release(store, "account", f"{domain.id}/{account.name}")
        changed += [released] if released else []
        return Outcome(store.last_position(store.save(*changed)), account.id)

    return store.run(attempt)


def _remove_user(store: Any, user: User, account: Account) -> list[Any]:
    user.remove()
    account.detach_user(user.id)
    releases = [_release(store, "user", f"{user.domain_id}/{user.username}")]
    if user.api_key:
        releases.append(_release(store, "apikey", _key_claim(user.api_key)))
    return [user] + [claim for claim in releases if claim]


@dataclass(frozen=True)
class CreateUser:
    account_id: UUID
    user: UserProfile
    user_id: UUID | None = None  # given by another system; else a new one


def create_user(store: Any, command: CreateUser) -> Outcome:
    password_hash = hash_password(command.user.password)

    def attempt() -> Outcome:
        account = store.get(Account, command.account_id, what="account")
        check_fresh(store, command.user_id)
        user = _new_user(command.user_id, command.user, account, password_hash)
        account.attach_user(user.id)
        claim = claimed(
            store,
            "user",
            f"{account.domain_id}/{command.user.username}",
            user.id,
            f"The user {command.user.username}",
        )
        return Outcome(store.last_position(store.save(user, account, claim)), user.id)

    return store.run(attempt)


def _new_user(
    user_id: UUID | None, profile: UserProfile, account: Account, password_hash: str
) -> User:
    return created(
        User,
        user_id,
        username=profile.username,
        account_id=account.id,
        domain_id=account.domain_id,
        password_hash=password_hash,
        profile=profile.fields(),
    )


@dataclass(frozen=True)
class UpdateUser:
    user_id: UUID
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    profile: dict[str, str] = field(default_factory=dict)
    keys: tuple[str, Secret] | None = field(default=None, repr=False)  # set by an admin's hand


def update_user(store: Any, command: UpdateUser) -> Outcome:
    password_hash = hash_password(command.password) if command.password else None

    def attempt() -> Outcome:
        user = store.get(User, command.user_id, what="user")
        changed: list[Any] = [user]
        if command.username and command.username != user.username:
            changed.append(
                claimed(
                    store,
                    "user",
                    f"{user.domain_id}/{command.username}",
                    user.id,
                    f"The user {command.username}",
                )
            )
            released = _release(store, "user", f"{user.domain_id}/{user.username}")
            changed += [released] if released else []
            user.rename(command.username)
        if password_hash:
            user.change_password(password_hash)
        if command.profile:
            user.update_profile(command.profile)
        if command.keys is not None:
            changed += _keys_taken(store, user, *command.keys)
        return Outcome(store.last_position(store.save(*changed)), user.id)

    return store.run(attempt)


def _key_claim(api_key: str) -> str:
    # Claims compare keys without case; a digest keeps a key's case and keeps it out of claims.
    return hashlib.sha256(api_key.encode()).hexdigest()


def _keys_taken(store: Any, user: User, api_key: str, secret_key: Secret) -> list[Any]:
    """The user's keys replaced, the new API key claimed so no two users hold it (two
    concurrent updates naming one key write the same claim version: one of them fails)."""
    changed: list[Any] = []
    if api_key != user.api_key:
        what = "A user with this api key"
        changed.append(claimed(store, "apikey", _key_claim(api_key), user.id, what))
        if user.api_key:
            changed += [c for c in (_release(store, "apikey", _key_claim(user.api_key)),) if c]
    user.register_keys(api_key, secret_key)
    return changed


@dataclass(frozen=True)
class SetUserState:
    user_id: UUID
    enabled: bool


def set_user_state(store: Any, command: SetUserState) -> Outcome:
    return change(
        store, User, command.user_id, User.enable if command.enabled else User.disable, what="user"
    )


@dataclass(frozen=True)
class LockUser:
    user_id: UUID


def lock_user(store: Any, command: LockUser) -> Outcome:
    return change(store, User, command.user_id, User.lock, what="user")


@dataclass(frozen=True)
class DeleteUser:
    user_id: UUID


def delete_user(store: Any, command: DeleteUser) -> Outcome:
    def attempt() -> Outcome:
        user = store.get(User, command.user_id, what="user")
        account = store.get(Account, user.account_id)
        if len(account.user_ids) <= 1:
            raise InvalidParameter(
                "The user is the only one of its account; delete the account instead"
            )
        changed = _remove_user(store, user, account)
        return Outcome(store.last_position(store.save(account, *changed)), user.id)

    return store.run(attempt)


@dataclass(frozen=True)
class RegisterUserKeys:
    user_id: UUID


def new_key() -> str:
    return secrets.token_urlsafe(64)


def register_user_keys(store: Any, command: RegisterUserKeys) -> Outcome:
    api_key, secret_key = new_key(), new_key()

    def attempt() -> Outcome:
        user = store.get(User, command.user_id, what="user")
        changed = [user, *_keys_taken(store, user, api_key, Secret(secret_key))]
        return Outcome(store.last_position(store.save(*changed)), user.id)

    return store.run(attempt)


@dataclass(frozen=True)
class Bootstrap:
    admin_password: str = field(repr=False)


@dataclass(frozen=True)
class BootstrapResult:
    position: int
    created: bool
    admin_user_id: UUID | None = None


def bootstrap(store: Any, command: Bootstrap) -> BootstrapResult:
    """On first start: ROOT, the root admin account `admin` and its user `admin` with keys."""
    if root_domain_id(store) is not None:
        return BootstrapResult(store.head(), created=False)
    root = Domain("ROOT", None, ROOT_PATH, "")
    claim = NameClaim(kind=ROOT_CLAIM[0], key=ROOT_CLAIM[1], owner_id=root.id)
    store.save(root, claim)
    outcome = create_account(
        store,
        CreateAccount(
            domain_id=root.id,
            account_type=AccountType.ROOT_ADMIN,
            account_name="admin",
            user=UserProfile(
                username="admin",
                password=command.admin_password,
                firstname="Admin",
                lastname="User",
            ),
        ),
    )
    account = store.get(Account, outcome.id)
    user_id = account.user_ids[0]
    keys = register_user_keys(store, RegisterUserKeys(user_id))
    return BootstrapResult(keys.position, created=True, admin_user_id=user_id)
