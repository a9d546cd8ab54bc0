"""Regions: the CloudStack commands, their parameters and responses."""

from __future__ import annotations

from typing import Any

from api.access import Role
from api.cloudstack.common import select_page
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands.regions import change_regions
from domain.errors import NotFound
from stratus.db import contains

P = ParamType


def render_region(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "name": row["name"],
        "endpoint": row["endpoint"],
        "gslbserviceenabled": bool(row["gslb_service_enabled"]),
        "portableipserviceenabled": bool(row["portable_ip_service_enabled"]),
    }


def _region(call: Call, region_id: int) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute("SELECT * FROM regions WHERE id = %s", (region_id,)).fetchone()
    if row is None:
        raise NotFound(f"Region with id: {region_id} does not exist")
    return render_region(row)


def list_regions(call: Call, args: dict[str, Any]) -> Listing:
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    for column in ("id", "name"):
        if args[column] is not None:
            where.append(f"{column} = %s")
            params.append(args[column])
    if args.get("keyword"):
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    return select_page(call, "regions", where, params, "id", args, render_region)


def add_region(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    call.write(
        change_regions, lambda regions: regions.add(args["id"], args["name"], args["endpoint"])
    )
    return _region(call, args["id"])


def update_region(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    call.write(
        change_regions,
        lambda regions: regions.update(args["id"], args["name"], args["endpoint"]),
    )
    return _region(call, args["id"])


def remove_region(call: Call, args: dict[str, Any]) -> None:
    call.write(change_regions, lambda regions: regions.remove(args["id"]))


REGION_ID = Param("id", P.INTEGER, required=True, min_value=1)

COMMANDS = (
    ApiCommand(
        "listRegions",
        list_regions,
        (Param("id", P.INTEGER), Param("name", P.STRING)),
        shape="list",
        item_key="region",
        description="Lists Regions",
    ),
    ApiCommand(
        "addRegion",
        add_region,
        (
            REGION_ID,
            Param("name", P.STRING, required=True),
            Param("endpoint", P.STRING, required=True),
        ),
        role=Role.ROOT_ADMIN,
        item_key="region",
        description="Adds a Region",
    ),
    ApiCommand(
        "updateRegion",
        update_region,
        (REGION_ID, Param("name", P.STRING), Param("endpoint", P.STRING)),
        role=Role.ROOT_ADMIN,
        item_key="region",
        description="Updates a region",
    ),
    ApiCommand(
        "removeRegion",
        remove_region,
        (REGION_ID,),
        role=Role.ROOT_ADMIN,
        shape="success",
        description="Removes specified region",
    ),
)
