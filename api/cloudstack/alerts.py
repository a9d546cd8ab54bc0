"""Alerts: listAlerts, generateAlert (async), archiveAlerts and deleteAlerts (root admin only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import limit_sql
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_date
from api.params import Param, ParamType
from commands.alerts import RaiseAlert, archive_alerts, delete_alerts, raise_alert
from domain.alert import check_type
from domain.errors import InvalidParameter
from stratus.db import contains

P = ParamType
RA = Role.ROOT_ADMIN
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"


def render_alert(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": int(row["type"]),
        "name": row["name"],
        "description": row["description"],
        "sent": format_date(datetime.fromisoformat(row["sent"])),
    }


def _where(args: dict[str, Any]) -> tuple[list[str], list[Any]]:
    where, params = ["archived = 0", "deleted = 0"], []
    for key, column in (("id", "id"), ("type", "type"), ("name", "name")):
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("keyword"):
        clause, values = contains(("description",), args["keyword"])
        where.append(clause)
        params += values
    return where, params


def list_alerts(call: Call, args: dict[str, Any]) -> Listing:
    where, params = _where(args)
    sql = " FROM alerts WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT *" + sql + " ORDER BY sent DESC, id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render_alert(r) for r in rows], int(count))


def generate_alert(call: Call, args: dict[str, Any]) -> Submitted:
    check_type(args["type"], args["name"])  # refused before a job exists, as CloudStack does
    command = RaiseAlert(
        args["type"],
        args["name"],
        args["description"],
        UUID(args["zoneid"]) if args["zoneid"] else None,
        UUID(args["podid"]) if args["podid"] else None,
    )
    return run_async(
        call,
        instance_type="",
        instance_id=None,
        event_type="ALERT.GENERATE",
        description=f"Generating alert {args['name']}",
        work=lambda: (raise_alert(call.store, command), {"success": True})[1],
    )


def _matching(call: Call, args: dict[str, Any]) -> list[UUID]:
    chosen = [args.get(k) for k in ("ids", "startdate", "enddate")]
    if not any(chosen) and args.get("type") is None:
        raise InvalidParameter("Either ids, type, startdate or enddate must be specified")
    where, params = _where({"type": args.get("type")})
    if args.get("ids"):
        where.append("id IN (" + ", ".join(["%s"] * len(args["ids"])) + ")")
        params += list(args["ids"])
    for key, op in (("startdate", ">="), ("enddate", "<=")):
        if args.get(key) is not None:
            where.append(f"sent {op} %s")
            params.append(_day_bound(args[key], end=key == "enddate"))
    with call.read() as cursor:
        rows = cursor.execute("SELECT id FROM alerts WHERE " + " AND ".join(where), params)
        return [UUID(r["id"]) for r in rows.fetchall()]


def _day_bound(value: date | datetime, *, end: bool) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return f"{value.isoformat()}T{'23:59:59.999999' if end else '00:00:00'}"


def archive(call: Call, args: dict[str, Any]) -> None:
    call.settle(archive_alerts(call.store, _matching(call, args)))


def delete(call: Call, args: dict[str, Any]) -> None:
    call.settle(delete_alerts(call.store, _matching(call, args)))


SELECTION = (
    Param("ids", P.LIST, element=P.UUID),
    Param("type", P.SHORT),
    Param("startdate", P.DATE, allow_time=True),
    Param("enddate", P.DATE, allow_time=True),
)

COMMANDS = (
    ApiCommand(
        "listAlerts",
        list_alerts,
        (Param("id", P.UUID), Param("type", P.SHORT), Param("name", P.STRING)),
        role=RA,
        shape="list",
        item_key="alert",
        description="Lists alerts",
    ),
    ApiCommand(
        "generateAlert",
        generate_alert,
        (
            Param("type", P.SHORT, required=True, min_value=0),
            Param("name", P.STRING, required=True),
            Param("description", P.STRING, required=True, max_length=999),
            Param("zoneid", P.UUID),
            Param("podid", P.UUID),
        ),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.alert.GenerateAlertCmd",
        extension="raises an operator alert by hand, as CloudStack 4.4 does",
        description="Generates an alert",
    ),
    ApiCommand(
        "archiveAlerts", archive, SELECTION, role=RA, shape="success", description="Archives alerts"
    ),
    ApiCommand(
        "deleteAlerts", delete, SELECTION, role=RA, shape="success", description="Deletes alerts"
    ),
)
