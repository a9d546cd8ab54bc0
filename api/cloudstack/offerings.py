"""Compute (service) and disk offerings: create, update, delete, list, and who sees which.

Root admins manage public offerings and system offerings; a domain admin manages offerings
limited to a domain of their subtree. A caller lists the public offerings, those of their own
domain and its ancestors, and (domain admins) those of their subtree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from api.access import Caller, Role
from api.cloudstack.common import domain_row, limit_sql
from api.cloudstack.vm_listing import vm_row
from api.dispatch import ApiCommand, Call, Listing
from api.envelope import format_date
from api.params import Param, ParamType, not_found
from commands import offerings as cmd
from domain.errors import InvalidParameter, PermissionDenied
from domain.offering import ComputeTerms, DiskOffering, DiskTerms, Offering, ServiceOffering
from domain.planners import (
    IMPLICIT_DEDICATION,
    IMPLICIT_MODE,
    PREFERRED,
    STRICT,
    check_planner,
)
from projections.offerings import OFFERED_IN_SQL
from stratus.db import contains

P = ParamType
DA = Role.DOMAIN_ADMIN
IO_PARAMS = {
    "bytesreadrate": ("bytes_read_rate", "diskBytesReadRate"),
    "byteswriterate": ("bytes_write_rate", "diskBytesWriteRate"),
    "iopsreadrate": ("iops_read_rate", "diskIopsReadRate"),
    "iopswriterate": ("iops_write_rate", "diskIopsWriteRate"),
}

_IOPS_FIELDS = (
    ("min_iops", "miniops"),
    ("max_iops", "maxiops"),
    ("hypervisor_snapshot_reserve", "hypervisorsnapshotreserve"),
)

# ---- who sees and manages what ----------------------------------------------------------


def visible_clause(caller: Caller) -> tuple[str, list[Any]]:
    """Offerings a caller may list: those offered in their domain (`OFFERED_IN_SQL`), and for
    domain admins those of their subtree too. Root admins see all."""
    if caller.role == Role.ROOT_ADMIN:
        return "1 = 1", []
    path = caller.domain_path
    clause = OFFERED_IN_SQL
    params: list[Any] = [path]
    if caller.role == Role.DOMAIN_ADMIN:
        clause = f"({clause} OR substr(domain_path, 1, %s) = %s)"
        params += [len(path), path]
    return clause, params


def _manageable_domain(call: Call, domain_id: str | None) -> str | None:
    """The domain an offering is created for; a domain admin must name one in their subtree."""
    caller = call.caller
    if domain_id is None:
        if caller.role != Role.ROOT_ADMIN:
            raise PermissionDenied("A domain administrator creates offerings for a domain only")
        return None
    row = domain_row(call, domain_id)
    if not row["path"].startswith(caller.domain_path):
        raise PermissionDenied("Caller does not have permission to operate on that domain")
    return str(row["id"])


def _managed_row(call: Call, table: str, offering_id: str) -> dict[str, Any]:
    row = _offering_row(call, table, offering_id)
    caller = call.caller
    if caller.role != Role.ROOT_ADMIN and (
        not row["domain_path"] or not row["domain_path"].startswith(caller.domain_path)
    ):
        raise PermissionDenied("Caller does not have permission to operate on that offering")
    return row


def _offering_row(call: Call, table: str, offering_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            f"SELECT * FROM {table} WHERE id = %s AND removed = 0", (offering_id,)
        ).fetchone()
    if row is None:
        raise not_found("id", offering_id)
    return dict(row)


def _domain_names(call: Call, rows: list[dict[str, Any]]) -> dict[str, str]:
    ids = sorted({r["domain_id"] for r in rows if r["domain_id"]})
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with call.read() as cursor:
        found = cursor.execute(f"SELECT id, name FROM domains WHERE id IN ({marks})", ids)
        return {r["id"]: r["name"] for r in found.fetchall()}


# ---- rendering -------------------------------------------------------------------------


def _common(row: dict[str, Any], domains: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "displaytext": row["display_text"],
        "created": format_date(datetime.fromisoformat(row["created"])),
        "storagetype": row["storage_type"],
    }
    if row["tags"]:
        body["tags"] = row["tags"]
    if row["domain_id"]:
        body["domainid"] = row["domain_id"]
        body["domain"] = domains.get(row["domain_id"], "")
    limits = orjson.loads(row["io_limits"])
    for key, label in IO_PARAMS.values():
        if limits.get(key) is not None:
            body[label] = limits[key]
    body["iscustomizediops"] = bool(row["customized_iops"])
    for column, label in _IOPS_FIELDS:
        if row[column] is not None:
            body[label] = row[column]
    return body


def render_service_offering(row: dict[str, Any], domains: dict[str, str]) -> dict[str, Any]:
    body = _common(row, domains)
    if not row["custom"]:
        body.update(cpunumber=row["cpu_number"], cpuspeed=row["cpu_speed"], memory=row["memory"])
    body.update(
        offerha=bool(row["offer_ha"]),
        limitcpuuse=bool(row["limit_cpu_use"]),
        isvolatile=bool(row["is_volatile"]),
        issystem=bool(row["is_system"]),
        defaultuse=bool(row["default_use"]),
        iscustomized=bool(row["custom"]),
    )
    optional = {
        "hosttags": row["host_tags"] or None,
        "systemvmtype": row["system_vm_type"],
        "networkrate": row["network_rate"],
        "deploymentplanner": row["deployment_planner"] or None,
        "serviceofferingdetails": orjson.loads(row["details"]) or None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def render_disk_offering(row: dict[str, Any], domains: dict[str, str]) -> dict[str, Any]:
    body = _common(row, domains)
    body.update(
        disksize=row["disk_size"] or 0,
        iscustomized=bool(row["customized"]),
        displayoffering=bool(row["display_offering"]),
    )
    return body


# ---- listing ---------------------------------------------------------------------------


def _list(
    call: Call, table: str, where: list[str], params: list[Any], args: dict[str, Any], render: Any
) -> Listing:
    clause, scope = visible_clause(call.caller)
    where, params = ["removed = 0", clause, *where], [*scope, *params]
    for key in ("id", "name"):
        if args.get(key) is not None:
            where.append(f"{key} = %s")
            params.append(args[key])
    if args.get("keyword"):
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    if args.get("domainid"):
        domain = domain_row(call, args["domainid"])
        where.append("domain_id = %s")
        params.append(domain["id"])
    sql = f" FROM {table} WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            f"SELECT *{sql} ORDER BY sort_key, created, id" + limit_sql(args["paging"]), params
        ).fetchall()
    domains = _domain_names(call, rows)
    return Listing([render(r, domains) for r in rows], int(count))


def list_service_offerings(call: Call, args: dict[str, Any]) -> Listing:
    system = bool(args.get("issystem"))
    if system and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("Only ROOT admins can access system offerings")
    where, params = ["is_system = %s"], [int(system)]
    if args.get("systemvmtype"):
        where.append("system_vm_type = %s")
        params.append(args["systemvmtype"])
    if args.get("virtualmachineid"):  # 4.3: the offerings the VM may change to
        vm = vm_row(call, args["virtualmachineid"])
        where.append("id <> %s")
        params.append(vm["service_offering_id"])
    return _list(call, "service_offerings", where, params, args, render_service_offering)


def list_disk_offerings(call: Call, args: dict[str, Any]) -> Listing:
    """Disk offerings; an offering not displayed (`displayoffering=false`) is listed to root
    administrators only, as every hidden resource."""
    hidden = [] if call.caller.role == Role.ROOT_ADMIN else ["display_offering = 1"]
    return _list(call, "disk_offerings", hidden, [], args, render_disk_offering)


# ---- changes ---------------------------------------------------------------------------


def _io_limits(args: dict[str, Any]) -> dict[str, int]:
    return {key: args[p] for p, (key, _) in IO_PARAMS.items() if args.get(p) is not None}


def _iops_terms(args: dict[str, Any]) -> dict[str, Any]:
    """The storage QoS terms of a new offering (checked by the domain)."""
    return {
        "customized_iops": bool(args["customizediops"]),
        "min_iops": args["miniops"],
        "max_iops": args["maxiops"],
        "hypervisor_snapshot_reserve": args["hypervisorsnapshotreserve"],
    }


def _details(groups: list[dict[str, str]] | None) -> dict[str, str]:
    """`serviceofferingdetails[i].key/value` pairs (or `[i].name=value` groups) as one map."""
    merged: dict[str, str] = {}
    for group in groups or ():
        if set(group) == {"key", "value"}:
            merged[group["key"]] = group["value"]
        else:
            merged.update(group)
    return merged


def _compute_terms(args: dict[str, Any]) -> ComputeTerms:
    system = bool(args["issystem"])
    if args["systemvmtype"] and not system:
        raise InvalidParameter("A system VM type is given only for a system offering")
    if system and not args["systemvmtype"]:
        raise InvalidParameter(
            "Invalid system VM type. Supported types are: domainrouter, consoleproxy, "
            "secondarystoragevm"
        )
    return ComputeTerms(
        name=args["name"],
        display_text=args["displaytext"],
        cpu_number=args["cpunumber"],
        cpu_speed=args["cpuspeed"],
        memory=args["memory"],
        storage_type=(args["storagetype"] or "shared").lower(),
        offer_ha=bool(args["offerha"]),
        limit_cpu_use=bool(args["limitcpuuse"]),
        is_volatile=bool(args["isvolatile"]),
        tags=args["tags"] or "",
        host_tags=args["hosttags"] or "",
        system_vm_type=(args["systemvmtype"] or "").lower() or None,
        network_rate=args["networkrate"],
        deployment_planner=_planner(args),
        io_limits=_io_limits(args),
        details=_details(args["serviceofferingdetails"]),
        **_iops_terms(args),
    )


def _planner(args: dict[str, Any]) -> str:
    """A user VMs' offering may name one of 4.3's planners (system VMs are placed first fit);
    ImplicitDedicationPlanner's mode comes as the detail `ImplicitDedicationMode`."""
    if not args["deploymentplanner"]:
        return ""
    if args["systemvmtype"]:
        raise InvalidParameter("A deployment planner is for user VMs' offerings only")
    planner = check_planner(args["deploymentplanner"])
    mode = _details(args["serviceofferingdetails"]).get(IMPLICIT_MODE)
    if mode is not None and (planner != IMPLICIT_DEDICATION or mode not in (STRICT, PREFERRED)):
        raise InvalidParameter(
            f"{IMPLICIT_MODE} is {STRICT} or {PREFERRED}, for the {IMPLICIT_DEDICATION} only"
        )
    return planner


def create_service_offering(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if args["issystem"] and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("Only ROOT admins can create system offerings")
    domain_id = _manageable_domain(call, args["domainid"])
    terms = _compute_terms(args)
    command = cmd.CreateServiceOffering(terms, UUID(domain_id) if domain_id else None)
    outcome = call.write(cmd.create_service_offering, command)
    row = _offering_row(call, "service_offerings", str(outcome.id))
    return render_service_offering(row, _domain_names(call, [row]))


def create_disk_offering(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    domain_id = _manageable_domain(call, args["domainid"])
    terms = DiskTerms(
        name=args["name"],
        display_text=args["displaytext"],
        disk_size=args["disksize"],
        customized=bool(args["customized"]),
        storage_type=(args["storagetype"] or "shared").lower(),
        tags=args["tags"] or "",
        io_limits=_io_limits(args),
        display_offering=args["displayoffering"] is not False,
        **_iops_terms(args),
    )
    command = cmd.CreateDiskOffering(terms, UUID(domain_id) if domain_id else None)
    outcome = call.write(cmd.create_disk_offering, command)
    row = _offering_row(call, "disk_offerings", str(outcome.id))
    return render_disk_offering(row, _domain_names(call, [row]))


def _update(call: Call, args: dict[str, Any], kind: type[Offering], table: str) -> dict[str, Any]:
    _managed_row(call, table, args["id"])
    changes = {
        key: args[wire]
        for key, wire in (
            ("name", "name"),
            ("display_text", "displaytext"),
            ("sort_key", "sortkey"),
            ("display_offering", "displayoffering"),
        )
        if args.get(wire) is not None
    }
    call.write(cmd.update_offering, cmd.UpdateOffering(kind, UUID(args["id"]), changes))
    return _offering_row(call, table, args["id"])


def update_service_offering(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _update(call, args, ServiceOffering, "service_offerings")
    return render_service_offering(row, _domain_names(call, [row]))


def update_disk_offering(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _update(call, args, DiskOffering, "disk_offerings")
    return render_disk_offering(row, _domain_names(call, [row]))


def _delete(call: Call, args: dict[str, Any], kind: type[Offering], table: str) -> None:
    _managed_row(call, table, args["id"])
    call.write(lambda store, i: cmd.delete_offering(store, kind, i), UUID(args["id"]))


# ---- the table -------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)
UPDATE_PARAMS = (
    ID,
    Param("name", P.STRING),
    Param("displaytext", P.STRING, max_length=4096),
    Param("sortkey", P.INTEGER),
)
COMMON_CREATE = (
    Param("name", P.STRING, required=True),
    Param("displaytext", P.STRING, required=True, max_length=4096),
    Param("storagetype", P.STRING),
    Param("tags", P.STRING),
    Param("domainid", P.UUID),
    *(Param(wire, P.LONG) for wire in IO_PARAMS),
)
LIST_PARAMS = (Param("id", P.UUID), Param("name", P.STRING), Param("domainid", P.UUID))

# 4.3 keeps offerings to root admins; here a domain admin also manages offerings limited to
# their own domain (root admins keep the public and system ones).
DOMAIN_OFFERINGS = "domain admins manage the offerings of their own domain"
# 4.3's storage QoS settings of an offering (`domain.storage_qos`).
STORAGE_QOS = (
    Param("customizediops", P.BOOLEAN, default=False),
    Param("miniops", P.LONG),
    Param("maxiops", P.LONG),
    Param("hypervisorsnapshotreserve", P.INTEGER),
)

COMMANDS = (
    ApiCommand(
        "createServiceOffering",
        create_service_offering,
        (
            *COMMON_CREATE,
            Param("cpunumber", P.INTEGER),
            Param("cpuspeed", P.INTEGER),
            Param("memory", P.INTEGER),
            Param("offerha", P.BOOLEAN),
            Param("limitcpuuse", P.BOOLEAN),
            Param("isvolatile", P.BOOLEAN),
            Param("hosttags", P.STRING),
            Param("issystem", P.BOOLEAN),
            Param("systemvmtype", P.STRING),
            Param("networkrate", P.INTEGER),
            Param("deploymentplanner", P.STRING),
            Param("serviceofferingdetails", P.MAP),
            *STORAGE_QOS,
        ),
        role=DA,
        role_extension=DOMAIN_OFFERINGS,
        item_key="serviceoffering",
        description="Creates a service offering.",
    ),
    ApiCommand(
        "updateServiceOffering",
        update_service_offering,
        UPDATE_PARAMS,
        role=DA,
        role_extension=DOMAIN_OFFERINGS,
        item_key="serviceoffering",
        description="Updates a service offering.",
    ),
    ApiCommand(
        "deleteServiceOffering",
        lambda c, a: _delete(c, a, ServiceOffering, "service_offerings"),
        (ID,),
        role=DA,
        role_extension=DOMAIN_OFFERINGS,
        shape="success",
        description="Deletes a service offering.",
    ),
    ApiCommand(
        "listServiceOfferings",
        list_service_offerings,
        (
            *LIST_PARAMS,
            Param("issystem", P.BOOLEAN),
            Param("systemvmtype", P.STRING),
            Param("virtualmachineid", P.UUID),
        ),
        shape="list",
        item_key="serviceoffering",
        description="Lists all available service offerings.",
    ),
    ApiCommand(
        "createDiskOffering",
        create_disk_offering,
        (
            *COMMON_CREATE,
            Param("disksize", P.LONG),
            Param("customized", P.BOOLEAN),
            Param("displayoffering", P.BOOLEAN),
            *STORAGE_QOS,
        ),
        role=DA,
        role_extension=DOMAIN_OFFERINGS,
        item_key="diskoffering",
        description="Creates a disk offering.",
    ),
    ApiCommand(
        "updateDiskOffering",
        update_disk_offering,
        (
            *UPDATE_PARAMS,
            Param("displayoffering", P.BOOLEAN),
        ),
        role=DA,
        role_extension=DOMAIN_OFFERINGS,
        item_key="diskoffering",
        description="Updates a disk offering.",
    ),
    ApiCommand(
        "deleteDiskOffering",
        lambda c, a: _delete(c, a, DiskOffering, "disk_offerings"),
        (ID,),
        role=DA,
        role_extension=DOMAIN_OFFERINGS,
        shape="success",
        description="Deletes a disk offering.",
    ),
    ApiCommand(
        "listDiskOfferings",
        list_disk_offerings,
        LIST_PARAMS,
        shape="list",
        item_key="diskoffering",
        description="Lists all available disk offerings.",
    ),
)
