"""Network ACLs of VPC tiers: ACL lists (createNetworkACLList, deleteNetworkACLList,
replaceNetworkACLList, listNetworkACLLists) and their items (createNetworkACL,
updateNetworkACLItem, deleteNetworkACL, listNetworkACLs).

A change is checked at once (bad values, a taken number, a default list, someone else's VPC
answer before any job exists); the VPC's router then applies the VPC's whole set under an
async job, which its answer finishes (at once when no router has to hold it).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api import display
from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    limit_sql,
    resolve_owner_filters,
)
from api.cloudstack.jobs import run_async
from api.cloudstack.network_rules import submitted, write
from api.cloudstack.networks import network_row
from api.cloudstack.vpcs import job_of, vpc_row
from api.custom_ids import CUSTOM_ID
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.display import FOR_DISPLAY, FOR_DISPLAY_CHANGE
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import network_acls as cmd
from commands.network_rules import JobSpec
from domain.errors import InvalidParameter, ResourceInUse
from domain.network_acl import AclItemInput, checked_protocol, is_default_list
from projections.vpcs import acl_item_by_id, acl_list_by_id, gateway_by_id
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.network"


def acl_job(call: Call, java_class: str, event_type: str, text: str, kind: str) -> JobSpec:
    return job_of(call, f"{PKG}.{java_class}", event_type, text, kind)


# ---- reading --------------------------------------------------------------------------------


def acl_list_row(call: Call, acl_id: str, name: str = "id") -> dict[str, Any]:
    """A list the caller may use: a default one, or one of a VPC the caller reaches."""
    with call.read() as cursor:
        row = acl_list_by_id(cursor, acl_id)
    if row is None:
        raise not_found(name, acl_id)
    if row["vpc_id"]:
        check_reach(
            call.caller,
            account_id=row["account_id"],
            domain_path=row["domain_path"] or "",
            what="the network ACL",
        )
    return row


def _item_row(call: Call, item_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = acl_item_by_id(cursor, item_id)
    if row is None:
        raise not_found("id", item_id)
    if row["vpc_id"]:
        check_reach(
            call.caller,
            account_id=row["account_id"],
            domain_path=row["domain_path"] or "",
            what="the network ACL item",
        )
    return row


def render_acl_list(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "fordisplay": display.shown(row),
    }
    if row["vpc_id"]:
        body["vpcid"] = row["vpc_id"]
    return body


def render_acl_item(row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row["id"],
        "aclid": row["acl_id"],
        "number": row["number"],
        "protocol": row["protocol"],
        "traffictype": row["traffic_type"],
        "action": row["action"],
        "cidrlist": row["cidrs"],
        "state": row["state"],
        "fordisplay": display.shown(row),
    }
    for key, column in (
        ("startport", "start_port"),
        ("endport", "end_port"),
        ("icmptype", "icmp_type"),
        ("icmpcode", "icmp_code"),
    ):
        if row[column] is not None:
            body[key] = row[column]
    return body


def _acl_list(call: Call, acl_id: str) -> dict[str, Any]:
    return render_acl_list(display.mark(call, [acl_list_row(call, acl_id)])[0])


def _acl_item(call: Call, item_id: str) -> dict[str, Any]:
    return render_acl_item(display.mark(call, [_item_row(call, item_id)])[0])


def _visible(call: Call, args: dict[str, Any], where: list[str], params: list[Any]) -> None:
    """Default lists (no VPC) to everyone; the others to whoever reaches their VPC's owner."""
    owner = resolve_owner_filters(call, args)
    scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
    visible = f"(v.id IS NOT NULL AND v.removed = 0 AND {scope.clause})"
    if not ({"account_id", "domain_path"} & owner.keys()):
        visible = f"({visible} OR x.vpc_id IS NULL)"
    where.append(visible)
    params += scope.params


def _page(
    call: Call, sql: str, where: list[str], params: list[Any], order: str, args: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    query = sql + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({query}) AS q", params).fetchone()
        rows = cursor.execute(query + order + limit_sql(args["paging"]), params).fetchall()
    return [dict(r) for r in rows], int(count["n"])


_LIST_SQL = (
    f"SELECT x.*, {display.shown_column('x.id')} FROM network_acl_lists AS x "
    "LEFT JOIN vpcs AS v ON v.id = x.vpc_id "
    "LEFT JOIN accounts AS a ON a.id = v.account_id"
)


def _filtered(
    call: Call,
    args: dict[str, Any],
    filters: tuple[tuple[str, str], ...],
    network_column: str,
    searched: tuple[str, ...],
) -> tuple[list[str], list[Any]]:
    """The visible rows' conditions: each filter given, the ACL of `networkid` (on
    `network_column`) and the keyword over the `searched` columns."""
    where: list[str] = []
    params: list[Any] = []
    _visible(call, args, where, params)
    for key, clause in filters:
        if args[key] is not None:
            where.append(clause)
            params.append(args[key])
    if args["networkid"]:
        network = network_row(call, args["networkid"], "networkid")
        where.append(f"{network_column} = %s")
        params.append(network["acl_id"] or "")
    if args.get("keyword"):
        clause, values = contains(searched, args["keyword"])
        where.append(clause)
        params += values
    return where, params


def list_acl_lists(call: Call, args: dict[str, Any]) -> Listing:
    filters = (("id", "x.id = %s"), ("vpcid", "x.vpc_id = %s"), ("name", "x.name = %s"))
    where, params = _filtered(call, args, filters, "x.id", ("x.name", "x.description"))
    display.narrow(call, args, "x.id", where)
    rows, count = _page(call, _LIST_SQL, where, params, " ORDER BY x.created, x.name", args)
    return Listing([render_acl_list(r) for r in rows], count)


_ITEM_SQL = (
    f"SELECT x.*, {display.shown_column('x.id')} FROM network_acl_items AS x "
    "LEFT JOIN vpcs AS v ON v.id = x.vpc_id "
    "LEFT JOIN accounts AS a ON a.id = v.account_id"
)


def list_acl_items(call: Call, args: dict[str, Any]) -> Listing:
    filters = (
        ("id", "x.id = %s"),
        ("aclid", "x.acl_id = %s"),
        ("traffictype", "lower(x.traffic_type) = lower(%s)"),
        ("action", "lower(x.action) = lower(%s)"),
        ("protocol", "lower(x.protocol) = lower(%s)"),
    )
    where, params = _filtered(call, args, filters, "x.acl_id", ("x.protocol", "x.cidrs"))
    narrow(args, "NetworkACL", "x.id", where, params)
    display.narrow(call, args, "x.id", where)
    order = " ORDER BY x.acl_id, x.number"
    rows, count = _page(call, _ITEM_SQL, where, params, order, args)
    return Listing([render_acl_item(r) for r in rows], count)


# ---- ACL lists ------------------------------------------------------------------------------


def create_acl_list(call: Call, args: dict[str, Any]) -> Submitted:
    vpc = vpc_row(call, args["vpcid"], "vpcid")
    if not args["name"]:
        raise InvalidParameter("A network ACL list needs a name")
    command = cmd.CreateAclList(UUID(vpc["id"]), args["name"], args["description"] or "")
    display.hide_new(call, args, "NetworkACLList", command.acl_id)

    def work() -> dict[str, Any]:
        cmd.create_acl_list(call.store, command)
        return {"object": "networkacllist", "id": str(command.acl_id)}

    return run_async(
        call,
        instance_type="NetworkAcl",
        instance_id=command.acl_id,
        event_type="NETWORK.ACL.CREATE",
        description=f"Creating network ACL list {args['name']}",
        work=work,
        creates=True,
    )


def delete_acl_list(call: Call, args: dict[str, Any]) -> Submitted:
    row = acl_list_row(call, args["id"])
    if not row["vpc_id"]:
        raise InvalidParameter("Default Network ACL cannot be removed")
    with call.read() as cursor:
        using = cursor.execute(
            "SELECT count(*) AS n FROM networks WHERE acl_id = %s AND removed = 0", (row["id"],)
        ).fetchone()["n"]
    if using:  # refused at once; the VPC's record refuses it again in the job
        raise ResourceInUse(
            f"ACL is still associated with {using} tier(s). Cannot delete network ACL: {row['id']}"
        )

    def work() -> dict[str, Any]:
        cmd.delete_acl_list(call.store, UUID(row["vpc_id"]), UUID(row["id"]))
        return {}

    return run_async(
        call,
        instance_type="NetworkAcl",
        instance_id=UUID(row["id"]),
        event_type="NETWORK.ACL.DELETE",
        description=f"Deleting network ACL list {row['name']}",
        work=work,
    )


def replace_acl_list(call: Call, args: dict[str, Any]) -> Submitted:
    acl = acl_list_row(call, args["aclid"], "aclid")
    if bool(args["networkid"]) == bool(args["gatewayid"]):
        raise InvalidParameter("Network id and private gateway id can't be passed together")
    if args["gatewayid"]:
        return _replace_on_gateway(call, acl, args["gatewayid"])
    network = network_row(call, args["networkid"], "networkid")
    check_reach(
        call.caller,
        account_id=network["account_id"],
        domain_path=network["domain_path"],
        what="the network",
    )
    if not network["vpc_id"]:
        raise InvalidParameter(f"Network {network['name']} is not part of a VPC")
    if acl["vpc_id"] and acl["vpc_id"] != network["vpc_id"]:
        raise InvalidParameter(
            f"Network {network['name']} and ACL {acl['name']} do not belong to the same VPC"
        )
    spec = acl_job(
        call,
        "ReplaceNetworkACLListCmd",
        "NETWORK.ACL.REPLACE",
        f"Replacing the network ACL of network {network['name']} with {acl['name']}",
        "NetworkAcl",
    )
    command = cmd.ReplaceAcl(UUID(network["id"]), UUID(acl["id"]), spec)
    return submitted(call, write(call, cmd.replace_acl, command), creates=False)


def _replace_on_gateway(call: Call, acl: dict[str, Any], gateway_id: str) -> Submitted:
    with call.read() as cursor:
        gateway = gateway_by_id(cursor, gateway_id)
    if gateway is None:
        raise not_found("gatewayid", gateway_id)
    check_reach(
        call.caller,
        account_id=gateway["account_id"],
        domain_path=gateway["domain_path"],
        what="the private gateway",
    )
    if acl["vpc_id"] and acl["vpc_id"] != gateway["vpc_id"]:
        raise InvalidParameter("The private gateway and the ACL list do not belong to one VPC")
    spec = acl_job(
        call,
        "ReplaceNetworkACLListCmd",
        "NETWORK.ACL.REPLACE",
        f"Replacing the network ACL of private gateway {gateway['ip_address']}",
        "NetworkAcl",
    )
    place = (UUID(gateway["vpc_id"]), UUID(gateway["id"]))
    command = cmd.ReplaceAcl(None, UUID(acl["id"]), spec, gateway=place)
    return submitted(call, write(call, cmd.replace_acl, command), creates=False)


# ---- ACL items ------------------------------------------------------------------------------


def _given(args: dict[str, Any]) -> AclItemInput:
    cidrs = args.get("cidrlist")
    return AclItemInput(
        protocol=args.get("protocol"),
        number=args.get("number"),
        traffic_type=args.get("traffictype"),
        action=args.get("action"),
        start_port=args.get("startport"),
        end_port=args.get("endport"),
        cidrs=tuple(cidrs) if cidrs is not None else None,
        icmp_type=args.get("icmptype"),
        icmp_code=args.get("icmpcode"),
    )


def create_acl_item(call: Call, args: dict[str, Any]) -> Submitted:
    checked_protocol(args["protocol"])
    if args["aclid"]:
        acl = acl_list_row(call, args["aclid"], "aclid")
    elif args["networkid"]:
        network = network_row(call, args["networkid"], "networkid")
        if not network["vpc_id"] or not network["acl_id"]:
            raise InvalidParameter(f"Network {network['name']} is not part of a VPC")
        acl = acl_list_row(call, network["acl_id"], "networkid")
    else:
        raise InvalidParameter("Either aclid or networkid should be specified")
    if is_default_list(UUID(acl["id"])) or not acl["vpc_id"]:
        raise InvalidParameter("Default ACL cannot be modified")
    spec = acl_job(
        call,
        "CreateNetworkACLCmd",
        "NETWORK.ACL.ITEM.CREATE",
        "Creating network ACL item",
        "NetworkAclItem",
    )
    command = cmd.AddAclItem(UUID(acl["vpc_id"]), UUID(acl["id"]), _given(args), spec)
    display.hide_new(call, args, "NetworkACL", command.item_id)
    return submitted(call, write(call, cmd.add_item, command), creates=True)


def update_acl_item(call: Call, args: dict[str, Any]) -> Submitted:
    row = _item_row(call, args["id"])
    if not row["vpc_id"]:
        raise InvalidParameter("Default ACL cannot be modified")
    if args["protocol"] is not None:
        checked_protocol(args["protocol"])
    spec = acl_job(
        call,
        "UpdateNetworkACLItemCmd",
        "NETWORK.ACL.ITEM.UPDATE",
        f"Updating network ACL item {row['id']}",
        "NetworkAclItem",
    )
    command = cmd.ChangeAclItem(UUID(row["vpc_id"]), UUID(row["id"]), _given(args), spec)
    display.change(call, args, "NetworkACL", row["id"])
    return submitted(call, write(call, cmd.change_item, command), creates=False)


def delete_acl_item(call: Call, args: dict[str, Any]) -> Submitted:
    row = _item_row(call, args["id"])
    if not row["vpc_id"]:
        raise InvalidParameter("Default ACL cannot be modified")
    spec = acl_job(
        call,
        "DeleteNetworkACLCmd",
        "NETWORK.ACL.ITEM.DELETE",
        f"Deleting network ACL item {row['id']}",
        "NetworkAclItem",
    )
    command = cmd.RevokeAclItem(UUID(row["vpc_id"]), UUID(row["id"]), spec)
    return submitted(call, write(call, cmd.revoke_item, command), creates=False)


# ---- the table ------------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)
ITEM_PARAMS = (
    Param("number", P.INTEGER),
    Param("action", P.STRING),
    Param("traffictype", P.STRING),
    Param("cidrlist", P.LIST, element=P.STRING),
    Param("startport", P.INTEGER),
    Param("endport", P.INTEGER),
    Param("icmptype", P.INTEGER),
    Param("icmpcode", P.INTEGER),
)

COMMANDS = (
    ApiCommand(
        "createNetworkACLList",
        create_acl_list,
        (
            Param("name", P.STRING, required=True),
            Param("vpcid", P.UUID, required=True),
            Param("description", P.STRING),
            FOR_DISPLAY,
        ),
        shape="async",
        is_async=True,
        item_key="networkacllist",
        render=_acl_list,
        java_class=f"{PKG}.CreateNetworkACLListCmd",
        description="Creates a network ACL list for a VPC",
    ),
    ApiCommand(
        "deleteNetworkACLList",
        delete_acl_list,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteNetworkACLListCmd",
        description="Deletes a network ACL list (and its items)",
    ),
    ApiCommand(
        "replaceNetworkACLList",
        replace_acl_list,
        (
            Param("aclid", P.UUID, required=True),
            Param("networkid", P.UUID),
            Param("gatewayid", P.UUID),
        ),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.ReplaceNetworkACLListCmd",
        description="Applies another network ACL list to a VPC tier",
    ),
    ApiCommand(
        "listNetworkACLLists",
        list_acl_lists,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("vpcid", P.UUID),
            Param("networkid", P.UUID),
            FOR_DISPLAY_CHANGE,
            LIST_PROJECT_ID,
        ),
        shape="list",
        item_key="networkacllist",
        java_class=f"{PKG}.ListNetworkACLListsCmd",
        description="Lists network ACL lists: the defaults and those of the VPCs reached",
    ),
    ApiCommand(
        "createNetworkACL",
        create_acl_item,
        (
            Param("protocol", P.STRING, required=True),
            Param("aclid", P.UUID),
            Param("networkid", P.UUID),
            *ITEM_PARAMS,
            FOR_DISPLAY,
        ),
        shape="async",
        is_async=True,
        item_key="networkacl",
        render=_acl_item,
        java_class=f"{PKG}.CreateNetworkACLCmd",
        description="Creates an item of a network ACL list",
    ),
    ApiCommand(
        "updateNetworkACLItem",
        update_acl_item,
        (ID, Param("protocol", P.STRING), *ITEM_PARAMS, CUSTOM_ID, FOR_DISPLAY_CHANGE),
        shape="async",
        is_async=True,
        item_key="networkacl",
        render=_acl_item,
        java_class=f"{PKG}.UpdateNetworkACLItemCmd",
        description="Updates an item of a network ACL list",
    ),
    ApiCommand(
        "deleteNetworkACL",
        delete_acl_item,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteNetworkACLCmd",
        description="Deletes an item of a network ACL list",
    ),
    ApiCommand(
        "listNetworkACLs",
        list_acl_items,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("aclid", P.UUID),
            Param("networkid", P.UUID),
            Param("traffictype", P.STRING),
            Param("action", P.STRING),
            Param("protocol", P.STRING),
            FOR_DISPLAY_CHANGE,
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="networkacl",
        java_class=f"{PKG}.ListNetworkACLsCmd",
        description="Lists items of network ACL lists, by list and number",
    ),
)
