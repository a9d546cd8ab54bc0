"""LDAP: the servers users are found in, listing the directory's users, and making accounts
of them (one by one with ldapCreateAccount, or all of a group with importLdapUsers).

Accounts made from the directory get a random password nobody knows: their users log in with
their directory password, checked by binding to the directory (`api/auth.py`)."""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import select_page
from api.cloudstack.domains import domain_in_reach
from api.cloudstack.identity import NEW_ACCOUNT_PARAMS, render_account
from api.cloudstack.resource_details import detail_pairs
from api.custom_ids import given_id
from api.directory import directory, settings
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands import identity as cmd
from commands.ldap import AddLdapServer, RemoveLdapServer, add_ldap_server, remove_ldap_server
from domain.account import AccountType
from domain.errors import DomainError, InvalidParameter, PermissionDenied, ResourceUnavailable
from stratus.ldap import Directory, DirectoryUnavailable, DirectoryUser

P = ParamType
# 4.3 names the objects of its LDAP answers in mixed case (LdapUser, LdapConfiguration…), unlike
# the rest of the API: clients read them by those names.
log = logging.getLogger(__name__)
LISTTYPES = ("all", "new")


def _directory(call: Call) -> Directory:
    with call.read() as cursor:
        found = directory(cursor, call.runtime.store.box)
    if found is None:
        raise InvalidParameter("LDAP is not configured: add an LDAP configuration first")
    return found


def _unavailable(error: DirectoryUnavailable) -> ResourceUnavailable:
    return ResourceUnavailable(f"The LDAP directory could not be searched: {error}")


def render_server(row: dict[str, Any]) -> dict[str, Any]:
    return {"hostname": row["hostname"], "port": int(row["port"])}


def render_directory_user(user: DirectoryUser, domain: str | None = None) -> dict[str, Any]:
    body = {
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "email": user.email,
        "principal": user.principal,
    }
    if domain or user.domain:
        body["domain"] = domain or user.domain
    return body


# Servers -------------------------------------------------------------------------------------


def add_ldap_configuration(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    hostname, port = args["hostname"], args["port"]
    with call.read() as cursor:
        probe = Directory(settings(cursor, call.runtime.store.box))
        taken = cursor.execute(
            "SELECT 1 FROM ldap_servers WHERE hostname = %s", (hostname,)
        ).fetchone()
    if taken:
        raise InvalidParameter("Duplicate configuration")
    # 4.3 binds to a server as the bind principal before it is added: one that cannot be
    # reached, or refuses the principal, is never listed.
    try:
        probe.check_server(hostname, port)
    except DirectoryUnavailable as error:
        log.info("LDAP server %s:%s not added: %s", hostname, port, error)
        raise InvalidParameter("Unable to bind to the given LDAP server") from None
    call.write(add_ldap_server, AddLdapServer(hostname, port))
    return {"hostname": hostname, "port": port}


def delete_ldap_configuration(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    hostname = args["hostname"]
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM ldap_servers WHERE hostname = %s", (hostname,)
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"Cannot find configuration with hostname {hostname}")
    call.write(remove_ldap_server, RemoveLdapServer(hostname))
    return render_server(row)


def list_ldap_configurations(call: Call, args: dict[str, Any]) -> Listing:
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    for column in ("hostname", "port"):
        if args[column] is not None:
            where.append(f"{column} = %s")
            params.append(args[column])
    if args.get("keyword"):
        where.append("hostname LIKE %s")
        params.append(f"%{args['keyword']}%")
    return select_page(call, "ldap_servers", where, params, "position", args, render_server)


# Users ---------------------------------------------------------------------------------------


def _page(items: list[dict[str, Any]], args: dict[str, Any]) -> Listing:
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(items[paging.offset : end], len(items))


def _known_usernames(call: Call) -> set[str]:
    with call.read() as cursor:
        rows = cursor.execute("SELECT DISTINCT username FROM users WHERE removed = 0").fetchall()
    return {row["username"] for row in rows}


def _matching(users: list[DirectoryUser], keyword: str | None) -> list[DirectoryUser]:
    if not keyword:
        return users
    return [user for user in users if keyword.lower() in user.username.lower()]


def list_ldap_users(call: Call, args: dict[str, Any]) -> Listing:
    listtype = (args["listtype"] or "all").lower()
    if listtype not in LISTTYPES:
        raise InvalidParameter("listtype must be all or new")
    try:
        users = _directory(call).users()
    except DirectoryUnavailable as error:
        raise _unavailable(error) from None
    if listtype == "new":  # only those who are no user of this cloud yet
        known = _known_usernames(call)
        users = [user for user in users if user.username not in known]
    return _page([render_directory_user(user) for user in _matching(users, args["keyword"])], args)


def _account_type(call: Call, kind: int) -> int:
    if kind not in tuple(AccountType):
        raise InvalidParameter(
            "Invalid account type: must be 0 (user), 1 (root admin) or 2 (domain admin)"
        )
    if kind == AccountType.ROOT_ADMIN and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("Only a root administrator can create root administrators")
    return kind


def _profile(user: DirectoryUser, timezone: str | None) -> cmd.UserProfile:
    """A user of this cloud for a directory user: a random password nobody knows (they log in
    with the directory's)."""
    for value, what in (
        (user.email, "email address"),
        (user.firstname, "first name"),
        (user.lastname, "last name"),
    ):
        if not value:
            raise InvalidParameter(f"{user.username} has no {what} set within LDAP")
    return cmd.UserProfile(
        username=user.username,
        password=secrets.token_urlsafe(32),
        email=user.email,
        firstname=user.firstname,
        lastname=user.lastname,
        timezone=timezone or "",
    )


def ldap_create_account(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    domain_id = args["domainid"] or call.caller.domain_id
    domain_in_reach(call, domain_id)
    kind = _account_type(call, args["accounttype"])
    try:
        user = _directory(call).user(args["username"])
    except DirectoryUnavailable as error:
        raise _unavailable(error) from None
    if user is None:
        raise ResourceUnavailable(f"No LDAP user exists with the username of {args['username']}")
    outcome = call.write(
        cmd.create_account,
        cmd.CreateAccount(
            domain_id=UUID(domain_id),
            account_type=kind,
            user=_profile(user, args["timezone"]),
            account_name=args["account"],
            network_domain=args["networkdomain"] or "",
            account_id=given_id(args["accountid"]),
            user_id=given_id(args["userid"]),
            details=detail_pairs(args["accountdetails"]),
        ),
    )
    with call.read() as cursor:
        row = cursor.execute("SELECT * FROM accounts WHERE id = %s", (str(outcome.id),)).fetchone()
    return render_account(call, row)


def import_ldap_users(call: Call, args: dict[str, Any]) -> Listing:
    kind = _account_type(call, args["accounttype"])
    if args["domainid"]:
        domain_in_reach(call, args["domainid"])
    group = args["group"]
    try:
        found = _directory(call)
        users = found.users_in_group(group) if group else found.users()
    except DirectoryUnavailable as error:
        raise _unavailable(error) from None
    imported = []
    how = ImportAs(kind, args["account"], args["timezone"], detail_pairs(args["accountdetails"]))
    for user in _matching(users, args["keyword"]):
        domain = _import_domain(call, args["domainid"], group or user.domain)
        try:
            _import(call, user, domain["id"], how)
        except DomainError as error:  # 4.3 goes on with the others, as here
            log.info("LDAP user %r not imported: %s", user.username, error)
            continue
        imported.append(render_directory_user(user, domain["name"]))
    return _page(imported, args)


@dataclass(frozen=True)
class ImportAs:
    """What importLdapUsers makes of each user: the account type, the account (else one of
    the user's own name), the timezone and the details of each account it makes."""

    kind: int
    account: str | None
    timezone: str | None
    details: dict[str, str]


def _import(call: Call, user: DirectoryUser, domain_id: str, how: ImportAs) -> None:
    """One directory user made a user of this cloud: in an account of their own name, or in
    the named account (made, with the details, by the first user imported into it)."""
    profile = _profile(user, how.timezone)
    existing = _account_named(call, how.account, domain_id) if how.account else None
    if existing is not None:
        call.write(cmd.create_user, cmd.CreateUser(UUID(existing), profile))
        return
    command = cmd.CreateAccount(
        UUID(domain_id), how.kind, profile, account_name=how.account, details=how.details
    )
    call.write(cmd.create_account, command)


def _account_named(call: Call, name: str, domain_id: str) -> str | None:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM accounts WHERE name = %s AND domain_id = %s AND removed = 0",
            (name, domain_id),
        ).fetchone()
    return row["id"] if row else None


def _import_domain(call: Call, domain_id: str | None, name: str) -> dict[str, Any]:
    """Where an imported user goes: the given domain; else the domain named after their group
    (or organisational unit) under ROOT, made when missing; else ROOT."""
    if domain_id:
        return domain_in_reach(call, domain_id)
    path = f"/{name}/" if name else "/"
    row = _domain_at(call, path)
    if row is None:
        root = _domain_at(call, "/")
        assert root is not None
        # Another import may make it at the same moment: then it is there to be found.
        with contextlib.suppress(InvalidParameter):
            call.write(cmd.create_domain, cmd.CreateDomain(name, UUID(root["id"])))
        row = _domain_at(call, path)
        if row is None:
            raise ResourceUnavailable(f"The domain {name} for LDAP users could not be made")
    return row


def _domain_at(call: Call, path: str) -> dict[str, Any] | None:
    with call.read() as cursor:
        row: dict[str, Any] | None = cursor.execute(
            "SELECT * FROM domains WHERE path = %s AND removed = 0", (path,)
        ).fetchone()
    return row


ROOT_ADMIN = Role.ROOT_ADMIN

COMMANDS = (
    ApiCommand(
        "addLdapConfiguration",
        add_ldap_configuration,
        (Param("hostname", P.STRING, required=True), Param("port", P.INTEGER, required=True)),
        role=ROOT_ADMIN,
        item_key="LdapAddConfiguration",
        description="Adds an LDAP server, after binding to it as the bind principal",
    ),
    ApiCommand(
        "deleteLdapConfiguration",
        delete_ldap_configuration,
        (Param("hostname", P.STRING, required=True),),
        role=ROOT_ADMIN,
        item_key="LdapDeleteConfiguration",
        description="Removes an LDAP server",
    ),
    ApiCommand(
        "listLdapConfigurations",
        list_ldap_configurations,
        (Param("hostname", P.STRING), Param("port", P.INTEGER)),
        role=Role.USER,
        shape="list",
        item_key="LdapConfiguration",
        description="Lists the LDAP servers, in the order they are tried",
    ),
    ApiCommand(
        "listLdapUsers",
        list_ldap_users,
        (Param("listtype", P.STRING),),
        role=ROOT_ADMIN,
        shape="list",
        item_key="LdapUser",
        description="Lists the users of the LDAP directory (listtype=new: those who are no "
        "user of the cloud yet)",
    ),
    ApiCommand(
        "ldapCreateAccount",
        ldap_create_account,
        (
            Param("username", P.STRING, required=True),
            Param("accounttype", P.SHORT, required=True),
            *NEW_ACCOUNT_PARAMS,
        ),
        role=ROOT_ADMIN,
        item_key="account",
        description="Creates an account for a user of the LDAP directory",
    ),
    ApiCommand(
        "importLdapUsers",
        import_ldap_users,
        (
            Param("accounttype", P.SHORT, required=True),
            Param("domainid", P.UUID),
            Param("group", P.STRING),
            Param("account", P.STRING),
            Param("timezone", P.STRING),
            Param("accountdetails", P.MAP),
        ),
        role=ROOT_ADMIN,
        shape="list",
        item_key="LdapUser",
        description="Makes accounts of the users of the LDAP directory, or of one group",
    ),
)
