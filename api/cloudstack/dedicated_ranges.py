"""Ranges dedicated to an account: guest VLAN ranges of a physical network
(dedicateGuestVlanRange, listDedicatedGuestVlanRanges, releaseDedicatedGuestVlanRange) and
public IP ranges (dedicatePublicIpRange, releasePublicIpRange).

An account's isolated networks take their VLAN (VNI) from its dedicated ranges first, and no
other account's network ever takes one of them (commands.dedication.guest_vnet_candidates); an
account's addresses come from its dedicated public ranges first, and no other account gets an
address of them (commands.network_public_ips.acquire_public_ip).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import Role
from api.cloudstack.common import (
    PROJECT_ID,
    account_row,
    domain_row,
    limit_sql,
    names_of,
    owner_of,
    project_row,
)
from api.cloudstack.jobs import run_async
from api.cloudstack.public_ips import _range_row, render_range
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.errors import BadRequestParameter
from api.params import Param, ParamType, not_found
from commands import dedication as cmd
from commands import network_public_ips as ips
from domain.dedication import Owner, parse_vlan_range
from domain.errors import InvalidParameter

P = ParamType
NETWORK_PKG = "org.apache.cloudstack.api.command.admin.network"
VLAN_PKG = "org.apache.cloudstack.api.command.admin.vlan"
ITEM = "dedicatedguestvlanrange"


# ---- guest VLAN ranges -----------------------------------------------------------------------


def _render_vlans(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = names_of(
        call,
        {
            "accounts": {r["account_id"] for r in rows if r["account_id"]},
            "domains": {r["domain_id"] for r in rows},
        },
    )
    return [
        {
            "id": r["id"],
            "account": names["accounts"].get(r["account_id"] or ""),
            "domainid": r["domain_id"],
            "domain": names["domains"].get(r["domain_id"]),
            "guestvlanrange": f"{r['first_vnet']}-{r['last_vnet']}",
            "physicalnetworkid": r["physical_network_id"],
            "zoneid": r["zone_id"],
        }
        for r in rows
    ]


_VLANS = (
    "SELECT g.*, p.zone_id AS zone_id FROM dedicated_guest_vlan_ranges AS g "
    "JOIN physical_networks AS p ON p.id = g.physical_network_id WHERE g.removed = 0"
)


def _vlan_row(call: Call, range_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(_VLANS + " AND g.id = %s", (range_id,)).fetchone()
    if row is None:
        raise InvalidParameter(f"Unable to find dedicated guest vlan range by id {range_id}")
    return dict(row)


def _physical(call: Call, physical_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM physical_networks WHERE id = %s AND removed = 0", (physical_id,)
        ).fetchone()
    if row is None:
        raise not_found("physicalnetworkid", physical_id)
    return dict(row)


def _taken_by_others(call: Call, physical_id: str, first: int, last: int, account_id: str) -> Any:
    """A network of another account holding an id of the range, if any."""
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT name, account_id, broadcast_uri FROM networks WHERE removed = 0 "
            "AND physical_network_id = %s AND account_id <> %s",
            (physical_id, account_id),
        ).fetchall()
    for row in rows:
        tag = str(row["broadcast_uri"]).rsplit("/", 1)[-1]
        if tag.isdigit() and first <= int(tag) <= last:
            return row
    return None


# 4.3 requires `account` and `domainid` of its dedications even where `projectid` names the owner.
BY_PROJECT = "not needed when projectid names the project whose account the range is dedicated to"
DEDICATED_TO = (
    Param("account", P.STRING, extension=BY_PROJECT),
    Param("domainid", P.UUID, extension=BY_PROJECT),
    PROJECT_ID,
)


def dedicated_owner(call: Call, args: dict[str, Any]) -> tuple[str, str]:
    """(account id, domain id) a range is dedicated to: a project's own account (`projectid`,
    with no `account`), else the account named by `account` and `domainid`, both required."""
    if args["projectid"]:
        owner = owner_of(call, args)
        return owner.account_id, owner.domain_id
    for name in ("account", "domainid"):
        if not args[name]:
            raise BadRequestParameter(
                f"Unable to execute API command {call.command.name.lower()} due to missing "
                f"parameter {name}"
            )
    account = account_row(call, args["account"], domain_row(call, str(args["domainid"]))["id"])
    return str(account["id"]), str(account["domain_id"])


def dedicate_vlans(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(call, str(args["physicalnetworkid"]))
    first, last = parse_vlan_range(args["vlanrange"], physical["isolation"])
    account_id, domain_id = dedicated_owner(call, args)
    taken = _taken_by_others(call, physical["id"], first, last, account_id)
    if taken is not None:
        raise InvalidParameter(
            f"Guest vlan {taken['broadcast_uri']} of the range is in use by network "
            f"{taken['name']} of another account"
        )
    command = cmd.DedicateGuestVlans(
        UUID(physical["id"]),
        Owner(UUID(domain_id), UUID(account_id)),
        first,
        last,
        uuid4(),
    )
    outcome = call.write(cmd.dedicate_guest_vlans, command)
    return _render_vlans(call, [_vlan_row(call, str(outcome.id))])[0]


def list_vlans(call: Call, args: dict[str, Any]) -> Listing:
    sql, params = _VLANS, []
    for key, column in (
        ("id", "g.id"),
        ("physicalnetworkid", "g.physical_network_id"),
        ("zoneid", "p.zone_id"),
        ("domainid", "g.domain_id"),
    ):
        if args[key]:
            sql += f" AND {column} = %s"
            params.append(str(args[key]))
    if args["account"]:
        if not args["domainid"]:
            raise InvalidParameter("Specify domainid with account")
        sql += " AND g.account_id = %s"
        params.append(account_row(call, args["account"], str(args["domainid"]))["id"])
    if args["projectid"]:
        sql += " AND g.account_id = %s"
        params.append(project_row(call, str(args["projectid"]))["account_id"])
    if args["guestvlanrange"]:
        first, last = parse_vlan_range(args["guestvlanrange"], "VXLAN")  # the widest ids
        sql += " AND g.first_vnet = %s AND g.last_vnet = %s"
        params += [first, last]
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()
        rows = cursor.execute(
            sql + " ORDER BY g.created, g.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing(_render_vlans(call, [dict(r) for r in rows]), int(count["n"]))


def release_vlans(call: Call, args: dict[str, Any]) -> Submitted:
    row = _vlan_row(call, str(args["id"]))

    def work() -> dict[str, Any]:
        cmd.release_guest_vlans(call.store, UUID(row["physical_network_id"]), UUID(row["id"]))
        return {"success": True}

    return run_async(
        call,
        instance_type="DedicatedGuestVlanRange",
        instance_id=UUID(row["id"]),
        event_type="GUESTVLANRANGE.RELEASE",
        description=f"Releasing dedicated guest vlan range {row['first_vnet']}-{row['last_vnet']}",
        work=work,
    )


# ---- public IP ranges ------------------------------------------------------------------------


def dedicate_public(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    ip_range = _range_row(call, str(args["id"]))
    account_id, domain_id = dedicated_owner(call, args)
    with call.read() as cursor:
        others = cursor.execute(
            "SELECT count(*) AS n FROM public_ips WHERE vlan_range_id = %s "
            "AND state = 'Allocated' AND account_id <> %s",
            (ip_range["id"], account_id),
        ).fetchone()["n"]
    call.write(
        lambda store, _: ips.dedicate_vlan_ip_range(
            store, UUID(ip_range["id"]), UUID(account_id), UUID(domain_id), int(others)
        ),
        None,
    )
    return render_range(_range_row(call, ip_range["id"]))


def release_public(call: Call, args: dict[str, Any]) -> None:
    ip_range = _range_row(call, str(args["id"]))
    call.write(lambda store, _: ips.release_vlan_ip_range(store, UUID(ip_range["id"])), None)


COMMANDS = (
    ApiCommand(
        "dedicateGuestVlanRange",
        dedicate_vlans,
        (
            Param("vlanrange", P.STRING, required=True),
            *DEDICATED_TO,
            Param("physicalnetworkid", P.UUID, required=True),
        ),
        role=Role.ROOT_ADMIN,
        item_key=ITEM,
        java_class=f"{NETWORK_PKG}.DedicateGuestVlanRangeCmd",
        description="Dedicates a guest vlan range to an account",
    ),
    ApiCommand(
        "listDedicatedGuestVlanRanges",
        list_vlans,
        (
            Param("id", P.UUID),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("guestvlanrange", P.STRING),
            Param("physicalnetworkid", P.UUID),
            Param("zoneid", P.UUID),
            PROJECT_ID,
        ),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key=ITEM,
        java_class=f"{NETWORK_PKG}.ListDedicatedGuestVlanRangesCmd",
        description="Lists dedicated guest vlan ranges",
    ),
    ApiCommand(
        "releaseDedicatedGuestVlanRange",
        release_vlans,
        (Param("id", P.UUID, required=True),),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        java_class=f"{NETWORK_PKG}.ReleaseDedicatedGuestVlanRangeCmd",
        description="Releases a dedicated guest vlan range to the system",
    ),
    ApiCommand(
        "dedicatePublicIpRange",
        dedicate_public,
        (
            Param("id", P.UUID, required=True),
            *DEDICATED_TO,
        ),
        role=Role.ROOT_ADMIN,
        item_key="vlan",
        java_class=f"{VLAN_PKG}.DedicatePublicIpRangeCmd",
        description="Dedicates a Public IP range to an account",
    ),
    ApiCommand(
        "releasePublicIpRange",
        release_public,
        (Param("id", P.UUID, required=True),),
        role=Role.ROOT_ADMIN,
        shape="success",
        java_class=f"{VLAN_PKG}.ReleasePublicIpRangeCmd",
        description="Releases a Public IP range back to the system pool",
    ),
)
