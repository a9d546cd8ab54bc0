"""Site-to-site VPN of VPCs: createVpnGateway, deleteVpnGateway, listVpnGateways (a VPC's
gateway, on its source NAT address) and createVpnConnection, deleteVpnConnection,
resetVpnConnection, listVpnConnections (its IPsec connections to customer gateways, applied
by the VPC's router: jobs its answer finishes).

Refusals are answered before any job exists, as 4.3's create step answers them. The customer
gateway's pre-shared key travels to the router sealed and is shown in no answer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api import display
from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    limit_sql,
    named_owner,
    resolve_owner_filters,
)
from api.cloudstack.jobs import hypervisor_job, run_async
from api.cloudstack.vpcs import vpc_row
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from commands import site_to_site_vpn as cmd
from domain.errors import InvalidParameter
from domain.site_to_site_vpn import vpn_gateway_id
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.vpn"
GATEWAY_ITEM, CONNECTION_ITEM = "vpngateway", "vpnconnection"

_OWNED = (
    "SELECT x.*, a.name AS account_name, a.domain_name AS domain_name, "
    f"a.domain_path AS domain_path, {display.shown_column('x.id')} "
    "FROM {table} AS x JOIN accounts AS a ON a.id = x.account_id"
)
_GATEWAY_SELECT = _OWNED.format(table="vpn_gateways")
_CONNECTION_SELECT = _OWNED.format(table="vpn_connections")


def _owner(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "fordisplay": display.shown(row),
    }


def _reached(call: Call, select: str, object_id: str, what: str, name: str = "id") -> dict:
    """A row the caller may act on: 431 when there is none, 531 when it is another's."""
    with call.read() as cursor:
        row = cursor.execute(select, (object_id,)).fetchone()
    if row is None:
        raise not_found(name, object_id)
    check_reach(
        call.caller, account_id=row["account_id"], domain_path=row["domain_path"], what=what
    )
    return dict(row)


def _listed(
    call: Call, args: dict[str, Any], select: str, where: list[str], render: Any
) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = [*where, scope.clause], list(scope.params)
    display.narrow(call, args, "x.id", where)
    for key, column in (("id", "x.id"), ("vpcid", "x.vpc_id")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("keyword"):
        clause, values = contains(("x.public_ip",), args["keyword"])
        where.append(clause)
        params += values
    sql = select + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY x.created, x.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render(dict(r)) for r in rows], int(count))


# ---- VPN gateways --------------------------------------------------------------------------


def render_gateway(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "publicip": row["public_ip"],
        "vpcid": row["vpc_id"],
        **_owner(row),
    }


def _gateway(call: Call, gateway_id: str, name: str = "id") -> dict[str, Any]:
    select = _GATEWAY_SELECT + " WHERE x.id = %s AND x.removed = 0"
    return _reached(call, select, gateway_id, "the VPN gateway", name)


def gateway_view(call: Call, gateway_id: str) -> dict[str, Any]:
    return render_gateway(_gateway(call, gateway_id))


def create_gateway(call: Call, args: dict[str, Any]) -> Submitted:
    vpc = vpc_row(call, args["vpcid"], "vpcid")
    cmd.check_gateway(call.store, UUID(vpc["id"]))
    display.hide_new(call, args, "Site2SiteVpnGateway", vpn_gateway_id(UUID(vpc["id"])))

    def work() -> dict[str, Any]:
        outcome = cmd.create_gateway(call.store, UUID(vpc["id"]))
        return {"object": GATEWAY_ITEM, "id": str(outcome.id)}

    return run_async(
        call,
        instance_type="Site2SiteVpnGateway",
        instance_id=vpn_gateway_id(UUID(vpc["id"])),
        event_type="VPN.S2S.VPN.GATEWAY.CREATE",
        description=f"Creating a site-to-site VPN gateway for VPC {vpc['name']}",
        work=work,
        creates=True,
    )


def delete_gateway(call: Call, args: dict[str, Any]) -> Submitted:
    row = _gateway(call, args["id"])
    with call.read() as cursor:
        connections = cursor.execute(
            "SELECT count(*) AS n FROM vpn_connections WHERE gateway_id = %s", (row["id"],)
        ).fetchone()["n"]
    if connections:  # refused at once; the gateway's own record refuses it again in the job
        raise InvalidParameter(
            f"Unable to delete VPN gateway {row['id']} because there is still related VPN "
            "connections!"
        )

    def work() -> dict[str, Any]:
        cmd.delete_gateway(call.store, UUID(row["id"]))
        return {"success": True}

    return run_async(
        call,
        instance_type="Site2SiteVpnGateway",
        instance_id=UUID(row["id"]),
        event_type="VPN.S2S.VPN.GATEWAY.DELETE",
        description=f"Deleting site-to-site VPN gateway {row['id']}",
        work=work,
    )


def list_gateways(call: Call, args: dict[str, Any]) -> Listing:
    return _listed(call, args, _GATEWAY_SELECT, ["x.removed = 0"], render_gateway)


# ---- VPN connections -----------------------------------------------------------------------


def render_connection(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "s2svpngatewayid": row["gateway_id"],
        "s2scustomergatewayid": row["customer_gateway_id"],
        "publicip": row["public_ip"],
        "gateway": row["peer_ip"],
        "cidrlist": row["peer_cidrs"],
        "ikepolicy": row["ike_policy"],
        "esppolicy": row["esp_policy"],
        "ikelifetime": int(row["ike_lifetime"]),
        "esplifetime": int(row["esp_lifetime"]),
        "dpd": bool(row["dpd"]),
        "passive": bool(row["passive"]),
        "state": row["state"],
        "created": format_stored_date(row["created"]),
        **_owner(row),
    }


def _connection(call: Call, connection_id: str) -> dict[str, Any]:
    select = _CONNECTION_SELECT + " WHERE x.id = %s"
    return _reached(call, select, connection_id, "the VPN connection")


def connection_view(call: Call, connection_id: str) -> dict[str, Any]:
    return render_connection(_connection(call, connection_id))


def _router_job(call: Call, connection_id: UUID, event: str, text: str, work: Any) -> UUID:
    return hypervisor_job(call, "Site2SiteVpnConnection", connection_id, event, text, work)


def create_connection(call: Call, args: dict[str, Any]) -> Submitted:
    gateway = _gateway(call, args["s2svpngatewayid"], "s2svpngatewayid")
    customer_id = args["s2scustomergatewayid"]
    with call.read() as cursor:
        customer = cursor.execute(
            "SELECT g.*, a.domain_path AS domain_path FROM vpn_customer_gateways AS g "
            "JOIN accounts AS a ON a.id = g.account_id WHERE g.id = %s AND g.removed = 0",
            (customer_id,),
        ).fetchone()
    if customer is None:
        raise not_found("s2scustomergatewayid", customer_id)
    check_reach(
        call.caller,
        account_id=customer["account_id"],
        domain_path=customer["domain_path"],
        what="the VPN customer gateway",
    )
    command = cmd.CreateConnection(
        UUID(gateway["id"]), UUID(customer_id), bool(args["passive"]), uuid4()
    )
    cmd.check_connection(call.store, command)
    display.hide_new(call, args, "Site2SiteVpnConnection", command.connection_id)
    job_id = _router_job(
        call,
        command.connection_id,
        "VPN.S2S.CONNECTION.CREATE",
        f"Creating a site-to-site VPN connection to customer gateway {customer['name']}",
        lambda job: cmd.create_connection(
            call.store,
            cmd.CreateConnection(
                command.gateway_id,
                command.customer_gateway_id,
                command.passive,
                command.connection_id,
                job,
            ),
        ),
    )
    return Submitted(str(job_id), str(command.connection_id))


def _change(call: Call, args: dict[str, Any], doing: str, event: str, handler: Any) -> Submitted:
    """A delete or reset of a connection the caller may act on (refused at once while it is
    being applied), as a job the router's answer finishes."""
    row = _connection(call, args["id"])
    cmd.check_change(call.store, UUID(row["id"]), doing)
    job_id = _router_job(
        call,
        UUID(row["id"]),
        event,
        f"Site-to-site VPN connection {row['id']} to be {doing}",
        lambda job: handler(call.store, UUID(row["id"]), job),
    )
    return Submitted(str(job_id), None)


def delete_connection(call: Call, args: dict[str, Any]) -> Submitted:
    return _change(call, args, "deleted", "VPN.S2S.CONNECTION.DELETE", cmd.delete_connection)


def reset_connection(call: Call, args: dict[str, Any]) -> Submitted:
    if args["account"] or args["domainid"]:
        account_id, _ = named_owner(call, args)
        if account_id != _connection(call, args["id"])["account_id"]:
            raise InvalidParameter("The VPN connection does not belong to that account")
    return _change(call, args, "reset", "VPN.S2S.CONNECTION.RESET", cmd.reset_connection)


def list_connections(call: Call, args: dict[str, Any]) -> Listing:
    return _listed(call, args, _CONNECTION_SELECT, ["x.state <> 'Removed'"], render_connection)


# ---- the table -----------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)
LIST_PARAMS = (
    *OWNER_PARAMS,
    Param("id", P.UUID),
    Param("vpcid", P.UUID),
    display.FOR_DISPLAY_CHANGE,
)

COMMANDS = (
    ApiCommand(
        "createVpnGateway",
        create_gateway,
        (Param("vpcid", P.UUID, required=True), display.FOR_DISPLAY),
        shape="async",
        is_async=True,
        item_key=GATEWAY_ITEM,
        render=gateway_view,
        java_class=f"{PKG}.CreateVpnGatewayCmd",
        description="Creates a site-to-site VPN gateway on a VPC's source nat address",
    ),
    ApiCommand(
        "deleteVpnGateway",
        delete_gateway,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteVpnGatewayCmd",
        description="Deletes a site-to-site VPN gateway",
    ),
    ApiCommand(
        "listVpnGateways",
        list_gateways,
        (*LIST_PARAMS, LIST_PROJECT_ID),
        shape="list",
        item_key=GATEWAY_ITEM,
        java_class=f"{PKG}.ListVpnGatewaysCmd",
        description="Lists site-to-site VPN gateways",
    ),
    ApiCommand(
        "createVpnConnection",
        create_connection,
        (
            Param("s2svpngatewayid", P.UUID, required=True),
            Param("s2scustomergatewayid", P.UUID, required=True),
            Param("passive", P.BOOLEAN, default=False),
            display.FOR_DISPLAY,
        ),
        shape="async",
        is_async=True,
        item_key=CONNECTION_ITEM,
        render=connection_view,
        java_class=f"{PKG}.CreateVpnConnectionCmd",
        description="Creates a site-to-site VPN connection, applied by the VPC's router",
    ),
    ApiCommand(
        "deleteVpnConnection",
        delete_connection,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteVpnConnectionCmd",
        description="Deletes a site-to-site VPN connection",
    ),
    ApiCommand(
        "resetVpnConnection",
        reset_connection,
        (ID, Param("account", P.STRING), Param("domainid", P.UUID)),
        shape="async",
        is_async=True,
        item_key=CONNECTION_ITEM,
        render=connection_view,
        java_class=f"{PKG}.ResetVpnConnectionCmd",
        description="Resets a site-to-site VPN connection: the VPC's router applies it again",
    ),
    ApiCommand(
        "listVpnConnections",
        list_connections,
        (*LIST_PARAMS, LIST_PROJECT_ID),
        shape="list",
        item_key=CONNECTION_ITEM,
        java_class=f"{PKG}.ListVpnConnectionsCmd",
        description="Lists site-to-site VPN connections",
    ),
)
