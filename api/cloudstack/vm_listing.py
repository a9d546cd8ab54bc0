"""Reading virtual machines: one VM's row, listVirtualMachines, and how a VM is rendered."""

from __future__ import annotations

from typing import Any

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import (
    resolve_owner_filters,
)
from api.cloudstack.network_nics import vm_nics
from api.cloudstack.pages import needs_accounts, ordered
from api.cloudstack.security_groups import vm_groups
from api.dispatch import Call, Listing
from api.display import condition
from api.envelope import format_stored_date
from api.params import not_found
from api.tagging import narrow
from domain.errors import InvalidParameter, PermissionDenied
from projections.affinity_groups import groups_of_vms as affinity_of_vms
from projections.live_statistics import disk_figures
from projections.resource_details import shown_details
from projections.vms import vm_count
from stratus.db import contains

MIB = 1024 * 1024
LIST_DETAILS = {"all", "group", "nics", "stats", "secgrp", "tmpl", "servoff", "iso", "volume"}


# ---- reading VMs -------------------------------------------------------------------------

# The names a VM is shown with, joined rather than looked up one query per kind afterwards.
_NAMES = (
    ", z.name AS zone_name, h.name AS host_name, t.name AS template_name, "
    "t.display_text AS template_text, "
    "t.password_enabled AS password_enabled, "
    "o.name AS offering_name FROM virtual_machines AS v "
    "JOIN accounts AS a ON a.id = v.account_id "
    "LEFT JOIN zones AS z ON z.id = v.zone_id LEFT JOIN hosts AS h ON h.id = v.host_id "
    "LEFT JOIN templates AS t ON t.id = v.template_id "
    "LEFT JOIN service_offerings AS o ON o.id = v.service_offering_id"
)

_SELECT = (
    "SELECT v.*, a.name AS account_name, a.domain_name AS domain_name, "
    "a.domain_path AS domain_path" + _NAMES
)

# What a listed VM is rendered from: a page reads and decodes these columns only.
_LISTED = (
    "SELECT v.id, v.name, v.display_name, v.instance_name, v.account_id, v.domain_id, "
    "v.zone_id, v.host_id, v.state, v.template_id, v.service_offering_id, v.hypervisor, "
    "v.guest_os_id, v.cpu_number, v.cpu_speed, v.memory, v.custom, v.ha_enable, v.vm_group, "
    "v.group_id, v.iso_id, v.iso_name, v.iso_display_text, v.dynamically_scalable, "
    "v.display_vm, "
    "v.pending_job_id, v.keypair, v.created, a.name AS account_name, a.domain_name AS domain_name"
    + _NAMES
)


def vm_row(call: Call, vm_id: str, *, removed: bool = False) -> dict[str, Any]:
    """A VM the caller may act on: 431 when there is none, 531 when it is someone else's."""
    gone = "" if removed else " AND v.removed = 0"
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE v.id = %s" + gone, (vm_id,)).fetchone()
    if row is None:
        raise not_found("id", vm_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the virtual machine",
    )
    return dict(row)


def render_vm(
    row: dict[str, Any],
    admin: bool,
    nics: list[dict],
    groups: list[dict],
    affinity: list[dict] | None = None,
) -> dict:
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "displayname": row["display_name"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "created": format_stored_date(row["created"]),
        "state": row["state"],
        "haenable": bool(row["ha_enable"]),
        "zoneid": row["zone_id"],
        "zonename": row["zone_name"] or "",
        "templateid": row["template_id"],
        "templatename": row["template_name"] or "",
        "templatedisplaytext": row["template_text"] or "",
        "passwordenabled": bool(row["password_enabled"]),
        "serviceofferingid": row["service_offering_id"],
        "serviceofferingname": row["offering_name"] or "",
        "cpunumber": int(row["cpu_number"]),
        "cpuspeed": int(row["cpu_speed"]),
        "memory": int(row["memory"]),
        "guestosid": row["guest_os_id"],
        "rootdeviceid": 0,
        "rootdevicetype": "ROOT",
        "hypervisor": row["hypervisor"],
        "isdynamicallyscalable": bool(row["dynamically_scalable"]),
        "displayvm": bool(row["display_vm"]),
        "securitygroup": groups,
        "nic": nics,
        "tags": [],
        "affinitygroup": [{**g, "account": row["account_name"]} for g in affinity or ()],
    }
    _optional_fields(body, row, admin)
    return body


def _optional_fields(body: dict[str, Any], row: dict[str, Any], admin: bool) -> None:
    if row["host_id"] and admin:
        body["hostid"] = row["host_id"]
        body["hostname"] = row["host_name"] or ""
    if admin:
        body["instancename"] = row["instance_name"]
    if row["vm_group"]:
        body["group"] = row["vm_group"]
    if row["keypair"]:
        body["keypair"] = row["keypair"]
    if row["group_id"]:
        body["groupid"] = row["group_id"]
    if row["iso_id"]:
        body["isoid"] = row["iso_id"]
        body["isoname"] = row["iso_name"]
        body["isodisplaytext"] = row["iso_display_text"]
    if row["custom"]:
        body["details"] = {
            "cpuNumber": str(row["cpu_number"]),
            "cpuSpeed": str(row["cpu_speed"]),
            "memory": str(row["memory"]),
        }
    if row["pending_job_id"]:
        body["jobid"], body["jobstatus"] = row["pending_job_id"], 0


MINIMAL = ("id", "name", "displayname", "state", "zoneid", "zonename", "account", "domainid")
MINIMAL += ("domain", "created", "hypervisor", "cpunumber", "cpuspeed", "memory")


def render_vms(call: Call, rows: list[dict[str, Any]], minimal: bool = False) -> list[dict]:
    admin = call.caller.role == Role.ROOT_ADMIN
    ids = [row["id"] for row in rows]
    with call.read() as cursor:  # one connection for all of them
        nics, groups = vm_nics(cursor, ids), vm_groups(cursor, ids)
        affinity = affinity_of_vms(cursor, ids)
        shown = shown_details(cursor, "UserVm", ids)
        figures = disk_figures(cursor, [row["id"] for row in rows if row["state"] == "Running"])
    items = [
        render_vm(
            row,
            admin,
            nics.get(row["id"], []),
            groups.get(row["id"], []),
            affinity.get(row["id"], []),
        )
        for row in rows
    ]
    for item in items:  # details added to a VM show beside its custom shape's (which win)
        if shown.get(item["id"]):
            item["details"] = {**shown[item["id"]], **item.get("details", {})}
        if item["id"] in figures:
            item.update(disk_stats(figures[item["id"]]))
    if minimal:
        items = [{k: v for k, v in item.items() if k in MINIMAL} for item in items]
    return items


def disk_stats(counters: dict[str, int]) -> dict[str, int]:
    """A running VM's disk counters of its current run as 4.3 answers them (bytes in KiB)."""
    return {
        "diskioread": counters["io_read"],
        "diskiowrite": counters["io_write"],
        "diskkbsread": counters["bytes_read"] // 1024,
        "diskkbswrite": counters["bytes_write"] // 1024,
    }


def vm_view(call: Call, vm_id: str) -> dict[str, Any]:
    return render_vms(call, [vm_row(call, vm_id, removed=True)])[0]


def list_vms(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["v.removed = 0", scope.clause], list(scope.params)
    for key, clause in _VM_FILTERS:
        if args[key]:
            if key in _ADMIN_FILTERS and call.caller.role != Role.ROOT_ADMIN:
                raise PermissionDenied("Only root administrators may list VMs by host, pod or pool")
            where.append(clause)
            params.append(args[key])
    shown = condition(call, args["displayvm"], "displayvm", "v.display_vm = 1", "v.display_vm = 0")
    if shown:  # hidden VMs are listed to root administrators only, as every hidden resource
        where.append(shown)
    _network_filters(args, where, params)
    if args["ids"]:
        where.append(f"v.id IN ({', '.join(['%s'] * len(args['ids']))})")
        params += args["ids"]
    for key, column in (("name", "name"), ("keyword", "name")):
        if args.get(key):
            clause, values = contains((f"v.{column}", "v.display_name"), args[key])
            where.append(clause)
            params += values
    narrow(args, "UserVm", "v.id", where, params)
    only_scope = scope if len(where) == 2 else None  # then the per-account counters answer
    rows, count = _page(call, " WHERE " + " AND ".join(where), params, args, only_scope)
    return Listing(render_vms(call, rows, minimal=_minimal(args["details"])), count)


def _network_filters(args: dict[str, Any], where: list[str], params: list[Any]) -> None:
    """`vpcid` (VMs with a NIC on one of the VPC's tiers; ignored beside `networkid`, as in
    4.3) and `forvirtualnetwork` (VMs with a NIC on an isolated guest network, or, false, on a
    network of another kind: shared, L2)."""
    on_networks = (
        "v.id IN (SELECT n.vm_id FROM vm_nics AS n JOIN networks AS w ON w.id = n.network_id "
        "WHERE n.removed = 0 AND "
    )
    if args["vpcid"] and not args["networkid"]:
        where.append(on_networks + "w.vpc_id = %s)")
        params.append(args["vpcid"])
    if args["forvirtualnetwork"] is not None:
        where.append(
            on_networks
            + ("w.guest_type = %s)" if args["forvirtualnetwork"] else "w.guest_type <> %s)")
        )
        params.append("Isolated")


_VM_FILTERS = (
    ("id", "v.id = %s"),
    ("state", "v.state = %s"),
    ("zoneid", "v.zone_id = %s"),
    ("templateid", "v.template_id = %s"),
    ("serviceofferingid", "v.service_offering_id = %s"),
    ("hypervisor", "lower(v.hypervisor) = lower(%s)"),
    ("networkid", "v.id IN (SELECT vm_id FROM vm_nics WHERE network_id = %s)"),
    ("hostid", "v.host_id = %s"),
    ("groupid", "v.group_id = %s"),
    ("isoid", "v.iso_id = %s"),
    # A stopped VM stays in the pod of the host it last ran on.
    ("podid", "COALESCE(v.host_id, v.last_host_id) IN (SELECT id FROM hosts WHERE pod_id = %s)"),
    ("affinitygroupid", "v.id IN (SELECT vm_id FROM affinity_group_members WHERE group_id = %s)"),
    # The VMs whose ROOT or attached data disks are on the pool.
    ("storageid", "v.id IN (SELECT vm_id FROM volumes WHERE storage_id = %s AND removed = 0)"),
)
_ADMIN_FILTERS = frozenset({"hostid", "podid", "storageid"})


def _minimal(details: list[str] | None) -> bool:
    wanted = {d.lower() for d in details or ()}
    unknown = wanted - LIST_DETAILS
    if unknown:
        raise InvalidParameter(
            "The details parameter contains a non permitted value. The allowed values are "
            + str(sorted(LIST_DETAILS))
        )
    return "min" in wanted and "all" not in wanted


def _page(
    call: Call, where: str, params: list[Any], args: dict[str, Any], only_scope: Any = None
) -> tuple[list[dict[str, Any]], int]:
    """Count and page on the narrow (removed, seq) index alone, then read only the page's rows:
    with a deep OFFSET, reading whole rows (and accounts) for every skipped VM dominated."""
    source = " FROM virtual_machines AS v"
    if needs_accounts(where):
        source += " JOIN accounts AS a ON a.id = v.account_id"
    with call.read() as cursor:
        if only_scope is not None:
            count = vm_count(cursor, only_scope.clause, list(only_scope.params))
        else:
            count = cursor.execute(f"SELECT count(*) AS n{source}{where}", params).fetchone()["n"]
        keys = f"SELECT v.seq{source}{where}" + ordered(("v.seq",), args["paging"], int(count))
        page = f"{_LISTED} JOIN ({keys}) AS p ON p.seq = v.seq"
        rows = cursor.execute(page + " ORDER BY p.seq", params).fetchall()
    return rows, int(count)
