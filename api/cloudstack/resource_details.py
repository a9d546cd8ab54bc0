"""Resource details (4.3's resource metadata): add, remove and list the key/value details of a
VM, volume, template, network or snapshot. Other 4.3 resource types are refused by name."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import LIST_PROJECT_ID, OWNER_PARAMS, limit_sql, resolve_owner_filters
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType
from commands import resource_details as cmd
from domain.errors import InvalidParameter, NotFound
from domain.resource_details import check_details
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.volume"
RA = Role.ROOT_ADMIN

# The 4.3 resource types whose details are kept here, and the read model of each resource.
TABLES = {
    "UserVm": "virtual_machines",
    "Volume": "volumes",
    "Template": "templates",
    "Network": "networks",
    "Snapshot": "snapshots",
}
# 4.3 types whose resources are not built here (or carry no details here yet).
NOT_BUILT = {
    "ISO": "details of ISOs are not built yet",
    "Nic": "details of NICs are not built yet",
    "Zone": "a zone's details are set by updateZone and answered in listZones, not listed here yet",
    "ServiceOffering": "details of service offerings are not built yet",
    "Storage": "details of primary storage pools are not built yet",
    "Vpc": "VPCs are not built yet",
    "Project": "projects are not built yet",
}


def resource_type(given: str) -> str:
    """4.3's resource type name, matched in any case; 431 for one not kept here."""
    for name in TABLES:
        if name.lower() == given.lower():
            return name
    for name, reason in NOT_BUILT.items():
        if name.lower() == given.lower():
            raise InvalidParameter(f"Details of resource type {name} cannot be kept: {reason}")
    kinds = ", ".join(TABLES)
    raise InvalidParameter(f"Invalid resource type {given}: details are kept for {kinds}")


def _resource(call: Call, kind: str, resource_id: str) -> dict[str, Any]:
    """The resource's owner, when the caller may act on it (431 none, 531 someone else's)."""
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT r.account_id, a.domain_id, a.domain_path FROM "
            f"{TABLES[kind]} AS r JOIN accounts AS a ON a.id = r.account_id "
            "WHERE r.id = %s AND r.removed = 0",
            (resource_id,),
        ).fetchone()
    if row is None:
        raise NotFound(
            f"Unable to find resource by id {resource_id} and type {kind}",
            resource_ids=(resource_id,),
        )
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what=f"the {kind}",
    )
    return dict(row)


def detail_pairs(groups: list[dict[str, str]] | None) -> dict[str, str]:
    """`details[i].key=k&details[i].value=v` pairs (or `details[i].k=v`), as one map."""
    merged: dict[str, str] = {}
    for group in groups or ():
        lowered = {name.lower(): value for name, value in group.items()}
        if set(lowered) == {"key", "value"}:
            merged[lowered["key"]] = lowered["value"]
        elif "key" in lowered or "value" in lowered:
            raise InvalidParameter("Each detail needs both a key and a value")
        else:
            merged.update(group)
    return merged


def add(call: Call, args: dict[str, Any]) -> Submitted:
    kind = resource_type(args["resourcetype"])
    owner = _resource(call, kind, args["resourceid"])
    command = cmd.AddResourceDetails(
        kind,
        UUID(args["resourceid"]),
        UUID(owner["account_id"]),
        UUID(owner["domain_id"]),
        check_details(detail_pairs(args["details"])),
        display=args["fordisplay"],
    )
    return run_async(
        call,
        instance_type=kind,
        instance_id=UUID(args["resourceid"]),
        event_type="CREATE_RESOURCE_DETAILS",
        description=f"Adding details to {kind} {args['resourceid']}",
        work=lambda: (cmd.add_details(call.store, command), {"success": True})[1],
    )


def remove(call: Call, args: dict[str, Any]) -> Submitted:
    kind = resource_type(args["resourcetype"])
    _resource(call, kind, args["resourceid"])
    command = cmd.RemoveResourceDetails(kind, UUID(args["resourceid"]), args["key"] or None)
    return run_async(
        call,
        instance_type=kind,
        instance_id=UUID(args["resourceid"]),
        event_type="DELETE_RESOURCE_DETAILS",
        description=f"Removing details of {kind} {args['resourceid']}",
        work=lambda: (cmd.remove_details(call.store, command), {"success": True})[1],
    )


def list_details(call: Call, args: dict[str, Any]) -> Listing:
    kind = resource_type(args["resourcetype"])
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where = ["d.resource_type = %s", scope.clause]
    params: list[Any] = [kind, *scope.params]
    # Only what is still there; the table comes from TABLES, never from the request.
    where.append(
        f"EXISTS (SELECT 1 FROM {TABLES[kind]} AS r WHERE r.id = d.resource_id AND r.removed = 0)"
    )
    shown = args["fordisplay"] if call.caller.role == RA else True  # users see shown ones only
    if shown is not None:
        where.append("d.display = %s")
        params.append(int(shown))
    for key, column in (("resourceid", "d.resource_id"), ("key", "d.name")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args["keyword"]:
        clause, values = contains(("d.name", "d.value"), args["keyword"])
        where.append(clause)
        params += values
    return _page(call, " WHERE " + " AND ".join(where), params, args)


_FROM = " FROM resource_details AS d JOIN accounts AS a ON a.id = d.account_id"


def _page(call: Call, where: str, params: list[Any], args: dict[str, Any]) -> Listing:
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + _FROM + where, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT d.*, a.name AS account_name, a.domain_name AS domain_name"
            + _FROM
            + where
            + " ORDER BY d.resource_id, d.name"
            + limit_sql(args["paging"]),
            params,
        ).fetchall()
    return Listing([_render(row) for row in rows], int(count))


def _render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceid": row["resource_id"],
        "resourcetype": row["resource_type"],
        "key": row["name"],
        "value": row["value"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
    }


COMMANDS = (
    ApiCommand(
        "addResourceDetail",
        add,
        (
            Param("details", P.MAP, required=True),
            Param("resourceid", P.UUID, required=True),
            Param("resourcetype", P.STRING, required=True),
            Param("fordisplay", P.BOOLEAN, default=True),
        ),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{PKG}.AddResourceDetailCmd",
        description="Adds detail for the Resource",
    ),
    ApiCommand(
        "removeResourceDetail",
        remove,
        (
            Param("resourceid", P.UUID, required=True),
            Param("resourcetype", P.STRING, required=True),
            Param("key", P.STRING),
        ),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{PKG}.RemoveResourceDetailCmd",
        description="Removes details of a resource",
    ),
    ApiCommand(
        "listResourceDetails",
        list_details,
        (
            *OWNER_PARAMS,
            Param("resourcetype", P.STRING, required=True),
            Param("resourceid", P.UUID),
            Param("key", P.STRING),
            Param("fordisplay", P.BOOLEAN),
            LIST_PROJECT_ID,
        ),
        shape="list",
        item_key="resourcedetail",
        java_class=f"{PKG}.ListResourceDetailsCmd",
        description="List resource detail(s)",
    ),
)
