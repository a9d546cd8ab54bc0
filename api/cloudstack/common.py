"""Pieces the command tables share: the owner of what a command makes (an account, or a
project's account), owner filters of list commands, and SQL paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.access import ALL_PROJECTS, ANY_OWNER, SKIP_PROJECTS, Caller, Role, check_reach
from api.dispatch import Call, Listing
from api.params import Paging, Param, ParamType
from api.tagging import TAGS_FILTER
from domain.errors import InvalidParameter, NotFound, PermissionDenied
from projections.projects import project_by_id
from stratus.db import in_list

OWNER_PARAMS = (
    Param("account", ParamType.STRING),
    Param("domainid", ParamType.UUID),
    Param("isrecursive", ParamType.BOOLEAN, default=False),
    Param("listall", ParamType.BOOLEAN, default=False),
)


# `projectid` of a command that makes something (the project's account owns it) and of a list
# (one project's resources, or with `-1` every project's the caller may see).
PROJECT_ID = Param("projectid", ParamType.UUID)
LIST_PROJECT_ID = Param("projectid", ParamType.UUID, minus_one=True)
LIST_PROJECT_AND_TAGS = (LIST_PROJECT_ID, TAGS_FILTER)


@dataclass(frozen=True)
class Owner:
    """Who owns what a command makes: an account, in its domain."""

    account_id: str
    domain_id: str
    domain_path: str


def project_row(call: Call, project_id: str) -> dict[str, Any]:
    """A live project the caller may see (a member, or an administrator over its domain)."""
    with call.read() as cursor:
        row = project_by_id(cursor, project_id)
    if row is None:
        raise InvalidParameter(f"Unable to find project by id {project_id}")
    if not can_use_project(call.caller, row):
        raise PermissionDenied(
            f"Account {call.caller.account_name} can't access project id={project_id}"
        )
    return row


def can_use_project(caller: Caller, project: dict[str, Any]) -> bool:
    """4.3's canAccessProjectAccount: root admins, domain admins over its domain, members."""
    if caller.role == Role.ROOT_ADMIN:
        return True
    if caller.role == Role.DOMAIN_ADMIN:
        return str(project["domain_path"]).startswith(caller.domain_path)
    return project["account_id"] in caller.projects


def owner_of(call: Call, args: dict[str, Any]) -> Owner:
    """The owner of what a command makes: a project's account (`projectid`, an active project
    the caller may use), an account an administrator names (`account` with `domainid`), or the
    caller's own account. The one place every create resolves its owner."""
    caller = call.caller
    if args.get("projectid"):
        if args.get("account"):
            raise InvalidParameter("Account and projectId can't be specified together")
        project = project_row(call, args["projectid"])
        if project["state"] != "Active":
            raise PermissionDenied(
                f"Can't add resources to the project id={project['id']} in "
                f"state={project['state']} as it's no longer active"
            )
        return Owner(project["account_id"], project["domain_id"], project["domain_path"])
    if not (args.get("account") and args.get("domainid")):
        return Owner(caller.account_id, caller.domain_id, caller.domain_path)
    account = account_row(call, args["account"], domain_row(call, args["domainid"])["id"])
    check_reach(
        caller, account_id=account["id"], domain_path=account["domain_path"], what="that account"
    )
    return Owner(account["id"], account["domain_id"], account["domain_path"])


def project_filter(call: Call, args: dict[str, Any]) -> str:
    """A list's `projectid` as `list_scope` takes it: SKIP_PROJECTS when absent (unless the
    list asks for one id), ALL_PROJECTS for `-1`, else the project's account, checked."""
    wanted = args.get("projectid")
    if wanted is None:
        return ANY_OWNER if args.get("id") else SKIP_PROJECTS
    if wanted == ALL_PROJECTS:
        return ALL_PROJECTS
    return str(project_row(call, wanted)["account_id"])


def limit_sql(paging: Paging) -> str:
    """LIMIT/OFFSET for a page; the numbers were validated as integers by the parser."""
    if paging.limit is None:
        return f" OFFSET {int(paging.offset)}" if paging.offset else ""
    return f" LIMIT {int(paging.limit)} OFFSET {int(paging.offset)}"


def domain_row(call: Call, domain_id: str, name: str = "domainid") -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM domains WHERE id = %s AND removed = 0", (domain_id,)
        ).fetchone()
    if row is None:
        raise NotFound(f"Unable to find domain by id {domain_id}", resource_ids=(domain_id,))
    return row


def account_row(call: Call, name: str, domain_id: str) -> dict[str, Any]:
    """A live account by name; for the account cleanup's calls, the removed account they clean
    up (a live account may since have taken its name)."""
    query = "SELECT * FROM accounts WHERE name = %s AND domain_id = %s AND "
    params: tuple[str, ...] = (name, domain_id)
    if call.removed_owner:
        query, params = query + "id = %s", (*params, call.removed_owner)
    else:
        query += "removed = 0"
    with call.read() as cursor:
        row = cursor.execute(query, params).fetchone()
    if row is None:
        raise NotFound(f"Unable to find account {name} in domain {domain_id}")
    return row


def named_owner(call: Call, args: dict[str, Any]) -> tuple[str, str]:
    """(account id, domain id) a command acts for: see `owner_of`."""
    owner = owner_of(call, args)
    return owner.account_id, owner.domain_id


def resolve_owner_filters(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """`domainid`, `account`, `isrecursive`, `listall` checked against the caller's reach.

    A plain user may name only their own domain and account, and naming them narrows nothing:
    `list_scope` keeps a plain user to their own account whatever the filters say.
    """
    filters: dict[str, Any] = {
        "recursive": bool(args.get("isrecursive")),
        "list_all": bool(args.get("listall")),
        "projects": project_filter(call, args),
    }
    if call.caller.role == Role.USER:
        _check_own_owner(call, args)
        return filters
    if args.get("account") and not args.get("domainid"):
        raise InvalidParameter("Account must be specified with domainId parameter")
    if args.get("domainid"):
        domain = domain_row(call, args["domainid"])
        check_reach(call.caller, account_id=None, domain_path=domain["path"], what="that domain")
        filters["domain_path"] = domain["path"]
        if args.get("account"):
            account = account_row(call, args["account"], domain["id"])
            filters["account_id"] = account["id"]
    return filters


def _check_own_owner(call: Call, args: dict[str, Any]) -> None:
    """A plain user's `domainid` and `account` must be their own."""
    caller = call.caller
    if args.get("domainid") and str(args["domainid"]) != caller.domain_id:
        domain_row(call, args["domainid"])  # an unknown domain is not found, as for anyone
        raise PermissionDenied("Caller does not have permission to access that domain")
    if args.get("account") and args["account"] != caller.account_name:
        raise PermissionDenied("Caller does not have permission to access that account")


def select_page(
    call: Call,
    table: str,
    where: list[str],
    params: list[Any],
    order: str,
    args: dict[str, Any],
    render: Any,
    *,
    whole_page: bool = False,
) -> Listing:
    """One page of rows and the total; `render` takes a row, or the page when `whole_page`."""
    sql = f" FROM {table} WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            f"SELECT *{sql} ORDER BY {order}" + limit_sql(args["paging"]), params
        ).fetchall()
    items = render(rows) if whole_page else [render(r) for r in rows]
    return Listing(items, int(count))


def names_by_id(call: Call, table: str, ids: set[str]) -> dict[str, str]:
    """The `name` of each of these rows of a read-model table, by id."""
    return names_of(call, {table: ids})[table]


def names_of(call: Call, wanted: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """The names of rows of several read-model tables (table → ids), in one query."""
    if not any(wanted.values()):
        return {table: {} for table in wanted}
    with call.read() as cursor:
        return names_in(cursor, wanted)


def names_in(cursor: Any, wanted: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """`names_of` on a connection the caller already holds."""
    found: dict[str, dict[str, str]] = {table: {} for table in wanted}
    asked = [(table, sorted(ids)) for table, ids in wanted.items() if ids]
    if not asked:
        return found
    parts, params = [], []
    for table, ids in asked:
        among, values = in_list(cursor, "id", ids)
        parts.append(f"SELECT '{table}' AS kind, id, name FROM {table} WHERE {among}")
        params.extend(values)
    for row in cursor.execute(" UNION ALL ".join(parts), params).fetchall():
        found[row["kind"]][row["id"]] = row["name"]
    return found
