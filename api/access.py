"""Authorisation, in one place: who the caller is, what each role may call and see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from domain.account import AccountType
from domain.errors import PermissionDenied


class Role(IntEnum):
    """Ordered so that a higher role may call whatever a lower one may."""

    USER = 1
    DOMAIN_ADMIN = 2
    ROOT_ADMIN = 3


_ROLE_OF_TYPE = {
    AccountType.USER: Role.USER,
    AccountType.DOMAIN_ADMIN: Role.DOMAIN_ADMIN,
    AccountType.ROOT_ADMIN: Role.ROOT_ADMIN,
}


@dataclass(frozen=True)
class Caller:
    """The authenticated user behind a request."""

    user_id: str
    username: str
    account_id: str
    account_name: str
    account_type: int
    domain_id: str
    domain_path: str

    @property
    def role(self) -> Role:
        return _ROLE_OF_TYPE[AccountType(self.account_type)]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Caller:
        return cls(
            user_id=row["id"],
            username=row["username"],
            account_id=row["account_id"],
            account_name=row["account_name"],
            account_type=int(row["account_type"]),
            domain_id=row["domain_id"],
            domain_path=row["domain_path"],
        )


def require_role(caller: Caller, needed: Role) -> None:
    if caller.role < needed:
        raise PermissionDenied(
            f"The API command is not available to {caller.role.name.lower().replace('_', ' ')}s"
            if needed == Role.ROOT_ADMIN
            else "The caller does not have permission to run this command"
        )


def can_reach(caller: Caller, *, account_id: str | None, domain_path: str) -> bool:
    """Whether the caller may see or act on something owned by this account and domain."""
    if caller.role == Role.ROOT_ADMIN:
        return True
    if caller.role == Role.DOMAIN_ADMIN:
        return domain_path.startswith(caller.domain_path)
    return account_id == caller.account_id


def check_reach(caller: Caller, *, account_id: str | None, domain_path: str, what: str) -> None:
    if not can_reach(caller, account_id=account_id, domain_path=domain_path):
        raise PermissionDenied(f"Caller does not have permission to operate on {what}")


@dataclass(frozen=True)
class Scope:
    """A list query's visibility as SQL over columns `account_id` and `domain_path`."""

    clause: str
    params: tuple[Any, ...]


def list_scope(
    caller: Caller,
    *,
    domain_path: str | None = None,
    recursive: bool = False,
    account_id: str | None = None,
    list_all: bool = False,
    prefix: str = "",
    account_column: str = "account_id",
) -> Scope:
    """CloudStack's listall/domainid/account/isrecursive rules, after access was checked.

    `domain_path` and `account_id` are the already-resolved `domainid` and `account` filters.
    Whatever they say, a plain user sees only their own account and a domain administrator
    nothing outside their subtree: this is the one place every list's owner scope comes from.
    """
    acct, path = f"{prefix}{account_column}", f"{prefix}domain_path"
    if caller.role == Role.USER:
        return Scope(f"{acct} = %s", (caller.account_id,))
    if caller.role == Role.DOMAIN_ADMIN and not (domain_path or caller.domain_path).startswith(
        caller.domain_path
    ):
        raise PermissionDenied("Caller does not have permission to access that domain")
    if account_id is not None:
        return _within(caller, Scope(f"{acct} = %s", (account_id,)), path)
    if domain_path is not None:
        if recursive or list_all:
            return Scope(f"substr({path}, 1, %s) = %s", (len(domain_path), domain_path))
        return Scope(f"{path} = %s", (domain_path,))
    if not list_all:
        return Scope(f"{acct} = %s", (caller.account_id,))
    return _within(caller, Scope("1 = 1", ()), path)


def _within(caller: Caller, scope: Scope, path: str) -> Scope:
    """A domain administrator's scope, kept inside their subtree."""
    if caller.role != Role.DOMAIN_ADMIN:
        return scope
    subtree = f"substr({path}, 1, %s) = %s"
    if scope.clause == "1 = 1":
        return Scope(subtree, (len(caller.domain_path), caller.domain_path))
    clause = f"{scope.clause} AND {subtree}"
    return Scope(clause, (*scope.params, len(caller.domain_path), caller.domain_path))
