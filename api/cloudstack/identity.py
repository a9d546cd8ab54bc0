"""Domains, accounts and users: the CloudStack commands, their parameters and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import (
    OWNER_PARAMS,
    account_row,
    domain_row,
    limit_sql,
    resolve_owner_filters,
)
from api.cloudstack.jobs import RENDERERS, run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_date
from api.params import Param, ParamType
from commands import identity as cmd
from domain.account import AccountType
from domain.errors import InvalidParameter, NotFound, PermissionDenied

P = ParamType
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"


# ---- rendering -------------------------------------------------------------------------


def render_domain(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "name": row["name"],
        "level": int(row["level"]),
        "haschild": bool(row["has_children"]),
        "path": _display_path(row["path"]),
    }
    if row["parent_id"]:
        body["parentdomainid"] = row["parent_id"]
        body["parentdomainname"] = row["parent_name"]
    if row["network_domain"]:
        body["networkdomain"] = row["network_domain"]
    return body


def _display_path(path: str) -> str:
    return "ROOT" + path.rstrip("/") if path != "/" else "ROOT"


def render_user(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "username": row["username"],
        "firstname": row["firstname"],
        "lastname": row["lastname"],
        "email": row["email"],
        "created": format_date(datetime.fromisoformat(row["created"])),
        "state": row["state"],
        "account": row["account_name"],
        "accounttype": int(row["account_type"]),
        "accountid": row["account_id"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "iscallerchilddomain": False,
        "isdefault": False,
    }
    if row["timezone"]:
        body["timezone"] = row["timezone"]
    if row["api_key"]:
        body["apikey"] = row["api_key"]  # the secret key is shown once, by registerUserKeys
    return body


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
    return [_account_body(row, users[row["id"]]) for row in rows]


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


def _user_by_id(call: Call, user_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM users WHERE id = %s AND removed = 0", (user_id,)
        ).fetchone()
    if row is None:
        raise NotFound(f"Unable to find user by id {user_id}", resource_ids=(user_id,))
    check_reach(
        call.caller, account_id=row["account_id"], domain_path=row["domain_path"], what="the user"
    )
    return row


def _domain_in_reach(call: Call, domain_id: str) -> dict[str, Any]:
    row = domain_row(call, domain_id)
    if not row["path"].startswith(call.caller.domain_path):
        raise PermissionDenied("Caller does not have permission to operate on that domain")
    return row


RENDERERS["account"] = lambda call, i: ("account", render_account(call, _account_by_id(call, i)))
RENDERERS["user"] = lambda call, i: ("user", render_user(_user_by_id(call, i)))


# ---- domains ---------------------------------------------------------------------------


def list_domains(call: Call, args: dict[str, Any]) -> Listing:
    where = ["removed = 0", "substr(path, 1, %s) = %s"]
    params: list[Any] = [len(call.caller.domain_path), call.caller.domain_path]
    for column, value in (("id", args["id"]), ("name", args["name"]), ("level", args["level"])):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if args.get("keyword"):
        where.append("name LIKE %s")
        params.append(f"%{args['keyword']}%")
    return _select(call, "domains", where, params, "path, id", args, render_domain)


def _select(
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


def create_domain(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    parent_id = args["parentdomainid"] or call.caller.domain_id
    _domain_in_reach(call, parent_id)
    outcome = call.write(
        cmd.create_domain,
        cmd.CreateDomain(args["name"], UUID(parent_id), args["networkdomain"] or ""),
    )
    return render_domain(domain_row(call, str(outcome.id)))


def update_domain(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    _domain_in_reach(call, args["id"])
    call.write(
        cmd.update_domain, cmd.UpdateDomain(UUID(args["id"]), args["name"], args["networkdomain"])
    )
    return render_domain(domain_row(call, args["id"]))


def delete_domain(call: Call, args: dict[str, Any]) -> Submitted:
    row = _domain_in_reach(call, args["id"])
    if row["id"] == call.caller.domain_id:
        raise PermissionDenied("A domain administrator cannot delete their own domain")
    command = cmd.DeleteDomain(UUID(args["id"]), bool(args["cleanup"]))
    return run_async(
        call,
        instance_type="Domain",
        instance_id=UUID(args["id"]),
        event_type="DOMAIN.DELETE",
        description=f"Deleting domain {row['name']}",
        work=lambda: (cmd.delete_domain(call.store, command), {"success": True})[1],
    )


# ---- accounts --------------------------------------------------------------------------


def _target_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("id"):
        return _account_by_id(call, args["id"])
    if args.get("account") and args.get("domainid"):
        row = account_row(call, args["account"], args["domainid"])
        return _account_by_id(call, row["id"])
    raise InvalidParameter("Either id or account and domainid must be specified")


def list_accounts(call: Call, args: dict[str, Any]) -> Listing:
    owner = _visible_owner(call, args)
    scope = list_scope(call.caller, account_column="id", **owner)
    where, params = ["removed = 0", scope.clause], list(scope.params)
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
        where.append("name LIKE %s")
        params.append(f"%{args['keyword']}%")
    return _select(
        call,
        "accounts",
        where,
        params,
        "created, id",
        args,
        lambda rows: render_accounts(call, rows),
        whole_page=True,
    )


def _visible_owner(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """Identity lists show everything the caller can reach unless told to narrow it."""
    filters = resolve_owner_filters(call, args)
    filters["list_all"] = True
    narrowed = "domain_path" in filters or "account_id" in filters
    if not narrowed and call.caller.role != Role.USER:
        filters["domain_path"], filters["recursive"] = call.caller.domain_path, True
    return filters


def create_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    domain_id = args["domainid"] or call.caller.domain_id
    _domain_in_reach(call, domain_id)
    kind = args["accounttype"]
    if kind not in tuple(AccountType):
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
            user=_profile(args),
            account_name=args["account"],
            network_domain=args["networkdomain"] or "",
        ),
    )
    return render_account(call, _account_by_id(call, str(outcome.id)))


def _profile(args: dict[str, Any]) -> cmd.UserProfile:
    return cmd.UserProfile(
        username=args["username"],
        password=args["password"],
        email=args["email"] or "",
        firstname=args["firstname"] or "",
        lastname=args["lastname"] or "",
        timezone=args["timezone"] or "",
    )


def update_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _target_account(call, args)
    call.write(
        cmd.update_account,
        cmd.UpdateAccount(UUID(row["id"]), args["newname"], args["networkdomain"]),
    )
    return render_account(call, _account_by_id(call, row["id"]))


def _not_self(call: Call, account_id: str) -> None:
    if account_id == call.caller.account_id:
        raise PermissionDenied("The caller cannot disable or delete its own account")


def disable_account(call: Call, args: dict[str, Any]) -> Submitted:
    row = _target_account(call, args)
    _not_self(call, row["id"])
    command = cmd.SetAccountState(UUID(row["id"]), enabled=False, lock=bool(args["lock"]))
    return run_async(
        call,
        instance_type="Account",
        instance_id=UUID(row["id"]),
        event_type="ACCOUNT.DISABLE",
        description=f"Disabling account {row['name']}",
        work=lambda: _done(cmd.set_account_state(call.store, command), "account"),
    )


def _done(outcome: Any, kind: str) -> dict[str, Any]:
    return {"object": kind, "id": str(outcome.id)}


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


# ---- users -----------------------------------------------------------------------------


def list_users(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(call.caller, **_visible_owner(call, args))
    where, params = ["removed = 0", scope.clause], list(scope.params)
    for column, key in (
        ("id", "id"),
        ("username", "username"),
        ("state", "state"),
        ("account_type", "accounttype"),
    ):
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("keyword"):
        where.append("(username LIKE %s OR firstname LIKE %s OR lastname LIKE %s)")
        params += [f"%{args['keyword']}%"] * 3
    return _select(call, "users", where, params, "created, id", args, render_user)


def create_user(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    account = account_row(call, args["account"], args["domainid"])
    check_reach(
        call.caller,
        account_id=account["id"],
        domain_path=account["domain_path"],
        what="the account",
    )
    if call.caller.role == Role.USER:
        raise PermissionDenied("Only administrators can create users")
    outcome = call.write(cmd.create_user, cmd.CreateUser(UUID(account["id"]), _profile(args)))
    return render_user(_user_by_id(call, str(outcome.id)))


def update_user(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _user_by_id(call, args["id"])
    profile = {
        k: args[k] for k in ("email", "firstname", "lastname", "timezone") if args[k] is not None
    }
    call.write(
        cmd.update_user,
        cmd.UpdateUser(UUID(row["id"]), args["username"], args["password"], profile),
    )
    return render_user(_user_by_id(call, row["id"]))


def disable_user(call: Call, args: dict[str, Any]) -> Submitted:
    row = _admin_target_user(call, args["id"])
    command = cmd.SetUserState(UUID(row["id"]), enabled=False)
    return run_async(
        call,
        instance_type="User",
        instance_id=UUID(row["id"]),
        event_type="USER.DISABLE",
        description=f"Disabling user {row['username']}",
        work=lambda: _done(cmd.set_user_state(call.store, command), "user"),
    )


def _admin_target_user(call: Call, user_id: str) -> dict[str, Any]:
    row = _user_by_id(call, user_id)
    if row["id"] == call.caller.user_id:
        raise PermissionDenied("The caller cannot disable or delete itself")
    return row


def enable_user(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _user_by_id(call, args["id"])
    call.write(cmd.set_user_state, cmd.SetUserState(UUID(row["id"]), enabled=True))
    return render_user(_user_by_id(call, row["id"]))


def delete_user(call: Call, args: dict[str, Any]) -> None:
    row = _admin_target_user(call, args["id"])
    call.write(cmd.delete_user, cmd.DeleteUser(UUID(row["id"])))


def register_user_keys(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _user_by_id(call, args["id"])
    if call.caller.role == Role.USER and row["id"] != call.caller.user_id:
        raise PermissionDenied("A user can register keys only for itself")
    call.write(cmd.register_user_keys, cmd.RegisterUserKeys(UUID(row["id"])))
    fresh = _user_by_id(call, row["id"])
    return {
        "apikey": fresh["api_key"],
        "secretkey": call.store.box.open(fresh["sealed_secret_key"]),
    }


PROFILE = (
    Param("email", P.STRING),
    Param("firstname", P.STRING),
    Param("lastname", P.STRING),
    Param("timezone", P.STRING),
)
PASSWORD = Param("password", P.STRING, max_length=255)
DA, RA = Role.DOMAIN_ADMIN, Role.ROOT_ADMIN

COMMANDS = (
    ApiCommand(
        "listDomains",
        list_domains,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("level", P.INTEGER, min_value=0),
            Param("listall", P.BOOLEAN),
        ),
        role=DA,
        shape="list",
        item_key="domain",
        description="Lists domains",
    ),
    ApiCommand(
        "createDomain",
        create_domain,
        (
            Param("name", P.STRING, required=True),
            Param("parentdomainid", P.UUID),
            Param("networkdomain", P.STRING),
        ),
        role=DA,
        item_key="domain",
        description="Creates a domain",
    ),
    ApiCommand(
        "updateDomain",
        update_domain,
        (
            Param("id", P.UUID, required=True),
            Param("name", P.STRING),
            Param("networkdomain", P.STRING),
        ),
        role=DA,
        item_key="domain",
        description="Updates a domain",
    ),
    ApiCommand(
        "deleteDomain",
        delete_domain,
        (Param("id", P.UUID, required=True), Param("cleanup", P.BOOLEAN, default=False)),
        role=DA,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.domain.DeleteDomainCmd",
        description="Deletes a domain",
    ),
    ApiCommand(
        "listAccounts",
        list_accounts,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("accounttype", P.INTEGER),
            Param("state", P.STRING),
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
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("networkdomain", P.STRING),
            Param("timezone", P.STRING),
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
        java_class=f"{ADMIN_PKG}.account.DisableAccountCmd",
        description="Disables an account",
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
    ApiCommand(
        "listUsers",
        list_users,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("username", P.STRING),
            Param("state", P.STRING),
            Param("accounttype", P.INTEGER),
        ),
        shape="list",
        item_key="user",
        description="Lists users",
    ),
    ApiCommand(
        "createUser",
        create_user,
        (
            Param("account", P.STRING, required=True),
            Param("domainid", P.UUID, required=True),
            Param("username", P.STRING, required=True),
            Param("password", P.STRING, required=True),
            Param("email", P.STRING, required=True),
            Param("firstname", P.STRING, required=True),
            Param("lastname", P.STRING, required=True),
            Param("timezone", P.STRING),
        ),
        role=DA,
        item_key="user",
        description="Creates a user for an account",
    ),
    ApiCommand(
        "updateUser",
        update_user,
        (Param("id", P.UUID, required=True), Param("username", P.STRING), PASSWORD, *PROFILE),
        item_key="user",
        description="Updates a user",
    ),
    ApiCommand(
        "disableUser",
        disable_user,
        (Param("id", P.UUID, required=True),),
        role=DA,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.user.DisableUserCmd",
        description="Disables a user",
    ),
    ApiCommand(
        "enableUser",
        enable_user,
        (Param("id", P.UUID, required=True),),
        role=DA,
        item_key="user",
        description="Enables a user",
    ),
    ApiCommand(
        "deleteUser",
        delete_user,
        (Param("id", P.UUID, required=True),),
        role=DA,
        shape="success",
        description="Deletes a user",
    ),
    ApiCommand(
        "registerUserKeys",
        register_user_keys,
        (Param("id", P.UUID, required=True),),
        item_key="userkeys",
        description="Generates API and secret keys for a user",
    ),
)
