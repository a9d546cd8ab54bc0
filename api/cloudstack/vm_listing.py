"""Reading virtual machines: one VM's row, listVirtualMachines, and how a VM is rendered."""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import (
    resolve_owner_filters,
)
from api.cloudstack.jobs import RENDERERS
from api.cloudstack.network_nics import vm_nics
from api.cloudstack.pages import needs_accounts, ordered
from api.cloudstack.security_groups import vm_groups
from api.dispatch import Call, Listing
from api.envelope import format_stored_date
from api.fragments import Kept, dumped, marker, quoted, template
from api.params import not_found
from domain.errors import InvalidParameter, PermissionDenied
from projections.listed import fill_listed
from projections.vms import vm_count
from stratus.db import in_list

MIB = 1024 * 1024
LIST_DETAILS = {"all", "group", "nics", "stats", "secgrp", "tmpl", "servoff", "iso", "volume"}


# ---- reading VMs -------------------------------------------------------------------------

# The names a VM is shown with, joined rather than looked up one query per kind afterwards.
_NAMES = (
    ", z.name AS zone_name, h.name AS host_name, t.name AS template_name, "
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
_COLUMNS = (
    "v.id, v.name, v.display_name, v.instance_name, v.account_id, v.domain_id, "
    "v.zone_id, v.host_id, v.state, v.template_id, v.service_offering_id, v.hypervisor, "
    "v.guest_os_id, v.cpu_number, v.cpu_speed, v.memory, v.custom, v.ha_enable, v.vm_group, "
    "v.pending_job_id, v.created, a.name AS account_name, a.domain_name AS domain_name"
)
_LISTED = "SELECT " + _COLUMNS + _NAMES
_TO_KEEP = "SELECT v.revision, " + _COLUMNS + _NAMES
# What a page of kept VMs reads: each VM's kept JSON and the values of its slots.
_SPLICED = (
    "SELECT v.id, v.listed, v.host_id, v.instance_name, a.name AS account_name, "
    "a.domain_name AS domain_name" + _NAMES
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


def render_vm(row: dict[str, Any], admin: bool, nics: list[dict], groups: list[dict]) -> dict:
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
        "templatedisplaytext": row["template_name"] or "",
        "passwordenabled": False,
        "serviceofferingid": row["service_offering_id"],
        "serviceofferingname": row["offering_name"] or "",
        "cpunumber": int(row["cpu_number"]),
        "cpuspeed": int(row["cpu_speed"]),
        "memory": int(row["memory"]),
        "guestosid": row["guest_os_id"],
        "rootdeviceid": 0,
        "rootdevicetype": "ROOT",
        "hypervisor": row["hypervisor"],
        "isdynamicallyscalable": False,
        "displayvm": True,
        "securitygroup": groups,
        "nic": nics,
        "tags": [],
        "affinitygroup": [],
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
    with call.read() as cursor:  # one connection for both
        nics, groups = vm_nics(cursor, ids), vm_groups(cursor, ids)
    items = [
        render_vm(row, admin, nics.get(row["id"], []), groups.get(row["id"], [])) for row in rows
    ]
    if minimal:
        items = [{k: v for k, v in item.items() if k in MINIMAL} for item in items]
    return items


def vm_view(call: Call, vm_id: str) -> dict[str, Any]:
    return render_vms(call, [vm_row(call, vm_id, removed=True)])[0]


RENDERERS["virtualmachine"] = lambda call, i: ("virtualmachine", vm_view(call, i))


def list_vms(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["v.removed = 0", scope.clause], list(scope.params)
    for key, column in (("id", "id"), ("state", "state"), ("zoneid", "zone_id")):
        if args[key]:
            where.append(f"v.{column} = %s")
            params.append(args[key])
    if args["hostid"]:
        if call.caller.role != Role.ROOT_ADMIN:
            raise PermissionDenied("Only root administrators may list VMs by host")
        where.append("v.host_id = %s")
        params.append(args["hostid"])
    for key, column in (("name", "name"), ("keyword", "name")):
        if args.get(key):
            where.append(f"(v.{column} LIKE %s OR v.display_name LIKE %s)")
            params += [f"%{args[key]}%"] * 2
    only_scope = scope if len(where) == 2 else None  # then the per-account counters answer
    minimal = _minimal(args["details"])
    select = _LISTED if minimal else _SPLICED
    rows, count = _page(call, " WHERE " + " AND ".join(where), params, args, only_scope, select)
    if minimal:
        return Listing(render_vms(call, rows, minimal=True), count)
    return Listing(spliced_vms(call, rows), count)


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
    call: Call,
    where: str,
    params: list[Any],
    args: dict[str, Any],
    only_scope: Any = None,
    select: str = _LISTED,
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
        page = f"{select} JOIN ({keys}) AS p ON p.seq = v.seq"
        rows = cursor.execute(page + " ORDER BY p.seq", params).fetchall()
    return rows, int(count)


# ---- kept JSON ---------------------------------------------------------------------------

# A kept VM's slots, in the order render_vm writes them; "admin" is the run of fields only a
# root administrator sees (host, instance name), right after "affinitygroup".
_NAMED = ("account_name", "domain_name", "zone_name", "template_name", "offering_name")
_SLOTS = (*_NAMED[:4], "template_name", "offering_name", "groups", "nics", "admin")


_KEPT = Kept(__name__, partial(fill_listed, table="virtual_machines"))


def spliced_vms(call: Call, rows: list[dict[str, Any]]) -> list[Any]:
    """A page's VMs from their kept JSON; VMs with none (new, or changed since) are rendered
    in full and their JSON kept for the revision they were read at."""
    admin = call.caller.role == Role.ROOT_ADMIN
    ids = [row["id"] for row in rows]
    with call.read() as cursor:  # one connection for all three
        nics, groups = vm_nics(cursor, ids), vm_groups(cursor, ids)
        missing = [row["id"] for row in rows if _KEPT.text(row["listed"]) is None]
        full = _full_rows(cursor, missing) if missing else {}
    kept = _KEPT.keep(call.runtime.db, full.values(), keepable) if full else {}
    items: list[Any] = []
    for row in rows:
        vm_id = row["id"]
        listed = _KEPT.text(row["listed"]) or kept.get(vm_id)
        if listed is None:  # nothing to keep (see keepable): rendered as before
            items.append(render_vm(full[vm_id], admin, nics.get(vm_id, []), groups.get(vm_id, [])))
            continue
        values = _values(row, admin, nics.get(vm_id), groups.get(vm_id))
        items.append(orjson.Fragment(listed % values))
    return items


def _values(row: dict[str, Any], admin: bool, nics: Any, groups: Any) -> tuple[str, ...]:
    template_name = quoted(row["template_name"] or "")
    return (
        quoted(row["account_name"]),
        quoted(row["domain_name"]),
        quoted(row["zone_name"] or ""),
        template_name,
        template_name,
        quoted(row["offering_name"] or ""),
        dumped(groups) if groups else "[]",
        dumped(nics) if nics else "[]",
        _admin_fields(row) if admin else "",
    )


def _admin_fields(row: dict[str, Any]) -> str:
    """What _optional_fields writes for a root administrator, as JSON."""
    text = f',"instancename":{quoted(row["instance_name"])}'
    if row["host_id"]:
        host = f',"hostid":{quoted(row["host_id"])},"hostname":{quoted(row["host_name"] or "")}'
        return host + text
    return text


def _full_rows(cursor: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    among, params = in_list(cursor, "v.id", ids)
    rows = cursor.execute(f"{_TO_KEEP} WHERE {among}", params).fetchall()
    return {row["id"]: row for row in rows}


def keepable(row: dict[str, Any]) -> str | None:
    """A VM's JSON as render_vm writes it, with slots; None when the slots do not come out in
    their order (a marker inside a VM's own text), so that VM is always rendered in full."""
    marked = dict(row, **{name: marker(name) for name in _NAMED})
    slots: Any = (marker("nics"), marker("groups"))
    body: dict[str, Any] = {}
    for key, value in render_vm(marked, False, *slots).items():
        body[key] = value
        if key == "affinitygroup":
            body[marker("admin")] = 0
    text, names = template(body)
    return text if names == _SLOTS else None
