"""Accounts: the CloudStack commands, their parameters and responses (domains and users have
their own modules).

Disabling an account (`disableAccount lock=false`) stops its running VMs as 4.3 does
(`api.cloudstack.account_stops`), and its job ends once they are stopped; an account whose VMs
could not all be stopped is marked as needing cleanup (`iscleanuprequired`, 4.3's
`needsCleanup`) until a later disabling stops them or the account is enabled. `lock=true` only
locks it. `listAccounts iscleanuprequired=true` lists those marked accounts and, as an
extension, removed accounts whose cleanup has not yet taken away everything they owned
(`projections.account_leftovers`), which no other listing shows; `iscleanuprequired=false`
lists the live accounts that need none.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

import orjson

from api.access import Role, check_reach, list_scope
from api.cloudstack.account_stops import stop_account_vms
from api.cloudstack.common import OWNER_PARAMS, account_row, select_page
from api.cloudstack.domains import domain_in_reach
from api.cloudstack.jobs import run_async
from api.cloudstack.resource_details import detail_pairs
from api.cloudstack.resource_limits import account_figures
from api.cloudstack.users import object_result, profile, render_user, visible_owner
from api.custom_ids import given_id
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType
from commands import identity as cmd
from domain.account import AccountType
from domain.errors import InvalidParameter, NotFound, PermissionDenied
from projections.account_leftovers import pending_cleanups
from projections.live_statistics import account_traffic
from stratus.db import contains

P = ParamType
# Where and how a new account is made (createAccount, ldapCreateAccount).
NEW_ACCOUNT_PARAMS = (
    Param("account", P.STRING),
    Param("domainid", P.UUID),
    Param("networkdomain", P.STRING),
    Param("timezone", P.STRING),
    Param("accountdetails", P.MAP),
    Param("accountid", P.STRING),
    Param("userid", P.STRING),
)
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"
DA = Role.DOMAIN_ADMIN


def render_accounts(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Accounts with their users, the users of the whole page fetched in one query."""
    users: dict[str, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    if rows:
        marks = ", ".join(["%s"] * len(rows))
        with call.read() as cursor:
            found = cursor.execute(
                f"SELECT * FROM users WHERE account_id IN ({marks}) AND removed = 0 "
                "ORDER BY created, id",
                [row["id"] for row in rows],
            ).fetchall()
        for user in found:
            users[user["account_id"]].append(render_user(user))
    figures = account_figures(call, rows)
    pending: set[str] = set()
    with call.read() as cursor:
        if any(row.get("removed") for row in rows):
            pending = pending_cleanups(cursor)
        traffic = account_traffic(cursor, [row["id"] for row in rows])
    return [
        _account_body(row, users[row["id"]])
        | figures[row["id"]]
        | _traffic(traffic.get(row["id"]))
        | {"iscleanuprequired": _cleanup_required(row, pending)}
        for row in rows
    ]


def _traffic(moved: tuple[int, int] | None) -> dict[str, int]:
    """Bytes the routers of the account's networks sent and received, once any was read (4.3
    leaves both out for an account with no network statistics)."""
    if moved is None:
        return {}
    return {"sentbytes": moved[0], "receivedbytes": moved[1]}


def _cleanup_required(row: dict[str, Any], pending: set[str]) -> bool:
    if row.get("removed"):
        return row["id"] in pending
    return bool(row.get("needs_cleanup"))


def render_account(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    return render_accounts(call, [row])[0]


def _account_body(row: dict[str, Any], users: list[dict[str, Any]]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "name": row["name"],
        "accounttype": int(row["account_type"]),
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "state": row["state"],
        "isdefault": row["name"] == "admin" and row["domain_path"] == "/",
        "user": users,
    }
    if row["network_domain"]:
        body["networkdomain"] = row["network_domain"]
    if row.get("details") and row["details"] != "{}":
        body["accountdetails"] = orjson.loads(row["details"])
    if row.get("default_zone_id"):
        body["defaultzoneid"] = row["default_zone_id"]
    return body


def _account_by_id(call: Call, account_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM accounts WHERE id = %s AND removed = 0", (account_id,)
        ).fetchone()
    if row is None:
        raise NotFound(f"Unable to find account by id {account_id}", resource_ids=(account_id,))
    check_reach(
        call.caller, account_id=row["id"], domain_path=row["domain_path"], what="the account"
    )
    return row


def _account_object(call: Call, account_id: str) -> dict[str, Any]:
    return render_account(call, _account_by_id(call, account_id))


def _target_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("id"):
        return _account_by_id(call, args["id"])
    if args.get("account") and args.get("domainid"):
        row = account_row(call, args["account"], args["domainid"])
        return _account_by_id(call, row["id"])
    raise InvalidParameter("Either id or account and domainid must be specified")


def list_accounts(call: Call, args: dict[str, Any]) -> Listing:
    owner = visible_owner(call, args)
    scope = list_scope(call.caller, account_column="id", **owner)
    # A project's own account is not listed: 4.3 shows projects through listProjects.
    where = [f"account_type <> {int(AccountType.PROJECT)}", scope.clause]
    params = list(scope.params)
    if args["iscleanuprequired"]:
        with call.read() as cursor:
            pending = sorted(pending_cleanups(cursor))
        removed = f"id IN ({', '.join(['%s'] * len(pending))})" if pending else "1 = 0"
        where.append(f"((removed = 0 AND needs_cleanup = 1) OR (removed = 1 AND {removed}))")
        params += pending
    else:
        where.append("removed = 0")
        if args["iscleanuprequired"] is not None:
            where.append("needs_cleanup = 0")
    for column, key in (
        ("id", "id"),
        ("name", "name"),
        ("account_type", "accounttype"),
        ("state", "state"),
    ):
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("keyword"):
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    return select_page(
        call,
        "accounts",
        where,
        params,
        "created, id",
        args,
        lambda rows: render_accounts(call, rows),
        whole_page=True,
    )


def create_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    domain_id = args["domainid"] or call.caller.domain_id
    domain_in_reach(call, domain_id)
    kind = args["accounttype"]
    if kind not in tuple(AccountType) or kind == AccountType.PROJECT:
        raise InvalidParameter(
            "Invalid account type: must be 0 (user), 1 (root admin) or 2 (domain admin)"
        )
    if kind == AccountType.ROOT_ADMIN and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("Only a root administrator can create root administrators")
    outcome = call.write(
        cmd.create_account,
        cmd.CreateAccount(
            domain_id=UUID(domain_id),
            account_type=kind,
            user=profile(args),
            account_name=args["account"],
            network_domain=args["networkdomain"] or "",
            account_id=given_id(args["accountid"]),
            user_id=given_id(args["userid"]),
            details=detail_pairs(args["accountdetails"]),
        ),
    )
    return render_account(call, _account_by_id(call, str(outcome.id)))


def update_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _target_account(call, args)
    call.write(
        cmd.update_account,
        cmd.UpdateAccount(
            UUID(row["id"]),
            args["newname"],
            args["networkdomain"],
            detail_pairs(args["accountdetails"]),
        ),
    )
    return render_account(call, _account_by_id(call, row["id"]))


def _not_self(call: Call, account_id: str) -> None:
    if account_id == call.caller.account_id:
        raise PermissionDenied("The caller cannot disable, lock or delete its own account")


def disable_account(call: Call, args: dict[str, Any]) -> Submitted:
    row = _target_account(call, args)
    _not_self(call, row["id"])
    lock = bool(args["lock"])
    return run_async(
        call,
        instance_type="Account",
        instance_id=UUID(row["id"]),
        event_type="ACCOUNT.DISABLE",
        description=f"Disabling account {row['name']}",
        work=lambda: _disable(call, row, lock),
    )


def _disable(call: Call, row: dict[str, Any], lock: bool) -> dict[str, Any]:
    """Disables (or locks) the account; a disabling then stops its VMs, unless the account
    was already disabled with nothing left to stop (4.3 does nothing then)."""
    account_id = UUID(row["id"])
    done = row["state"] == "disabled" and not row["needs_cleanup"]
    outcome = cmd.set_account_state(call.store, cmd.SetAccountState(account_id, False, lock))
    if not lock and not done:
        complete = stop_account_vms(call, row["id"])
        outcome = cmd.record_account_stops(call.store, cmd.RecordAccountStops(account_id, complete))
    return object_result(outcome, "account")


def lock_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _account_by_id(call, account_row(call, args["account"], args["domainid"])["id"])
    _not_self(call, row["id"])
    call.write(cmd.lock_account, cmd.LockAccount(UUID(row["id"])))
    return render_account(call, _account_by_id(call, row["id"]))


def enable_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _target_account(call, args)
    call.write(cmd.set_account_state, cmd.SetAccountState(UUID(row["id"]), enabled=True))
    return render_account(call, _account_by_id(call, row["id"]))


def delete_account(call: Call, args: dict[str, Any]) -> Submitted:
    row = _account_by_id(call, args["id"])
    _not_self(call, row["id"])
    if row["name"] == "admin" and row["domain_path"] == "/":
        raise PermissionDenied("The system administrator account cannot be deleted")
    command = cmd.DeleteAccount(UUID(row["id"]))
    return run_async(
        call,
        instance_type="Account",
        instance_id=UUID(row["id"]),
        event_type="ACCOUNT.DELETE",
        description=f"Deleting account {row['name']}",
        work=lambda: (cmd.delete_account(call.store, command), {"success": True})[1],
    )


# 4.3's listAccounts takes no `account`; here it filters as on every other owner-scoped list.
ACCOUNTS_OWNER = tuple(
    replace(p, extension="the owner filter of every owner-scoped list")
    if p.name == "account"
    else p
    for p in OWNER_PARAMS
)

COMMANDS = (
    ApiCommand(
        "listAccounts",
        list_accounts,
        (
            *ACCOUNTS_OWNER,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("accounttype", P.INTEGER),
            Param("state", P.STRING),
            Param("iscleanuprequired", P.BOOLEAN),
        ),
        shape="list",
        item_key="account",
        description="Lists accounts",
    ),
    ApiCommand(
        "createAccount",
        create_account,
        (
            Param("accounttype", P.SHORT, required=True),
            Param("username", P.STRING, required=True),
            Param("password", P.STRING, required=True),
            Param("email", P.STRING, required=True),
            Param("firstname", P.STRING, required=True),
            Param("lastname", P.STRING, required=True),
            *NEW_ACCOUNT_PARAMS,
        ),
        role=DA,
        item_key="account",
        description="Creates an account and its user",
    ),
    ApiCommand(
        "updateAccount",
        update_account,
        (
            Param("id", P.UUID),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("newname", P.STRING, required=True),
            Param("networkdomain", P.STRING),
            Param("accountdetails", P.MAP),
        ),
        role=DA,
        item_key="account",
        description="Updates an account",
    ),
    ApiCommand(
        "disableAccount",
        disable_account,
        (
            Param("id", P.UUID),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("lock", P.BOOLEAN, required=True),
        ),
        role=DA,
        shape="async",
        is_async=True,
        item_key="account",
        render=_account_object,
        java_class=f"{ADMIN_PKG}.account.DisableAccountCmd",
        description="Disables an account",
    ),
    ApiCommand(
        "lockAccount",
        lock_account,
        (Param("account", P.STRING, required=True), Param("domainid", P.UUID, required=True)),
        role=DA,
        item_key="account",
        description="Locks an account: its users cannot log in or use their keys until it is "
        "enabled again; its resources keep running",
    ),
    ApiCommand(
        "enableAccount",
        enable_account,
        (Param("id", P.UUID), Param("account", P.STRING), Param("domainid", P.UUID)),
        role=DA,
        item_key="account",
        description="Enables an account",
    ),
    ApiCommand(
        "deleteAccount",
        delete_account,
        (Param("id", P.UUID, required=True),),
        role=DA,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.account.DeleteAccountCmd",
        description="Deletes an account and its users",
    ),
)
