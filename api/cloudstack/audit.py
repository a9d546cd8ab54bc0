"""Audit commands: archiveEvents, deleteEvents, listEventTypes, listResourceStateAt and
listResourceHistory.

Archiving and deleting hide entries from listEvents by recording facts on audit trails; the
log itself is never changed. listResourceStateAt (a Stratus extension) rebuilds a resource,
or a zone's members, as they were at a past instant from the log itself; listResourceHistory
(another) lists a resource's events with who made them, by which command and job.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

from api.access import Role, list_scope
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from audit.history import history
from audit.timetravel import resource_at, zone_at
from commands.audit_trail import HideEntries, hide_entries
from domain.errors import InvalidParameter, NotFound
from projections.events import direct_event_types
from stratus.store.decoding import Decoder
from stratus.store.readonly import from_database

P = ParamType
JOB_EVENT_TYPES = ("HOST.ADD", "HOST.RECONNECT", "MAINT.PREPARE", "MAINT.CANCEL")
_CRITERIA = ("ids", "type", "startdate", "enddate", "olderthan")


def _end_of(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else f"{value}T23:59:59.999999"


def _matching(call: Call, args: dict[str, Any], *, archive: bool) -> dict[UUID, tuple[str, ...]]:
    """The entries the criteria select within the caller's reach, grouped by owner account."""
    if all(args[name] is None for name in _CRITERIA):
        raise InvalidParameter("Specify ids, type, startdate, enddate or olderthan")
    scope = list_scope(call.caller, prefix="a.", account_column="id", list_all=True)
    where, params = ["e.hidden = 0", scope.clause], list(scope.params)
    if archive:
        where.append("e.archived = 0")
    if args["ids"]:
        where.append("e.id IN (" + ", ".join(["%s"] * len(args["ids"])) + ")")
        params += [str(i) for i in args["ids"]]
    for clause, value in (
        ("e.type = %s", args["type"]),
        ("e.created >= %s", args["startdate"] and args["startdate"].isoformat()),
        ("e.created <= %s", args["enddate"] and _end_of(args["enddate"])),
        ("e.created < %s", args["olderthan"] and args["olderthan"].isoformat()),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT e.id, e.account_id FROM events AS e JOIN accounts AS a ON a.id = e.account_id "
            "WHERE " + " AND ".join(where),
            params,
        ).fetchall()
    grouped: dict[UUID, list[str]] = {}
    for row in rows:
        grouped.setdefault(UUID(row["account_id"]), []).append(row["id"])
    if not grouped:
        raise InvalidParameter("Unable to find events with the specified criteria")
    return {account: tuple(ids) for account, ids in grouped.items()}


def archive_events(call: Call, args: dict[str, Any]) -> None:
    call.write(hide_entries, HideEntries(_matching(call, args, archive=True)))


def delete_events(call: Call, args: dict[str, Any]) -> None:
    call.write(hide_entries, HideEntries(_matching(call, args, archive=False), delete=True))


def list_event_types(call: Call, args: dict[str, Any]) -> Listing:
    with call.read() as cursor:
        seen = {r["type"] for r in cursor.execute("SELECT DISTINCT type FROM events").fetchall()}
    names = sorted(seen | direct_event_types() | set(JOB_EVENT_TYPES))
    return Listing([{"name": name} for name in names], len(names))


def list_resource_state_at(call: Call, args: dict[str, Any]) -> Listing:
    """A Stratus extension: the state of a resource, or of a zone's members, at an instant."""
    at = args["timestamp"]
    if not isinstance(at, datetime):  # a bare day means the end of that day
        at = datetime.combine(at, time.max)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    source, decoder = from_database(call.runtime.db), Decoder()
    if args["zoneid"] is not None:
        zone = zone_at(source, decoder, UUID(str(args["zoneid"])), at)
        if zone["zone"] is None:
            raise NotFound(f"Zone {args['zoneid']} did not exist at {at.isoformat()}")
        items = [zone["zone"]] + [s for key, v in zone.items() if key != "zone" for s in v]
    elif args["id"] is not None:
        state = resource_at(source, decoder, UUID(str(args["id"])), at)
        if state is None:
            raise NotFound(f"Resource {args['id']} did not exist at {at.isoformat()}")
        items = [state]
    else:
        raise InvalidParameter("Specify id or zoneid")
    return Listing([_render(item) for item in items], len(items))


def _render(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "resourcetype": item["type"],
        "version": item["version"],
        "asof": item["as_of"],
        "lastchanged": item["modified"],
        "state": item["state"],
    }


def list_resource_history(call: Call, args: dict[str, Any]) -> Listing:
    """A Stratus extension: a resource's events from the log, oldest first."""
    records = history(from_database(call.runtime.db), UUID(str(args["id"])))
    if not records:
        raise NotFound(f"Resource {args['id']} has no history")
    keyword = (args.get("keyword") or "").lower()
    items = [
        _history_item(r)
        for r in records
        if not keyword or keyword in f"{r['event']} {r.get('command') or ''}".lower()
    ]
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(items[paging.offset : end], len(items))


def _history_item(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "created": record["time"],
        "resourcetype": record["resource_type"],
        "resourceid": record["resource_id"],
        "version": record["version"],
        "event": record["event"],
        "userid": record["user_id"],
        "accountid": record["account_id"],
        "command": record["command"],
        "jobid": record["job_id"],
        "requestid": record["request_id"],
        "changes": record["data"],
    }


_HIDE_PARAMS = (
    Param("ids", P.LIST, element=P.UUID),
    Param("type", P.STRING),
    Param("startdate", P.DATE, allow_time=True),
    Param("enddate", P.DATE, allow_time=True),
    Param(
        "olderthan",
        P.DATE,
        allow_time=True,
        extension="selects events older than a date, as later CloudStack versions allow",
    ),
)

COMMANDS = (
    ApiCommand(
        "archiveEvents",
        archive_events,
        _HIDE_PARAMS,
        shape="success",
        description="Archives events: they leave listEvents, the event log keeps them",
    ),
    ApiCommand(
        "deleteEvents",
        delete_events,
        _HIDE_PARAMS,
        shape="success",
        description="Deletes events from the audit view; the event log keeps them",
    ),
    ApiCommand(
        "listEventTypes",
        list_event_types,
        shape="list",
        paged=False,
        item_key="eventtype",
        description="Lists the event types",
    ),
    ApiCommand(
        "listResourceStateAt",
        list_resource_state_at,
        (
            Param("timestamp", P.DATE, required=True, allow_time=True),
            Param("id", P.UUID),
            Param("zoneid", P.UUID),
        ),
        role=Role.ROOT_ADMIN,
        extension="audit: what the cloud looked like at a past moment, from the event log",
        shape="list",
        item_key="resourcestate",
        description="Stratus extension: a resource, or a zone's hosts, VMs and routers, as it "
        "was at a past instant, rebuilt from the event log",
    ),
    ApiCommand(
        "listResourceHistory",
        list_resource_history,
        (Param("id", P.UUID, required=True),),
        role=Role.ROOT_ADMIN,
        extension="audit: a resource's history from the event log, who did what and how",
        shape="list",
        item_key="resourceevent",
        description="Stratus extension: every event of a resource, oldest first, with the user, "
        "account, command and job that made it (secrets masked)",
    ),
)
