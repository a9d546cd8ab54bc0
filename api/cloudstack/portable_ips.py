"""Portable public addresses (createPortableIpRange, deletePortableIpRange,
listPortableIpRanges; root admins only) and what associateIpAddress asks of them with
`isportable` (api/cloudstack/public_ips.py). See domain/portable_ips.py."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import select_page
from api.cloudstack.jobs import run_async
from api.cloudstack.networks import HINTS
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from commands import portable_ips as cmd
from domain.errors import InvalidParameter
from domain.regions import LOCAL_ID

P = ParamType
RA = Role.ROOT_ADMIN
PKG = "org.apache.cloudstack.api.command.admin.region"


def _range_row(call: Call, range_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM portable_ip_ranges WHERE id = %s", (range_id,)
        ).fetchone()
    if row is None:
        raise not_found("id", range_id)
    return dict(row)


def _addresses(call: Call, range_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {range_id: [] for range_id in range_ids}
    if not range_ids:
        return found
    marks = ", ".join(["%s"] * len(range_ids))
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT p.*, n.physical_network_id FROM portable_ips AS p "
            "LEFT JOIN networks AS n ON n.id = p.network_id "
            f"WHERE p.range_id IN ({marks}) ORDER BY p.ordinal",
            range_ids,
        ).fetchall()
    for row in rows:
        found[row["range_id"]].append(_render_address(dict(row)))
    return found


def _render_address(row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ipaddress": row["address"],
        "regionid": int(row["region_id"]),
        "state": row["state"],
    }
    optional = {
        "accountid": row["account_id"],
        "domainid": row["domain_id"],
        "zoneid": row["zone_id"] if row["state"] == "Allocated" else None,
        "networkid": row["network_id"],
        "physicalnetworkid": row["physical_network_id"],
    }
    body.update({key: value for key, value in optional.items() if value})
    if row["allocated"]:
        body["allocated"] = format_stored_date(row["allocated"])
    return body


def render_range(row: dict[str, Any], addresses: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "regionid": int(row["region_id"]),
        "gateway": row["gateway"],
        "netmask": row["netmask"],
        "startip": row["start_ip"],
        "endip": row["end_ip"],
        "vlan": row["vlan"],
        "portableipaddress": addresses,
    }


def _range_object(call: Call, range_id: str) -> dict[str, Any]:
    return render_range(_range_row(call, range_id), _addresses(call, [range_id])[range_id])


def _zone_ranges(call: Call) -> tuple[tuple[str, str], ...]:
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT start_ip, end_ip FROM vlan_ip_ranges WHERE removed = 0"
        ).fetchall()
    return tuple((r["start_ip"], r["end_ip"]) for r in rows)


def create_portable_ip_range(call: Call, args: dict[str, Any]) -> Submitted:
    """Checked at once (bad addresses, an unknown region, an overlap answer 431 before any job
    exists); the job records it."""
    with call.read() as cursor:
        region = cursor.execute(
            "SELECT id FROM regions WHERE id = %s", (args["regionid"],)
        ).fetchone()
    if region is None:
        raise InvalidParameter(f"Region with id: {args['regionid']} does not exist")
    command = cmd.CreatePortableIpRange(
        args["regionid"],
        args["gateway"],
        args["netmask"],
        args["startip"],
        args["endip"],
        args["vlan"],
        _zone_ranges(call),
    )
    with call.acting():
        cmd.create_portable_ip_range(call.store, command)
    result = {"object": "portableiprange", "id": str(command.range_id)}
    return run_async(
        call,
        instance_type="PortableIpRange",
        instance_id=command.range_id,
        event_type="PORTABLE.IP.RANGE.CREATE",
        description=f"Creating portable ip range {command.start_ip}-{command.end_ip}",
        work=lambda: result,
        creates=True,
    )


def delete_portable_ip_range(call: Call, args: dict[str, Any]) -> Submitted:
    row = _range_row(call, args["id"])
    with call.read() as cursor:
        allocated = cursor.execute(
            "SELECT count(*) AS n FROM portable_ips WHERE range_id = %s AND state = 'Allocated'",
            (row["id"],),
        ).fetchone()["n"]
    with call.acting():
        cmd.delete_portable_ip_range(call.store, int(row["region_id"]), UUID(row["id"]), allocated)
    return run_async(
        call,
        instance_type="PortableIpRange",
        instance_id=UUID(row["id"]),
        event_type="PORTABLE.IP.RANGE.DELETE",
        description=f"Deleting portable ip range {row['start_ip']}-{row['end_ip']}",
        work=lambda: {"success": True},
    )


def list_portable_ip_ranges(call: Call, args: dict[str, Any]) -> Listing:
    where, params = ["1 = 1"], []
    for key, column in (("id", "id"), ("regionid", "region_id")):
        if args[key] is not None:
            where.append(f"{column} = %s")
            params.append(args[key])

    def render(rows: list[Any]) -> list[dict[str, Any]]:
        found = _addresses(call, [r["id"] for r in rows])
        return [render_range(dict(r), found[r["id"]]) for r in rows]

    return select_page(
        call, "portable_ip_ranges", where, params, "created, id", args, render, whole_page=True
    )


def portable_request(
    call: Call, args: dict[str, Any], owner: tuple[str, str, str | None, str]
) -> cmd.AcquirePortable:
    """What associateIpAddress with `isportable` asks: an address of the region (the local
    one unless `regionid` names another), the free ones the read model shows first."""
    region_id = args["regionid"] or LOCAL_ID
    with call.read() as cursor:
        free = cursor.execute(
            "SELECT address FROM portable_ips WHERE region_id = %s AND state = 'Free' "
            f"ORDER BY ordinal LIMIT {HINTS}",
            (region_id,),
        ).fetchall()
    account_id, domain_id, network_id, zone_id = owner
    return cmd.AcquirePortable(
        region_id,
        UUID(zone_id),
        UUID(account_id),
        UUID(domain_id),
        UUID(network_id) if network_id else None,
        tuple(r["address"] for r in free),
    )


COMMANDS = (
    ApiCommand(
        "createPortableIpRange",
        create_portable_ip_range,
        (
            Param("regionid", P.INTEGER, required=True),
            Param("startip", P.STRING, required=True),
            Param("endip", P.STRING, required=True),
            Param("gateway", P.STRING, required=True),
            Param("netmask", P.STRING, required=True),
            Param("vlan", P.STRING),
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="portableiprange",
        render=_range_object,
        java_class=f"{PKG}.CreatePortableIpRangeCmd",
        description="adds a range of portable public IP's to a region",
    ),
    ApiCommand(
        "deletePortableIpRange",
        delete_portable_ip_range,
        (Param("id", P.UUID, required=True),),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeletePortableIpRangeCmd",
        description="deletes a range of portable public IP's associated with a region",
    ),
    ApiCommand(
        "listPortableIpRanges",
        list_portable_ip_ranges,
        (Param("id", P.UUID), Param("regionid", P.INTEGER)),
        role=RA,
        shape="list",
        item_key="portableiprange",
        java_class=f"{PKG}.ListPortableIpRangesCmd",
        description="list portable IP ranges",
    ),
)
