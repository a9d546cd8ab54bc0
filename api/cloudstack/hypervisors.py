"""Hypervisors, their capabilities and the deployment planners: listHypervisors,
listHypervisorCapabilities, updateHypervisorCapabilities, listDeploymentPlanners."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import limit_sql
from api.cloudstack.infrastructure import _row as zone_row
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType, not_found
from commands.hypervisor_capabilities import update_capabilities
from domain.errors import InvalidParameter
from domain.infrastructure import HYPERVISORS
from domain.planners import PLANNERS
from stratus.db import contains

P = ParamType
ADMIN_PKG = "org.apache.cloudstack.api.command.admin.config"
ITEM = "hypervisorCapabilities"


def list_hypervisors(call: Call, args: dict[str, Any]) -> Listing:
    """A zone's hypervisors are those of its clusters; without a zone, every kind supported."""
    if not args["zoneid"]:
        return Listing([{"name": name} for name in HYPERVISORS], len(HYPERVISORS))
    zone = zone_row(call, "zones", args["zoneid"], "zone")
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT DISTINCT hypervisor FROM clusters WHERE zone_id = %s AND removed = 0 "
            "ORDER BY hypervisor",
            (zone["id"],),
        ).fetchall()
    return Listing([{"name": r["hypervisor"]} for r in rows], len(rows))


def render_capabilities(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "hypervisor": row["hypervisor"],
        "hypervisorversion": row["version"],
        "maxguestslimit": row["max_guests"],
        "maxdatavolumeslimit": row["max_data_volumes"],
        "maxhostspercluster": row["max_hosts_per_cluster"],
        "securitygroupenabled": bool(row["security_group_enabled"]),
        "storagemotionenabled": bool(row["storage_motion"]),
    }
    return {k: v for k, v in body.items() if v is not None}


def _capabilities_row(call: Call, row_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM hypervisor_capabilities WHERE id = %s", (row_id,)
        ).fetchone()
    if row is None:
        raise not_found("id", row_id)
    return dict(row)


def list_capabilities(call: Call, args: dict[str, Any]) -> Listing:
    where, params = ["1 = 1"], []
    if args["id"]:
        where.append("id = %s")
        params.append(str(args["id"]))
    if args["hypervisor"]:
        where.append("lower(hypervisor) = lower(%s)")
        params.append(args["hypervisor"])
    if args["keyword"]:
        clause, values = contains(("hypervisor", "version"), args["keyword"])
        where.append(clause)
        params += values
    sql = " FROM hypervisor_capabilities WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT *" + sql + " ORDER BY hypervisor, version" + limit_sql(args["paging"]),
            params,
        ).fetchall()
    return Listing([render_capabilities(dict(r)) for r in rows], int(count))


def update(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if not args["id"]:
        raise InvalidParameter("Specify id: the hypervisor capabilities to update")
    row = _capabilities_row(call, str(args["id"]))
    sg = args["securitygroupenabled"]
    call.write(
        lambda store, _: update_capabilities(
            store, UUID(row["id"]), args["maxguestslimit"], None if sg is None else bool(sg)
        ),
        None,
    )
    return render_capabilities(_capabilities_row(call, row["id"]))


def list_planners(call: Call, args: dict[str, Any]) -> Listing:
    keyword = (args["keyword"] or "").lower()
    found = [name for name in PLANNERS if keyword in name.lower()]
    paging = args["paging"]
    start = int(paging.offset or 0)
    page = found[start : start + paging.limit] if paging.limit is not None else found[start:]
    return Listing([{"name": name} for name in page], len(found))


COMMANDS = (
    ApiCommand(
        "listHypervisors",
        list_hypervisors,
        (Param("zoneid", P.UUID),),
        shape="list",
        item_key="hypervisor",
        paged=False,
        java_class="org.apache.cloudstack.api.command.user.config.ListHypervisorsCmd",
        description="List hypervisors",
    ),
    ApiCommand(
        "listHypervisorCapabilities",
        list_capabilities,
        (Param("id", P.UUID), Param("hypervisor", P.STRING)),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key=ITEM,
        java_class=f"{ADMIN_PKG}.ListHypervisorCapabilitiesCmd",
        description="Lists all hypervisor capabilities.",
    ),
    ApiCommand(
        "updateHypervisorCapabilities",
        update,
        (
            Param("id", P.UUID),
            Param("maxguestslimit", P.LONG),
            Param("securitygroupenabled", P.BOOLEAN),
        ),
        role=Role.ROOT_ADMIN,
        item_key=ITEM,
        java_class=f"{ADMIN_PKG}.UpdateHypervisorCapabilitiesCmd",
        description="Updates a hypervisor capabilities.",
    ),
    ApiCommand(
        "listDeploymentPlanners",
        list_planners,
        (),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key="deploymentPlanner",
        java_class=f"{ADMIN_PKG}.ListDeploymentPlannersCmd",
        description="Lists all DeploymentPlanners available.",
    ),
)
