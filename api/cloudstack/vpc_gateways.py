"""A VPC's private gateways (createPrivateGateway, deletePrivateGateway: root admins, as 4.3;
listPrivateGateways) and the static routes through them (createStaticRoute, deleteStaticRoute,
listStaticRoutes), applied by the VPC's router with its ACLs under async jobs."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any
from uuid import UUID

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    limit_sql,
    resolve_owner_filters,
)
from api.cloudstack.network_acls import acl_list_row
from api.cloudstack.network_rules import submitted, write
from api.cloudstack.vpcs import job_of, vpc_row
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import vpc_gateways as cmd
from domain.errors import InvalidParameter
from domain.network_addressing import address, cidr, subnet
from domain.network_public_ip import vlan_tag
from projections.vpcs import GATEWAY_SELECT, ROUTE_SELECT, gateway_by_id, route_by_id
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command"
GATEWAY_STATES = {"Add": "Creating", "Active": "Ready", "Revoke": "Deleting"}


def _gateway_row(call: Call, gateway_id: str, name: str = "id") -> dict[str, Any]:
    with call.read() as cursor:
        row = gateway_by_id(cursor, gateway_id)
    if row is None:
        raise not_found(name, gateway_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the private gateway",
    )
    return row


def _route_row(call: Call, route_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = route_by_id(cursor, route_id)
    if row is None:
        raise not_found("id", route_id)
    check_reach(
        call.caller, account_id=row["account_id"], domain_path=row["domain_path"], what="the route"
    )
    return row


def render_gateway(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "vpcid": row["vpc_id"],
        "gateway": row["gateway"],
        "ipaddress": row["ip_address"],
        "netmask": row["netmask"],
        "vlan": row["vlan"],
        "physicalnetworkid": row["physical_network_id"],
        "sourcenatsupported": bool(row["source_nat"]),
        "aclid": row["acl_id"],
        "state": GATEWAY_STATES.get(row["state"], row["state"]),
        "zoneid": row["zone_id"],
        "zonename": row["zone_name"] or "",
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
    }


def render_route(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "vpcid": row["vpc_id"],
        "gatewayid": row["gateway_id"],
        "cidr": row["cidr"],
        "state": row["state"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
    }


def _gateway(call: Call, gateway_id: str) -> dict[str, Any]:
    return render_gateway(_gateway_row(call, gateway_id))


def _route(call: Call, route_id: str) -> dict[str, Any]:
    return render_route(_route_row(call, route_id))


def _physical(call: Call, zone_id: str, physical_id: str | None) -> str:
    where, params = "zone_id = %s AND removed = 0", [zone_id]
    if physical_id:
        where, params = where + " AND id = %s", [*params, physical_id]
    with call.read() as cursor:
        row = cursor.execute(
            f"SELECT id FROM physical_networks WHERE {where} ORDER BY created, id", params
        ).fetchone()
    if row is None:
        raise not_found("physicalnetworkid", physical_id or zone_id)
    return str(row["id"])


def create_gateway(call: Call, args: dict[str, Any]) -> Submitted:
    vpc = vpc_row(call, args["vpcid"], "vpcid")
    network = subnet(args["gateway"], args["netmask"])
    ip = address(args["ipaddress"])
    if ip not in network or ip in (network.network_address, network.broadcast_address):
        raise InvalidParameter(f"Ip address {ip} is not a host address of {network}")
    if str(ip) == args["gateway"]:
        raise InvalidParameter("The private gateway's ip address cannot be its gateway")
    if args["aclid"]:
        acl = acl_list_row(call, args["aclid"], "aclid")
        if acl["vpc_id"] and acl["vpc_id"] != vpc["id"]:
            raise InvalidParameter("The ACL list and the VPC do not belong together")
    spec = job_of(
        call,
        f"{PKG}.admin.vpc.CreatePrivateGatewayCmd",
        "PRIVATE.GATEWAY.CREATE",
        f"Creating private gateway {ip} for VPC {vpc['name']}",
        "PrivateGateway",
    )
    command = cmd.CreatePrivateGateway(
        UUID(vpc["id"]),
        UUID(_physical(call, vpc["zone_id"], args["physicalnetworkid"])),
        vlan_tag(args["vlan"]),
        str(ip),
        args["gateway"],
        args["netmask"],
        spec,
        UUID(args["aclid"]) if args["aclid"] else None,
        source_nat=bool(args["sourcenatsupported"]),
    )
    return submitted(call, write(call, cmd.create_private_gateway, command), creates=True)


def delete_gateway(call: Call, args: dict[str, Any]) -> Submitted:
    row = _gateway_row(call, args["id"])
    spec = job_of(
        call,
        f"{PKG}.admin.vpc.DeletePrivateGatewayCmd",
        "PRIVATE.GATEWAY.DELETE",
        f"Deleting private gateway {row['ip_address']}",
        "PrivateGateway",
    )
    command = cmd.DeletePrivateGateway(UUID(row["vpc_id"]), UUID(row["id"]), spec)
    return submitted(call, write(call, cmd.delete_private_gateway, command), creates=False)


def create_route(call: Call, args: dict[str, Any]) -> Submitted:
    gateway = _gateway_row(call, args["gatewayid"], "gatewayid")
    try:
        network = IPv4Network(args["cidr"], strict=False)
    except ValueError:
        raise InvalidParameter(f"Invalid format for cidr {args['cidr']}") from None
    spec = job_of(
        call,
        f"{PKG}.user.vpc.CreateStaticRouteCmd",
        "STATIC.ROUTE.CREATE",
        f"Creating static route {network} through {gateway['ip_address']}",
        "StaticRoute",
    )
    command = cmd.CreateStaticRoute(
        UUID(gateway["vpc_id"]), UUID(gateway["id"]), str(cidr(str(network))), spec
    )
    return submitted(call, write(call, cmd.create_static_route, command), creates=True)


def delete_route(call: Call, args: dict[str, Any]) -> Submitted:
    row = _route_row(call, args["id"])
    spec = job_of(
        call,
        f"{PKG}.user.vpc.DeleteStaticRouteCmd",
        "STATIC.ROUTE.DELETE",
        f"Deleting static route {row['cidr']}",
        "StaticRoute",
    )
    command = cmd.DeleteStaticRoute(UUID(row["vpc_id"]), UUID(row["id"]), spec)
    return submitted(call, write(call, cmd.delete_static_route, command), creates=False)


def _listed(
    call: Call,
    sql: str,
    filters: tuple[tuple[str, str], ...],
    args: dict[str, Any],
    key: str,
    tagged: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of gateways or routes of the VPCs the caller reaches; `tagged` is the 4.3
    resource type of a list that takes the `tags` filter (over `r.id`)."""
    owner = resolve_owner_filters(call, args)
    scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
    where, params = ["v.removed = 0", f"({scope.clause})"], list(scope.params)
    for name, clause in filters:
        if args.get(name) is not None:
            where.append(clause)
            params.append(args[name])
    if args.get("keyword"):
        clause, values = contains((key,), args["keyword"])
        where.append(clause)
        params += values
    if tagged is not None:
        narrow(args, tagged, "r.id", where, params)
    query = sql + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({query}) AS q", params).fetchone()
        rows = cursor.execute(
            query + f" ORDER BY {key}" + limit_sql(args["paging"]), params
        ).fetchall()
    return [dict(r) for r in rows], int(count["n"])


def list_gateways(call: Call, args: dict[str, Any]) -> Listing:
    states = {v.lower(): k for k, v in GATEWAY_STATES.items()}
    if args["state"] is not None:
        args = {**args, "state": states.get(args["state"].lower(), args["state"])}
    filters = (
        ("id", "g.id = %s"),
        ("vpcid", "g.vpc_id = %s"),
        ("ipaddress", "g.ip_address = %s"),
        ("vlan", "g.vlan = %s"),
        ("state", "g.state = %s"),
    )
    rows, count = _listed(call, GATEWAY_SELECT, filters, args, "g.ip_address")
    return Listing([render_gateway(r) for r in rows], count)


def list_routes(call: Call, args: dict[str, Any]) -> Listing:
    filters = (("id", "r.id = %s"), ("vpcid", "r.vpc_id = %s"), ("gatewayid", "r.gateway_id = %s"))
    rows, count = _listed(call, ROUTE_SELECT, filters, args, "r.cidr", "StaticRoute")
    return Listing([render_route(r) for r in rows], count)


ID = Param("id", P.UUID, required=True)

COMMANDS = (
    ApiCommand(
        "createPrivateGateway",
        create_gateway,
        (
            Param("vpcid", P.UUID, required=True),
            Param("gateway", P.STRING, required=True),
            Param("ipaddress", P.STRING, required=True),
            Param("netmask", P.STRING, required=True),
            Param("vlan", P.STRING, required=True),
            Param("physicalnetworkid", P.UUID),
            Param("aclid", P.UUID),
            Param(
                "networkofferingid",
                P.UUID,
                unsupported=(
                    "a private gateway here has no guest network of its own to carry an offering: "
                    "it always acts as 4.3's default (system private gateway offering)"
                ),
            ),
            Param("sourcenatsupported", P.BOOLEAN, default=False),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key="privategateway",
        render=_gateway,
        java_class=f"{PKG}.admin.vpc.CreatePrivateGatewayCmd",
        description="Creates a private gateway of a VPC",
    ),
    ApiCommand(
        "deletePrivateGateway",
        delete_gateway,
        (ID,),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        java_class=f"{PKG}.admin.vpc.DeletePrivateGatewayCmd",
        description="Deletes a private gateway (refused while static routes lead through it)",
    ),
    ApiCommand(
        "listPrivateGateways",
        list_gateways,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("vpcid", P.UUID),
            Param("ipaddress", P.STRING),
            Param("vlan", P.STRING),
            Param("state", P.STRING),
            LIST_PROJECT_ID,
        ),
        shape="list",
        item_key="privategateway",
        java_class=f"{PKG}.user.vpc.ListPrivateGatewaysCmd",
        description="Lists the private gateways of the VPCs reached",
    ),
    ApiCommand(
        "createStaticRoute",
        create_route,
        (Param("gatewayid", P.UUID, required=True), Param("cidr", P.STRING, required=True)),
        shape="async",
        is_async=True,
        item_key="staticroute",
        render=_route,
        java_class=f"{PKG}.user.vpc.CreateStaticRouteCmd",
        description="Creates a static route of a VPC through its private gateway",
    ),
    ApiCommand(
        "deleteStaticRoute",
        delete_route,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.user.vpc.DeleteStaticRouteCmd",
        description="Deletes a static route",
    ),
    ApiCommand(
        "listStaticRoutes",
        list_routes,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("vpcid", P.UUID),
            Param("gatewayid", P.UUID),
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="staticroute",
        java_class=f"{PKG}.user.vpc.ListStaticRoutesCmd",
        description="Lists the static routes of the VPCs reached",
    ),
)
