"""Authorisation, in one place: who the caller is, what each role may call and see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from api.errors import CommandNotAvailable
from domain.account import AccountType
from domain.errors import PermissionDenied
from projections.projects import PROJECT_ACCOUNTS


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
    # The accounts of the projects a plain user's account is a member of: it sees and manages
    # their resources as its own (administrators reach projects through their domains).
    projects: frozenset[str] = frozenset()

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
            projects=frozenset(row.get("project_accounts") or ()),
        )


def require_role(caller: Caller, needed: Role) -> None:
    """Refuse a command the caller's role may not run, as 4.3 does: the command is not
    available to them (432), not a permission error on something they named."""
    if caller.role < needed:
        raise CommandNotAvailable(f"{caller.role.name.lower()} may not run a {needed.name} command")


def can_reach(caller: Caller, *, account_id: str | None, domain_path: str) -> bool:
    """Whether the caller may see or act on something owned by this account and domain."""
    if caller.role == Role.ROOT_ADMIN:
        return True
    if caller.role == Role.DOMAIN_ADMIN:
        return domain_path.startswith(caller.domain_path)
    return account_id == caller.account_id or account_id in caller.projects


def check_reach(caller: Caller, *, account_id: str | None, domain_path: str, what: str) -> None:
    if not can_reach(caller, account_id=account_id, domain_path=domain_path):
        raise PermissionDenied(f"Caller does not have permission to operate on {what}")


# Which projects' resources a list shows (`Scope.projects`): a list without `projectid` leaves
# them out (4.3's SkipProjectResources) unless it asks for one id; `-1` shows only projects'
# resources; else the value is the one project's account, its access checked already.
SKIP_PROJECTS = "skip"
ANY_OWNER = "any"
ALL_PROJECTS = "-1"


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
    projects: str = ANY_OWNER,
) -> Scope:
    """CloudStack's listall/domainid/account/isrecursive rules, after access was checked.

    `domain_path` and `account_id` are the already-resolved `domainid` and `account` filters.
    Whatever they say, a plain user sees only their own account and a domain administrator
    nothing outside their subtree: this is the one place every list's owner scope comes from.
    """
    acct, path = f"{prefix}{account_column}", f"{prefix}domain_path"
    if projects not in (SKIP_PROJECTS, ANY_OWNER, ALL_PROJECTS):
        return Scope(f"{acct} = %s", (projects,))
    scope = _owner_scope(caller, domain_path, recursive, account_id, list_all, acct, path)
    if projects == ALL_PROJECTS and caller.role == Role.USER:
        if not caller.projects:
            return Scope("1 = 0", ())
        marks = ", ".join(["%s"] * len(caller.projects))
        return Scope(f"{acct} IN ({marks})", tuple(sorted(caller.projects)))
    if caller.role == Role.USER or projects == ANY_OWNER:
        return scope
    kept = "IN" if projects == ALL_PROJECTS else "NOT IN"
    return Scope(f"{scope.clause} AND {acct} {kept} {PROJECT_ACCOUNTS}", scope.params)


def _owner_scope(
    caller: Caller,
    domain_path: str | None,
    recursive: bool,
    account_id: str | None,
    list_all: bool,
    acct: str,
    path: str,
) -> Scope:
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
