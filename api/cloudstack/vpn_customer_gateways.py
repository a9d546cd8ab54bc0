"""VPN customer gateways: create, update, delete (jobs, as in 4.3) and list.

An account describes the far end of its site-to-site VPNs here. The pre-shared key is taken and
kept sealed, and shown in no answer: the account chose it and has it, and an answer that
carried it could be read by anyone who lists the gateway (4.3 shows it in every answer).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    limit_sql,
    named_owner,
    resolve_owner_filters,
)
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import vpn_customer_gateways as cmd
from domain.errors import InvalidParameter
from domain.vpn_customer_gateway import GatewaySpec
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.vpn"
ITEM = "vpncustomergateway"
DEFAULT_IKE_LIFETIME = 86400
DEFAULT_ESP_LIFETIME = 3600

_SELECT = (
    "SELECT g.*, a.name AS account_name, a.domain_name AS domain_name, "
    "a.domain_path AS domain_path FROM vpn_customer_gateways AS g "
    "JOIN accounts AS a ON a.id = g.account_id"
)


def _render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "gateway": row["gateway"],
        "cidrlist": row["cidr_list"],
        "ikepolicy": row["ike_policy"],
        "esppolicy": row["esp_policy"],
        "ikelifetime": int(row["ike_lifetime"]),
        "esplifetime": int(row["esp_lifetime"]),
        "dpd": bool(row["dpd"]),
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
    }


def gateway_view(call: Call, gateway_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE g.id = %s", (gateway_id,)).fetchone()
    if row is None:
        raise not_found("id", gateway_id)
    return _render(dict(row))


def _gateway_row(call: Call, gateway_id: str) -> dict[str, Any]:
    """A gateway the caller may act on: 431 when there is none, 531 when it is another's."""
    with call.read() as cursor:
        row = cursor.execute(
            _SELECT + " WHERE g.id = %s AND g.removed = 0", (gateway_id,)
        ).fetchone()
    if row is None:
        raise not_found("id", gateway_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the VPN customer gateway",
    )
    return dict(row)


def _spec(args: dict[str, Any]) -> GatewaySpec:
    return GatewaySpec.checked(
        name=args["name"],
        gateway=args["gateway"],
        cidrs=args["cidrlist"],
        ike_policy=args["ikepolicy"],
        esp_policy=args["esppolicy"],
        ike_lifetime=DEFAULT_IKE_LIFETIME if args["ikelifetime"] is None else args["ikelifetime"],
        esp_lifetime=DEFAULT_ESP_LIFETIME if args["esplifetime"] is None else args["esplifetime"],
        dpd=bool(args["dpd"]),
        psk=args["ipsecpsk"],
    )


def _taken(call: Call, account_id: str, spec: GatewaySpec, gateway_id: str | None) -> None:
    """4.3's refusals of a name or address the account's other gateways hold, answered at
    once (the name claims decide a race)."""
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT id, name, gateway FROM vpn_customer_gateways WHERE account_id = %s "
            "AND removed = 0 AND (name = %s OR gateway = %s)",
            (account_id, spec.name, spec.gateway),
        ).fetchall()
    for row in rows:
        if row["id"] == gateway_id:
            continue
        if row["name"] == spec.name:
            raise InvalidParameter(f"The customer gateway with name {spec.name} already exists")
        raise InvalidParameter(f"The customer gateway with ip {spec.gateway} already exists")


def _job(
    call: Call, gateway_id: UUID, event: str, text: str, work: Any, creates: bool
) -> Submitted:
    return run_async(
        call,
        instance_type="VpnCustomerGateway",
        instance_id=gateway_id,
        event_type=event,
        description=text,
        work=work,
        creates=creates,
    )


def create(call: Call, args: dict[str, Any]) -> Submitted:
    account_id, domain_id = named_owner(call, args)
    spec = _spec(args)
    _taken(call, account_id, spec, None)
    command = cmd.CreateCustomerGateway(uuid4(), UUID(account_id), UUID(domain_id), spec)

    def work() -> dict[str, Any]:
        cmd.create_customer_gateway(call.store, command)
        return {"object": ITEM, "id": str(command.gateway_id)}

    text = f"Creating VPN customer gateway {spec.name}"
    return _job(call, command.gateway_id, "VPN.S2S.CUSTOMER.GATEWAY.CREATE", text, work, True)


def update(call: Call, args: dict[str, Any]) -> Submitted:
    row = _gateway_row(call, args["id"])
    if args["account"] or args["domainid"]:
        account_id, _ = named_owner(call, args)
        if account_id != row["account_id"]:
            raise InvalidParameter("The VPN customer gateway does not belong to that account")
    spec = _spec(args)
    _taken(call, row["account_id"], spec, row["id"])

    def work() -> dict[str, Any]:
        cmd.update_customer_gateway(call.store, UUID(row["id"]), spec)
        return {"object": ITEM, "id": row["id"]}

    text = f"Updating VPN customer gateway {row['name']}"
    return _job(call, UUID(row["id"]), "VPN.S2S.CUSTOMER.GATEWAY.UPDATE", text, work, False)


def delete(call: Call, args: dict[str, Any]) -> Submitted:
    row = _gateway_row(call, args["id"])

    def work() -> dict[str, Any]:
        cmd.delete_customer_gateway(call.store, UUID(row["id"]))
        return {"success": True}

    text = f"Deleting VPN customer gateway {row['name']}"
    return _job(call, UUID(row["id"]), "VPN.S2S.CUSTOMER.GATEWAY.DELETE", text, work, False)


def list_gateways(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["g.removed = 0", scope.clause], list(scope.params)
    if args["id"]:
        where.append("g.id = %s")
        params.append(args["id"])
    if args["keyword"]:
        clause, values = contains(("g.name",), args["keyword"])
        where.append(clause)
        params += values
    sql = _SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY g.created, g.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([_render(dict(r)) for r in rows], int(count))


def _described(*, id_required: bool) -> tuple[Param, ...]:
    """The parameters create and update share; update names the gateway."""
    named = (Param("id", P.UUID, required=True),) if id_required else ()
    return (
        *named,
        Param("gateway", P.STRING, required=True),
        Param("cidrlist", P.STRING, required=True),
        Param("ipsecpsk", P.STRING, required=True, max_length=256),
        Param("ikepolicy", P.STRING, required=True),
        Param("esppolicy", P.STRING, required=True),
        Param("ikelifetime", P.LONG),
        Param("esplifetime", P.LONG),
        Param("dpd", P.BOOLEAN),
        Param("name", P.STRING),
        Param("account", P.STRING),
        Param("domainid", P.UUID),
    )


COMMANDS = (
    ApiCommand(
        "createVpnCustomerGateway",
        create,
        _described(id_required=False),
        shape="async",
        is_async=True,
        item_key=ITEM,
        render=gateway_view,
        java_class=f"{PKG}.CreateVpnCustomerGatewayCmd",
        description="Creates a site-to-site VPN customer gateway",
    ),
    ApiCommand(
        "updateVpnCustomerGateway",
        update,
        _described(id_required=True),
        shape="async",
        is_async=True,
        item_key=ITEM,
        java_class=f"{PKG}.UpdateVpnCustomerGatewayCmd",
        description="Updates a site-to-site VPN customer gateway",
    ),
    ApiCommand(
        "deleteVpnCustomerGateway",
        delete,
        (Param("id", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteVpnCustomerGatewayCmd",
        description="Deletes a site-to-site VPN customer gateway",
    ),
    ApiCommand(
        "listVpnCustomerGateways",
        list_gateways,
        (*OWNER_PARAMS, Param("id", P.UUID), LIST_PROJECT_ID),
        shape="list",
        item_key=ITEM,
        java_class=f"{PKG}.ListVpnCustomerGatewaysCmd",
        description="Lists site-to-site VPN customer gateways",
    ),
)
