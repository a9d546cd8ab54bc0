"""Users: the CloudStack commands, their parameters and responses."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any
from uuid import UUID

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import (
    OWNER_PARAMS,
    account_row,
    resolve_owner_filters,
    select_page,
)
from api.cloudstack.jobs import run_async
from api.custom_ids import given_id
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_date
from api.params import Param, ParamType
from commands import identity as cmd
from domain.configuration import CLOUD_IDENTIFIER
from domain.errors import InvalidParameter, NotFound, PermissionDenied
from domain.values import Secret
from projections.configuration import global_value
from stratus.db import contains

P = ParamType
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"
DA = Role.DOMAIN_ADMIN


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


def user_by_id(call: Call, user_id: str) -> dict[str, Any]:
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


def get_cloud_identifier(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """The cloud's identifier, signed with the user's secret key (HMAC-SHA1, base64) so the
    user can prove which cloud they hold keys of; no signature for a user without keys."""
    row = user_by_id(call, args["userid"])
    with call.read() as cursor:
        identifier = global_value(cursor, CLOUD_IDENTIFIER, "")
    signature = ""
    if row["sealed_secret_key"]:
        secret = call.runtime.store.box.open(row["sealed_secret_key"])
        digest = hmac.new(secret.encode(), identifier.encode(), hashlib.sha1).digest()
        signature = base64.b64encode(digest).decode()
    return {"userid": row["id"], "cloudidentifier": identifier, "signature": signature}


def visible_owner(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """Identity lists show everything the caller can reach unless told to narrow it."""
    filters = resolve_owner_filters(call, args)
    filters["list_all"] = True
    narrowed = "domain_path" in filters or "account_id" in filters
    if not narrowed and call.caller.role != Role.USER:
        filters["domain_path"], filters["recursive"] = call.caller.domain_path, True
    return filters


def profile(args: dict[str, Any]) -> cmd.UserProfile:
    return cmd.UserProfile(
        username=args["username"],
        password=args["password"],
        email=args["email"] or "",
        firstname=args["firstname"] or "",
        lastname=args["lastname"] or "",
        timezone=args["timezone"] or "",
    )


def object_result(outcome: Any, kind: str) -> dict[str, Any]:
    return {"object": kind, "id": str(outcome.id)}


def _user_object(call: Call, user_id: str) -> dict[str, Any]:
    return render_user(user_by_id(call, user_id))


def list_users(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(call.caller, **visible_owner(call, args))
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
        clause, values = contains(("username", "firstname", "lastname"), args["keyword"])
        where.append(clause)
        params += values
    return select_page(call, "users", where, params, "created, id", args, render_user)


def get_user(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """The user holding an API key. The secret key is not shown: it is shown once, when
    registerUserKeys makes it."""
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM users WHERE api_key = %s AND removed = 0", (_wanted_key(args),)
        ).fetchone()
    if row is None:
        raise NotFound("Unable to find user by the given API key")
    return render_user(row)


def _wanted_key(args: dict[str, Any]) -> str:
    key = args["userapikey"] or args["apikey"]
    if not key:
        raise InvalidParameter("Unable to execute API command getuser: userapikey is missing")
    return str(key)


def create_user(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    # 4.3: without `domainid` the account is looked up in the caller's own domain.
    account = account_row(call, args["account"], args["domainid"] or call.caller.domain_id)
    check_reach(
        call.caller,
        account_id=account["id"],
        domain_path=account["domain_path"],
        what="the account",
    )
    if call.caller.role == Role.USER:
        raise PermissionDenied("Only administrators can create users")
    command = cmd.CreateUser(UUID(account["id"]), profile(args), given_id(args["userid"]))
    outcome = call.write(cmd.create_user, command)
    return render_user(user_by_id(call, str(outcome.id)))


def update_user(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = user_by_id(call, args["id"])
    profile = {
        k: args[k] for k in ("email", "firstname", "lastname", "timezone") if args[k] is not None
    }
    command = cmd.UpdateUser(
        UUID(row["id"]), args["username"], args["password"], profile, _keys_by_hand(call, row, args)
    )
    call.write(cmd.update_user, command)
    return render_user(user_by_id(call, row["id"]))


def _keys_by_hand(call: Call, row: dict[str, Any], args: dict[str, Any]) -> Any:
    """The pair of keys set by hand for a user the caller reaches (4.3: both or neither, and an
    API key no other user holds); the secret is sealed as registerUserKeys seals it."""
    api_key, secret_key = args["userapikey"], args["usersecretkey"]
    if api_key is None and secret_key is None:
        return None
    if not api_key or not secret_key:
        raise InvalidParameter("Please provide a userApiKey/userSecretKey pair")
    with call.read() as cursor:
        holder = cursor.execute(
            "SELECT id FROM users WHERE api_key = %s AND id <> %s", (api_key, row["id"])
        ).fetchone()
    if holder is not None:
        raise InvalidParameter("The api key is already held by another user")
    return (api_key, Secret(secret_key))


def disable_user(call: Call, args: dict[str, Any]) -> Submitted:
    row = _admin_target_user(call, args["id"])
    command = cmd.SetUserState(UUID(row["id"]), enabled=False)
    return run_async(
        call,
        instance_type="User",
        instance_id=UUID(row["id"]),
        event_type="USER.DISABLE",
        description=f"Disabling user {row['username']}",
        work=lambda: object_result(cmd.set_user_state(call.store, command), "user"),
    )


def _admin_target_user(call: Call, user_id: str) -> dict[str, Any]:
    row = user_by_id(call, user_id)
    if row["id"] == call.caller.user_id:
        raise PermissionDenied("The caller cannot disable, lock or delete itself")
    return row


def lock_user(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _admin_target_user(call, args["id"])
    call.write(cmd.lock_user, cmd.LockUser(UUID(row["id"])))
    return render_user(user_by_id(call, row["id"]))


def enable_user(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = user_by_id(call, args["id"])
    call.write(cmd.set_user_state, cmd.SetUserState(UUID(row["id"]), enabled=True))
    return render_user(user_by_id(call, row["id"]))


def delete_user(call: Call, args: dict[str, Any]) -> None:
    row = _admin_target_user(call, args["id"])
    call.write(cmd.delete_user, cmd.DeleteUser(UUID(row["id"])))


def register_user_keys(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = user_by_id(call, args["id"])
    if call.caller.role == Role.USER and row["id"] != call.caller.user_id:
        raise PermissionDenied("A user can register keys only for itself")
    call.write(cmd.register_user_keys, cmd.RegisterUserKeys(UUID(row["id"])))
    fresh = user_by_id(call, row["id"])
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

USER_API_KEY = (
    "4.3's GetUserCmd reads the key as userapikey; a signed request's own apiKey takes the name "
    "apikey, so that spelling finds a user only in a session's request"
)

COMMANDS = (
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
        role_extension="a user lists the users of their own account (the list scope limits it)",
        shape="list",
        item_key="user",
        description="Lists users",
    ),
    ApiCommand(
        "getCloudIdentifier",
        get_cloud_identifier,
        (Param("userid", P.UUID, required=True),),
        item_key="cloudidentifier",
        description="Retrieves the cloud identifier, signed with the user's secret key",
    ),
    ApiCommand(
        "getUser",
        get_user,
        (
            Param("userapikey", P.STRING, extension=USER_API_KEY),
            Param("apikey", P.STRING, extension=USER_API_KEY),
        ),
        role=Role.ROOT_ADMIN,
        item_key="user",
        description="Find user account by API key",
    ),
    ApiCommand(
        "createUser",
        create_user,
        (
            Param("account", P.STRING, required=True),
            Param("domainid", P.UUID),
            Param("username", P.STRING, required=True),
            Param("password", P.STRING, required=True),
            Param("email", P.STRING, required=True),
            Param("firstname", P.STRING, required=True),
            Param("lastname", P.STRING, required=True),
            Param("timezone", P.STRING),
            Param("userid", P.STRING),
        ),
        role=DA,
        item_key="user",
        description="Creates a user for an account",
    ),
    ApiCommand(
        "updateUser",
        update_user,
        (
            Param("id", P.UUID, required=True),
            Param("username", P.STRING),
            PASSWORD,
            *PROFILE,
            Param("userapikey", P.STRING),
            Param("usersecretkey", P.STRING),
        ),
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
        item_key="user",
        render=_user_object,
        java_class=f"{ADMIN_PKG}.user.DisableUserCmd",
        description="Disables a user",
    ),
    ApiCommand(
        "lockUser",
        lock_user,
        (Param("id", P.UUID, required=True),),
        role=DA,
        item_key="user",
        description="Locks a user account",
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
