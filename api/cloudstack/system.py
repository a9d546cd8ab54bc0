"""What the server is and offers: listCapabilities, listApis, listEvents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api.access import list_scope
from api.cloudstack.common import LIST_PROJECT_ID, OWNER_PARAMS, limit_sql, resolve_owner_filters
from api.dispatch import ApiCommand, Call, Listing
from api.envelope import format_date
from api.params import Param, ParamType, describe_param
from api.reference import ReferenceCommand, reference
from domain.errors import InvalidParameter
from stratus.db import contains

P = ParamType
CLOUDSTACK_VERSION = "4.3.0"


def list_capabilities(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "securitygroupsenabled": False,
        "dynamicrolesenabled": False,
        "cloudstackversion": CLOUDSTACK_VERSION,
        "userpublictemplateenabled": True,
        "supportELB": "false",
        "projectinviterequired": False,
        "allowusercreateprojects": True,
        "customdiskofferingmaxsize": 1024,
        "regionsecondaryenabled": False,
        "apilimitinterval": 1,
        "apilimitmax": 0,
        "kvmsnapshotenabled": False,
        "allowuserviewdestroyedvm": False,
    }


def list_apis(call: Call, args: dict[str, Any]) -> Listing:
    items = []
    for command in sorted(call.services.dispatcher.commands.values(), key=lambda c: c.name):
        if call.caller.role < command.role:
            continue
        if args["name"] and args["name"] != command.name:
            continue
        items.append(_describe(command))
    return Listing(items, len(items))


def _describe(command: ApiCommand) -> dict[str, Any]:
    """The command as 4.3's listApis shows it: its parameters and its response's fields."""
    known = reference().get(command.name)
    return {
        "name": command.name,
        "description": command.description,
        "isasync": command.is_async,
        "since": "4.3.0",
        "related": "",
        "response": _response_fields(known) if known else [],
        "params": [
            {
                "name": p.name,
                "type": p.type.value,
                "required": p.required,
                "description": describe_param(p),
                "length": p.max_length or 0,
            }
            for p in command.specs
        ],
    }


def _response_fields(known: ReferenceCommand) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    for name in known.response:
        field: dict[str, Any] = {"name": name, "description": "", "type": "string"}
        if name in known.objects:
            field["type"] = "list"
            field["response"] = [
                {"name": inner, "description": "", "type": "string"}
                for inner in known.objects[name]
            ]
        fields.append(field)
    return fields


def list_events(call: Call, args: dict[str, Any]) -> Listing:
    owner = resolve_owner_filters(call, args)
    scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
    where, params = ["e.archived = 0", "e.hidden = 0", scope.clause], list(scope.params)
    filters = (
        ("e.type = %s", args["type"]),
        ("e.level = %s", args["level"]),
        ("e.id = %s", args["id"]),
        ("e.parent_id = %s", args["parentid"]),
    )
    for clause, value in filters:
        if value is not None:
            where.append(clause)
            params.append(value)
    if args["startdate"] is not None:
        where.append("e.created >= %s")
        params.append(args["startdate"].isoformat())
    if args["enddate"] is not None:
        where.append("e.created <= %s")
        end = args["enddate"]
        params.append(end.isoformat() if isinstance(end, datetime) else f"{end}T23:59:59.999999")
    if args.get("keyword"):
        clause, values = contains(("e.description", "e.type"), args["keyword"])
        where.append(clause)
        params += values
    pending = _pending_window(call, args["duration"], args["entrytime"])
    if pending is not None:
        where.append(PENDING)
        params += pending
    sql = " FROM events AS e JOIN accounts AS a ON a.id = e.account_id WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        # The user's name, as 4.3 answers `username` (the id when the user is gone).
        rows = cursor.execute(
            "SELECT e.*, a.name AS account_name, a.domain_id AS owner_domain_id, "
            "(SELECT u.username FROM users AS u WHERE u.id = e.user_id) AS user_name"
            + sql
            + " ORDER BY e.created DESC, e.id"
            + limit_sql(args["paging"]),
            params,
        ).fetchall()
    return Listing([_render_event(r) for r in rows], int(count))


def _render_event(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "username": row["user_name"] or row["user_id"] or "",
        "type": row["type"],
        "level": row["level"],
        "description": row["description"],
        "account": row["account_name"],
        "domainid": row["owner_domain_id"],
        "created": format_date(datetime.fromisoformat(row["created"])),
        "state": row["state"],
    }
    if row["parent_id"]:
        body["parentid"] = row["parent_id"]
    return body


# A job's Started entry whose job has no Completed entry (both name its Scheduled entry).
PENDING = (
    "e.state = 'Started' AND e.created >= %s AND e.created <= %s AND NOT EXISTS "
    "(SELECT 1 FROM events AS done WHERE done.parent_id = e.parent_id "
    "AND done.state = 'Completed')"
)


def _pending_window(call: Call, duration: int | None, entry_time: int | None) -> list[str] | None:
    """4.3's pending events: those started between `entrytime` and `duration` seconds ago
    whose job has not completed (None: not asked). The two go together, and the entry time
    must lie further back than the duration."""
    if duration is None and entry_time is None:
        return None
    if duration is None or entry_time is None:
        raise InvalidParameter("Both duration and entrytime are needed to list pending events")
    if duration < 0 or entry_time <= duration:
        raise InvalidParameter("Entry time must be greater than duration")
    now = call.now()
    earliest, latest = now - timedelta(seconds=entry_time), now - timedelta(seconds=duration)
    return [earliest.isoformat(), latest.isoformat()]


COMMANDS = (
    ApiCommand(
        "listCapabilities",
        list_capabilities,
        item_key="capability",
        description="Lists capabilities of the cloud",
    ),
    ApiCommand(
        "listApis",
        list_apis,
        (Param("name", P.STRING),),
        shape="list",
        paged=False,
        item_key="api",
        description="Lists the API commands available to the caller",
    ),
    ApiCommand(
        "listEvents",
        list_events,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("type", P.STRING),
            Param("level", P.STRING),
            Param("startdate", P.DATE, allow_time=True),
            Param("enddate", P.DATE, allow_time=True),
            Param(
                "parentid",
                P.UUID,
                extension="the events of one job or action, as later CloudStack versions allow",
            ),
            Param("duration", P.INTEGER),
            Param("entrytime", P.INTEGER),
            LIST_PROJECT_ID,
        ),
        shape="list",
        item_key="event",
        description="Lists audit events",
    ),
    ApiCommand(
        "logout",
        lambda call, args: None,
        shape="success",
        description="Logs out the user",
        extension="4.3 serves logout beside its commands, so its command list leaves it out",
    ),
)
