"""Resource limits and counts: the CloudStack commands, their parameters and responses.

A limit is an account's or a domain's own, or else (for a domain) the nearest set above it, or
else the `max.account.*` / `max.domain.*` default; the ROOT domain and root administrators'
accounts have none. Limits are enforced where resources change (stratus/store/ledgers.py).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role, check_reach
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.cloudstack.common import account_row, domain_row, project_row, resolve_owner_filters
from api.cloudstack.configuration import current_value
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands import resource_limits as cmd
from domain.account import AccountType
from domain.errors import InvalidParameter, PermissionDenied
from domain.resource_limits import (
    GIB,
    IN_GIB,
    UNLIMITED,
    ResourceType,
    check_max,
    resource_type,
    setting_name,
)
from projections.resource_limits import (
    counts_by_account,
    own_limits,
    resource_counts,
    vm_states_by_account,
)

P = ParamType
DA = Role.DOMAIN_ADMIN


# Limits in force -------------------------------------------------------------------------------


def _chain(call: Call, domain: dict[str, Any]) -> list[dict[str, Any]]:
    """The domain and those above it, nearest first, ROOT last."""
    found = [domain]
    with call.read() as cursor:
        while found[-1]["parent_id"]:
            row = cursor.execute(
                "SELECT * FROM domains WHERE id = %s", (found[-1]["parent_id"],)
            ).fetchone()
            if row is None:
                break
            found.append(row)
    return found


def _domain_limits(call: Call, domain: dict[str, Any]) -> dict[int, int]:
    if not domain["parent_id"]:
        return dict.fromkeys(map(int, ResourceType), UNLIMITED)
    chain = [d for d in _chain(call, domain) if d["parent_id"]]
    with call.read() as cursor:
        own = own_limits(cursor, [d["id"] for d in chain])
    limits = {}
    for kind in ResourceType:
        set_above = [own[(d["id"], kind)] for d in chain if (d["id"], kind) in own]
        limits[int(kind)] = set_above[0] if set_above else _default(call, "domain", kind)
    return limits


def _account_limits(call: Call, account: dict[str, Any]) -> dict[int, int]:
    if int(account["account_type"]) == AccountType.ROOT_ADMIN:
        return dict.fromkeys(map(int, ResourceType), UNLIMITED)
    with call.read() as cursor:
        own = own_limits(cursor, [account["id"]])
    who = _owner_kind(account)
    return {
        int(kind): own.get(
            (account["id"], int(kind)),
            UNLIMITED
            if (who, kind) == ("project", ResourceType.PROJECT)
            else _default(call, who, kind),
        )
        for kind in ResourceType
    }


def _default(call: Call, owner_kind: str, kind: ResourceType) -> int:
    if (owner_kind, kind) == ("project", ResourceType.PROJECT):
        return UNLIMITED  # a project holds no projects: there is no `max.project.projects`
    return int(current_value(call, setting_name(owner_kind, kind)))


def _limit_rows(
    owner: dict[str, Any], limits: dict[int, int], wanted: int | None
) -> list[dict[str, Any]]:
    rows = []
    for kind, limit in sorted(limits.items()):
        if wanted is not None and kind != wanted:
            continue
        row = {**owner, "resourcetype": str(kind), "max": limit}
        rows.append(row)
    return rows


def _account_owner(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": account["name"],
        "domainid": account["domain_id"],
        "domain": account["domain_name"],
    }


def _domain_owner(domain: dict[str, Any]) -> dict[str, Any]:
    return {"domainid": domain["id"], "domain": domain["name"]}


# An account's figures in listAccounts ----------------------------------------------------------

FIGURE_NAMES = {
    0: "vm",
    1: "ip",
    2: "volume",
    3: "snapshot",
    4: "template",
    5: "project",
    6: "network",
    7: "vpc",
    8: "cpu",
    9: "memory",
    10: "primarystorage",
    11: "secondarystorage",
}


def account_figures(call: Call, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """By account, each type's limit, total and what is still available, as 4.3's account
    answers show them ("Unlimited" without a limit; storage in GiB)."""
    ids = [row["id"] for row in rows]
    with call.read() as cursor:
        own = own_limits(cursor, ids)
        counts = counts_by_account(cursor, ids)
        states = vm_states_by_account(cursor, ids)
    # A project's account takes its defaults from `max.project.*` (it holds no projects).
    owner_kinds = {_owner_kind(row) for row in rows}
    defaults = {
        (who, kind): UNLIMITED
        if (who, kind) == ("project", ResourceType.PROJECT)
        else _default(call, who, kind)
        for who in owner_kinds
        for kind in ResourceType
    }
    found = {}
    for row in rows:
        admin = int(row["account_type"]) == AccountType.ROOT_ADMIN
        figures: dict[str, Any] = {}
        for kind in ResourceType:
            default = defaults[(_owner_kind(row), kind)]
            limit = UNLIMITED if admin else own.get((row["id"], int(kind)), default)
            total = counts[row["id"]][int(kind)]
            if kind in IN_GIB:
                total //= GIB
            name = FIGURE_NAMES[int(kind)]
            figures[f"{name}limit"] = "Unlimited" if limit == UNLIMITED else str(limit)
            figures[f"{name}total"] = total
            figures[f"{name}available"] = (
                "Unlimited" if limit == UNLIMITED else str(max(limit - total, 0))
            )
        figures["vmrunning"] = states.get((row["id"], "Running"), 0)
        figures["vmstopped"] = states.get((row["id"], "Stopped"), 0)
        found[row["id"]] = figures
    return found


def _owner_kind(account: dict[str, Any]) -> str:
    return "project" if int(account["account_type"]) == AccountType.PROJECT else "account"


# listResourceLimits ----------------------------------------------------------------------------


def list_resource_limits(call: Call, args: dict[str, Any]) -> Listing:
    wanted = None if args["resourcetype"] is None else int(resource_type(args["resourcetype"]))
    resolve_owner_filters(call, args)
    if args["projectid"]:
        project, account = _project_account(call, args["projectid"])
        rows = _limit_rows(_project_owner(project), _account_limits(call, account), wanted)
    elif call.caller.role == Role.USER or not args["domainid"] or args["account"]:
        account = _account_of(call, args)
        rows = _limit_rows(_account_owner(account), _account_limits(call, account), wanted)
    else:
        rows = []
        for domain in _domains_of(call, args):
            rows += _limit_rows(_domain_owner(domain), _domain_limits(call, domain), wanted)
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(rows[paging.offset : end], len(rows))


def _project_account(call: Call, project_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A project the caller may see, and its own account's row."""
    project = project_row(call, project_id)
    with call.read() as cursor:
        account: dict[str, Any] = cursor.execute(
            "SELECT * FROM accounts WHERE id = %s", (project["account_id"],)
        ).fetchone()
    return project, account


def _project_owner(project: dict[str, Any]) -> dict[str, Any]:
    return {
        "projectid": project["id"],
        "project": project["name"],
        "domainid": project["domain_id"],
        "domain": project["domain_name"],
    }


def _account_of(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if call.caller.role != Role.USER and args["account"]:
        return account_row(call, args["account"], args["domainid"])
    with call.read() as cursor:
        row: dict[str, Any] = cursor.execute(
            "SELECT * FROM accounts WHERE id = %s", (call.caller.account_id,)
        ).fetchone()
    return row


def _domains_of(call: Call, args: dict[str, Any]) -> list[dict[str, Any]]:
    domain = domain_row(call, args["domainid"])
    if not args["isrecursive"]:
        return [domain]
    with call.read() as cursor:
        rows: list[dict[str, Any]] = cursor.execute(
            "SELECT * FROM domains WHERE removed = 0 AND substr(path, 1, %s) = %s ORDER BY path",
            (len(domain["path"]), domain["path"]),
        ).fetchall()
    return rows


# updateResourceLimit ---------------------------------------------------------------------------


def update_resource_limit(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    kind = resource_type(args["resourcetype"])
    limit = check_max(UNLIMITED if args["max"] is None else int(args["max"]))
    if args["projectid"]:
        project, account = _project_account(call, args["projectid"])
        call.write(
            cmd.update_resource_limit,
            cmd.UpdateResourceLimit(UUID(account["id"]), "project", int(kind), limit),
        )
        return _limit_rows(_project_owner(project), _account_limits(call, account), kind)[0]
    if args["account"] and not args["domainid"]:
        raise InvalidParameter("Account must be specified with domainId parameter")
    if not args["domainid"]:
        raise InvalidParameter("Please specify the domainid (and account) the limit is for")
    domain = domain_row(call, args["domainid"])
    if args["account"]:
        account = account_row(call, args["account"], domain["id"])
        check_reach(
            call.caller,
            account_id=account["id"],
            domain_path=account["domain_path"],
            what="that account",
        )
        call.write(
            cmd.update_resource_limit,
            cmd.UpdateResourceLimit(UUID(account["id"]), "account", int(kind), limit),
        )
        return _limit_rows(_account_owner(account), _account_limits(call, account), kind)[0]
    _check_domain_change(call, domain, kind, limit)
    call.write(
        cmd.update_resource_limit,
        cmd.UpdateResourceLimit(UUID(domain["id"]), "domain", int(kind), limit),
    )
    return _limit_rows(_domain_owner(domain), _domain_limits(call, domain), kind)[0]


def _check_domain_change(
    call: Call, domain: dict[str, Any], kind: ResourceType, limit: int
) -> None:
    check_reach(call.caller, account_id=None, domain_path=domain["path"], what="that domain")
    if not domain["parent_id"]:
        raise InvalidParameter("The ROOT domain has no resource limits to update")
    if domain["id"] == call.caller.domain_id and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("A domain administrator cannot change their own domain's limits")
    parent = domain_row(call, domain["parent_id"])
    above = _domain_limits(call, parent)[int(kind)]
    if above != UNLIMITED and limit > above:
        raise InvalidParameter(
            f"Maximum number of resources of type {int(kind)} for domain {domain['name']} "
            f"cannot exceed the parent domain's limit of {above}"
        )


# updateResourceCount ---------------------------------------------------------------------------


def update_resource_count(call: Call, args: dict[str, Any]) -> Listing:
    wanted = None if args["resourcetype"] is None else int(resource_type(args["resourcetype"]))
    if args["projectid"]:
        project, account = _project_account(call, args["projectid"])
        with call.read() as cursor:
            counts = resource_counts(cursor, account_id=account["id"])
        return _counted(_project_owner(project), counts, wanted)
    domain = domain_row(call, args["domainid"])
    check_reach(call.caller, account_id=None, domain_path=domain["path"], what="that domain")
    if args["account"]:
        account = account_row(call, args["account"], domain["id"])
        with call.read() as cursor:
            counts = resource_counts(cursor, account_id=account["id"])
        owner = _account_owner(account)
    else:
        with call.read() as cursor:
            counts = resource_counts(cursor, domain_path=domain["path"])
        owner = _domain_owner(domain)
    return _counted(owner, counts, wanted)


def _counted(owner: dict[str, Any], counts: dict[int, int], wanted: int | None) -> Listing:
    rows = [
        {**owner, "resourcetype": str(kind), "resourcecount": count}
        for kind, count in sorted(counts.items())
        if wanted is None or kind == wanted
    ]
    return Listing(rows, len(rows))


RESOURCE_TYPE = Param("resourcetype", P.INTEGER, min_value=0)
LIMIT_IDS = "resource limits have no ids of their own here: name the owner and the resourcetype"

COMMANDS = (
    ApiCommand(
        "listResourceLimits",
        list_resource_limits,
        (
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("isrecursive", P.BOOLEAN, default=False),
            Param("listall", P.BOOLEAN, default=False),
            Param("id", P.LONG, unsupported=LIMIT_IDS),
            RESOURCE_TYPE,
            OWNER_PROJECT_ID,
        ),
        shape="list",
        item_key="resourcelimit",
        description="Lists resource limits.",
    ),
    ApiCommand(
        "updateResourceLimit",
        update_resource_limit,
        (
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("max", P.LONG),
            Param("resourcetype", P.INTEGER, required=True, min_value=0),
            OWNER_PROJECT_ID,
        ),
        role=DA,
        item_key="resourcelimit",
        description="Updates resource limits for an account or domain.",
    ),
    ApiCommand(
        "updateResourceCount",
        update_resource_count,
        (
            Param("account", P.STRING),
            Param("domainid", P.UUID, required=True),
            RESOURCE_TYPE,
            OWNER_PROJECT_ID,
        ),
        role=DA,
        shape="list",
        paged=False,
        item_key="resourcecount",
        description="Recalculate and update resource count for an account or domain.",
    ),
)
