"""Remote access VPN and VPN users: createRemoteAccessVpn, deleteRemoteAccessVpn,
listRemoteAccessVpns, addVpnUser, removeVpnUser, listVpnUsers.

The pre-shared key is generated here and shown once, to its owner, in the result of the job
that created the VPN; no list shows it. A VPN user's password is never shown at all.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import orjson

from api import display
from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    limit_sql,
    owner_of,
    resolve_owner_filters,
)
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.cloudstack.jobs import hypervisor_job, run_async
from api.cloudstack.networks import network_row
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import vpn as cmd
from domain.errors import InvalidParameter, NotFound
from domain.values import Secret
from domain.vpn import DEFAULT_IP_RANGE, RemoteAccessVpn, check_credentials, vpn_user_id
from projections.vpn import live_vpns_of_account, vpn_users_of_account
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.vpn"
PSK_LENGTH = 24  # remote.access.vpn.psk.length's default
USER_LIMIT = 8  # remote.access.vpn.user.limit's default
_KEY_ALPHABET = string.ascii_letters + string.digits

_VPN_SELECT = (
    "SELECT v.*, a.name AS account_name, a.domain_name AS domain_name, "
    f"a.domain_path AS domain_path, {display.shown_column('v.id')} FROM remote_access_vpns AS v "
    "JOIN accounts AS a ON a.id = v.account_id"
)
_USER_SELECT = (
    "SELECT u.*, a.name AS account_name, a.domain_name AS domain_name, "
    "a.domain_path AS domain_path FROM vpn_users AS u JOIN accounts AS a ON a.id = u.account_id"
)


def _owner(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """The account meant (see `common.owner_of`): the caller's, a project's, or one an admin
    names with `account` and `domainid`."""
    owner = owner_of(call, args)
    caller = call.caller
    if owner.account_id == caller.account_id:
        return {"id": caller.account_id, "domain_id": caller.domain_id, "name": caller.account_name}
    with call.read() as cursor:
        row = cursor.execute("SELECT * FROM accounts WHERE id = %s", (owner.account_id,))
        return dict(row.fetchone())


def _router_of(call: Call, network_id: str, vpc_id: str | None = None) -> UUID | None:
    """The router serving a VPN: its network's, or (`vpc_id`) its VPC's."""
    if vpc_id:
        from commands.vpcs import vpc_router

        router = vpc_router(call.store, UUID(vpc_id))
        return router.id if router is not None else None
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT r.id FROM router_networks AS n JOIN system_vms AS r ON r.id = n.router_id "
            "WHERE n.network_id = %s AND r.removed = 0 ORDER BY r.created DESC LIMIT 1",
            (network_id,),
        ).fetchone()
    return UUID(row["id"]) if row else None


def _refresh(call: Call, account_id: str) -> None:
    """Every live VPN of the account is sent its users again."""
    with call.read() as cursor:
        vpns = live_vpns_of_account(cursor, account_id)
        users = [UUID(u) for u in vpn_users_of_account(cursor, account_id)]
    pairs = [(UUID(v["id"]), _router_of(call, v["network_id"], v.get("vpc_id"))) for v in vpns]
    cmd.refresh_vpns(call.store, pairs, users)


# ---- remote access VPNs --------------------------------------------------------------------


def vpn_row(call: Call, *, vpn_id: str | None = None, public_ip_id: str | None = None) -> dict:
    column, value = ("v.id", vpn_id) if vpn_id else ("v.public_ip_id", public_ip_id)
    with call.read() as cursor:
        row = cursor.execute(
            _VPN_SELECT + f" WHERE {column} = %s AND v.state <> 'Removed'", (value,)
        ).fetchone()
    if row is None:
        raise NotFound(f"Unable to find a remote access VPN for {value}")
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the remote access VPN",
    )
    return dict(row)


def vpn_on_address(call: Call, public_ip_id: str) -> tuple[UUID, UUID | None] | None:
    """The live remote access VPN on an address, with the router serving it, if any."""
    with call.read() as cursor:
        row = cursor.execute(
            _VPN_SELECT + " WHERE v.public_ip_id = %s AND v.state <> 'Removed'", (public_ip_id,)
        ).fetchone()
    if row is None:
        return None
    return UUID(row["id"]), _router_of(call, row["network_id"], row.get("vpc_id"))


def render_vpn(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "publicipid": row["public_ip_id"],
        "publicip": row["public_ip"],
        "iprange": row["ip_range"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "state": row["state"],
        "fordisplay": display.shown(row),
    }


def _created_vpn(call: Call, vpn_id: str) -> tuple[str, dict[str, Any]]:
    """The created VPN; the first of its job's answers to its owner shows the pre-shared key."""
    with call.read() as cursor:
        row = cursor.execute(_VPN_SELECT + " WHERE v.id = %s", (vpn_id,)).fetchone()
    if row is None:
        raise not_found("id", vpn_id)
    body = render_vpn(dict(row))
    if call.caller.account_id == row["account_id"]:
        with call.acting():
            first = cmd.disclose_key(call.store, UUID(vpn_id), UUID(call.caller.user_id))
        if first:
            body["presharedkey"] = _key_of(call, vpn_id)
    return "remoteaccessvpn", body


def _key_of(call: Call, vpn_id: str) -> str:
    vpn: RemoteAccessVpn = call.store.get(RemoteAccessVpn, UUID(vpn_id))
    return vpn.preshared_key.reveal()


def _with_key(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    """A listed VPN; its owner sees its pre-shared key, as CloudStack shows it."""
    body = render_vpn(row)
    if call.caller.account_id == row["account_id"]:
        body["presharedkey"] = _key_of(call, row["id"])
    return body


def _vpn_object(call: Call, vpn_id: str) -> dict[str, Any]:
    return _created_vpn(call, vpn_id)[1]


def _public_ip(call: Call, public_ip_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT p.*, a.domain_path AS domain_path FROM public_ips AS p "
            "LEFT JOIN accounts AS a ON a.id = p.account_id WHERE p.id = %s",
            (public_ip_id,),
        ).fetchone()
    if row is None or row["account_id"] is None:
        raise not_found("publicipid", public_ip_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the public ip address",
    )
    if not row["network_id"] and not row["vpc_id"]:
        raise InvalidParameter(
            f"The ip address {row['address']} is not associated with any network"
        )
    return dict(row)


def _served_by(call: Call, ip: dict[str, Any]) -> tuple[UUID | None, UUID | None]:
    """(network, VPC) whose router would serve a VPN on the address: an isolated network
    offering Vpn, or, as in 4.3, a VPC offering Vpn on its source NAT address only."""
    if ip["vpc_id"]:
        from api.cloudstack.vpcs import vpc_row

        vpc = vpc_row(call, ip["vpc_id"], "publicipid")
        if not ip["source_nat"]:
            raise InvalidParameter(
                "Vpn service can be enabled only on the source nat ip address of the VPC "
                f"{vpc['name']}"
            )
        if "Vpn" not in orjson.loads(vpc["services"] or "{}"):
            raise InvalidParameter(f"Vpn service is not supported in VPC {vpc['name']}")
        return None, UUID(vpc["id"])
    network = network_row(call, ip["network_id"], "publicipid")
    if network["guest_type"] != "Isolated" or "Vpn" not in (network["services"] or ()):
        raise InvalidParameter(f"Vpn service is not supported in network id={network['id']}")
    return UUID(network["id"]), None


def create_vpn(call: Call, args: dict[str, Any]) -> Submitted:
    ip = _public_ip(call, args["publicipid"])
    network_id, vpc_id = _served_by(call, ip)
    with call.read() as cursor:
        taken = cursor.execute(
            "SELECT id FROM remote_access_vpns WHERE public_ip_id = %s AND state <> 'Removed'",
            (ip["id"],),
        ).fetchone()
        users = tuple(UUID(u) for u in vpn_users_of_account(cursor, ip["account_id"]))
    if taken is not None:
        raise InvalidParameter("A Remote Access VPN already exists for this public Ip address")
    key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(PSK_LENGTH))
    vpn_id = uuid4()
    command = cmd.CreateRemoteAccessVpn(
        vpn_id,
        UUID(ip["id"]),
        ip["address"],
        network_id,
        UUID(ip["account_id"]),
        UUID(ip["domain_id"]),
        UUID(ip["zone_id"]),
        args["iprange"] or DEFAULT_IP_RANGE,
        Secret(key),
        _router_of(call, str(network_id), str(vpc_id) if vpc_id else None),
        users,
        vpc_id=vpc_id,
    )
    display.hide_new(call, args, "RemoteAccessVpn", vpn_id)
    return _router_job(
        call,
        vpn_id,
        "VPN.REMOTE.ACCESS.CREATE",
        f"Create Remote Access VPN for account {ip['account_id']} using public ip {ip['address']}",
        lambda job_id: cmd.create_vpn(call.store, _with_job(command, job_id)),
        creates=True,
    )


def _with_job(command: cmd.CreateRemoteAccessVpn, job_id: UUID) -> cmd.CreateRemoteAccessVpn:
    return replace(command, job_id=job_id)


def _router_job(
    call: Call, vpn_id: UUID, event: str, text: str, work: Any, *, creates: bool = False
) -> Submitted:
    """A job the router's answer finishes; errors before the request fail it at once."""
    job_id = hypervisor_job(call, "RemoteAccessVpn", vpn_id, event, text, work)
    return Submitted(str(job_id), str(vpn_id) if creates else None)


def delete_vpn(call: Call, args: dict[str, Any]) -> Submitted:
    row = vpn_row(call, public_ip_id=args["publicipid"])
    router = _router_of(call, row["network_id"], row.get("vpc_id"))
    return _router_job(
        call,
        UUID(row["id"]),
        "VPN.REMOTE.ACCESS.DESTROY",
        f"Delete Remote Access VPN for account {row['account_id']} in public ip {row['public_ip']}",
        lambda job_id: cmd.delete_vpn(call.store, UUID(row["id"]), router, job_id),
    )


def list_vpns(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["v.state <> 'Removed'", scope.clause], list(scope.params)
    for key, column in (
        ("id", "v.id"),
        ("publicipid", "v.public_ip_id"),
        ("networkid", "v.network_id"),
    ):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    display.narrow(call, args, "v.id", where)
    sql = _VPN_SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY v.created, v.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([_with_key(call, dict(r)) for r in rows], int(count))


# ---- VPN users -----------------------------------------------------------------------------


def render_user(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "state": row["state"],
    }


def _user(call: Call, user_id: str) -> tuple[str, dict[str, Any]]:
    with call.read() as cursor:
        row = cursor.execute(_USER_SELECT + " WHERE u.id = %s", (user_id,)).fetchone()
    if row is None:
        raise not_found("id", user_id)
    return "vpnuser", render_user(dict(row))


def _vpn_user_object(call: Call, user_id: str) -> dict[str, Any]:
    return _user(call, user_id)[1]


def add_user(call: Call, args: dict[str, Any]) -> Submitted:
    account = _owner(call, args)
    check_credentials(args["username"], args["password"])
    with call.read() as cursor:
        present = vpn_users_of_account(cursor, account["id"])
    user_id = vpn_user_id(UUID(account["id"]), args["username"])
    if str(user_id) in present:
        raise InvalidParameter(
            f"VPN User with name {args['username']} is already added for account {account['name']}"
        )
    if len(present) >= USER_LIMIT:
        raise InvalidParameter(
            f"Cannot add more than {USER_LIMIT} remote access vpn users to account "
            f"{account['name']}"
        )
    command = cmd.AddVpnUser(
        args["username"], Secret(args["password"]), UUID(account["id"]), UUID(account["domain_id"])
    )

    def work() -> dict[str, Any]:
        cmd.add_user(call.store, command)
        _refresh(call, account["id"])
        return {"object": "vpnuser", "id": str(user_id)}

    return _user_job(
        call, user_id, "VPN.USER.ADD", f"Add Remote Access VPN user {args['username']}", work, True
    )


def remove_user(call: Call, args: dict[str, Any]) -> Submitted:
    account = _owner(call, args)
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM vpn_users WHERE account_id = %s AND username = %s AND removed = 0",
            (account["id"], args["username"]),
        ).fetchone()
    if row is None:
        raise InvalidParameter(
            f"Could not find vpn user {args['username']} for account {account['name']}"
        )
    user_id = UUID(row["id"])

    def work() -> dict[str, Any]:
        cmd.remove_user(call.store, user_id)
        _refresh(call, account["id"])
        return {"success": True}

    return _user_job(
        call, user_id, "VPN.USER.REMOVE", f"Remove Remote Access VPN user {args['username']}", work
    )


def _user_job(
    call: Call, user_id: UUID, event: str, text: str, work: Any, creates: bool = False
) -> Submitted:
    return run_async(
        call,
        instance_type="VpnUser",
        instance_id=user_id,
        event_type=event,
        description=text,
        work=work,
        creates=creates,
    )


def list_users(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["u.removed = 0", scope.clause], list(scope.params)
    for key, column in (("id", "u.id"), ("username", "u.username")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args["keyword"]:
        clause, values = contains(("u.username",), args["keyword"])
        where.append(clause)
        params += values
    sql = _USER_SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY u.created, u.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render_user(dict(r)) for r in rows], int(count))


# ---- the table -----------------------------------------------------------------------------

OWNER = (Param("account", P.STRING), Param("domainid", P.UUID))
VPN_USER_OWNER = (*OWNER, OWNER_PROJECT_ID)
_JOB_OBJECTS = {"remoteaccessvpn": _vpn_object, "vpnuser": _vpn_user_object}


def _async(name: str, handler: Any, params: tuple, java: str, text: str, key: str) -> ApiCommand:
    return ApiCommand(
        name,
        handler,
        params,
        shape="async",
        is_async=True,
        item_key=key,
        render=_JOB_OBJECTS.get(key),
        java_class=f"{PKG}.{java}",
        description=text,
    )


COMMANDS = (
    _async(
        "createRemoteAccessVpn",
        create_vpn,
        (
            Param("publicipid", P.UUID, required=True),
            Param("iprange", P.STRING),
            Param("openfirewall", P.BOOLEAN, default=True),
            *OWNER,
            display.FOR_DISPLAY,
        ),
        "CreateRemoteAccessVpnCmd",
        "Creates a l2tp/ipsec remote access vpn",
        "remoteaccessvpn",
    ),
    _async(
        "deleteRemoteAccessVpn",
        delete_vpn,
        (Param("publicipid", P.UUID, required=True),),
        "DeleteRemoteAccessVpnCmd",
        "Destroys a l2tp/ipsec remote access vpn",
        "",
    ),
    ApiCommand(
        "listRemoteAccessVpns",
        list_vpns,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("publicipid", P.UUID),
            Param("networkid", P.UUID),
            display.FOR_DISPLAY_CHANGE,
            LIST_PROJECT_ID,
        ),
        shape="list",
        item_key="remoteaccessvpn",
        java_class=f"{PKG}.ListRemoteAccessVpnsCmd",
        description="Lists remote access vpns",
    ),
    _async(
        "addVpnUser",
        add_user,
        (
            Param("username", P.STRING, required=True),
            Param("password", P.STRING, required=True),
            *VPN_USER_OWNER,
        ),
        "AddVpnUserCmd",
        "Adds vpn users",
        "vpnuser",
    ),
    _async(
        "removeVpnUser",
        remove_user,
        (Param("username", P.STRING, required=True), *VPN_USER_OWNER),
        "RemoveVpnUserCmd",
        "Removes vpn user",
        "",
    ),
    ApiCommand(
        "listVpnUsers",
        list_users,
        (*OWNER_PARAMS, Param("id", P.UUID), Param("username", P.STRING), LIST_PROJECT_ID),
        shape="list",
        item_key="vpnuser",
        java_class=f"{PKG}.ListVpnUsersCmd",
        description="Lists vpn users",
    ),
)
