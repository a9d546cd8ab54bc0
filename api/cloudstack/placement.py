"""Where a VM may land: the candidate hosts placement tries, in the order it tries them.

Every machine gets the Up, Enabled hosts of its hypervisor in its zone, each with its
hypervisor's guest limit (which the reservation enforces on the host's capacity). A user VM's
candidates then pass through dedication (4.3's explicit dedication: a VM in an
`ExplicitDedication` group lands only on what is dedicated to its group, any other VM never on
a dedicated pod, cluster or host, and only its owner's VMs in a dedicated zone) and are ordered
by its deployment planner: its offering's, else the one `vm.allocation.algorithm` names.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import orjson

from api.access import Role
from api.dispatch import Call
from commands.placement import Candidate
from domain.account import AccountType
from domain.compute import Compute
from domain.configuration import DEFINITIONS
from domain.dedication import EXPLICIT_DEDICATION
from domain.errors import PermissionDenied
from domain.guest_os import os_type
from domain.planners import (
    IMPLICIT_DEDICATION,
    IMPLICIT_MODE,
    PREFERRED,
    USER_CONCENTRATED_POD,
    USER_DISPERSING,
    check_planner,
    planner_for,
)
from projections.configuration import global_value, overprovisioning
from projections.dedication import dedications_in_zone
from projections.hypervisor_capabilities import guest_limit_sql
from stratus.db import Cursor, in_list

MIB = 1024 * 1024
ALGORITHM = "vm.allocation.algorithm"


@dataclass(frozen=True)
class Guest:
    """The user VM being placed: whose it is, and the explicit dedication groups it is in."""

    account_id: str
    domain_path: str
    root_admin: bool
    explicit_groups: frozenset[str]
    planner: str = ""  # a root admin's choice for this deploy or start (`deploymentplanner`)


def guest(cursor: Cursor, account_id: str, group_ids: Any) -> Guest:
    """The placement facts of a user VM of `account_id` in the affinity groups `group_ids`."""
    account = cursor.execute(
        "SELECT domain_path, account_type FROM accounts WHERE id = %s", (account_id,)
    ).fetchone()
    ids = [str(g) for g in group_ids]
    explicit: set[str] = set()
    if ids:
        clause, params = in_list(cursor, "id", ids)
        rows = cursor.execute(
            f"SELECT id FROM affinity_groups WHERE {clause} AND type = %s AND removed = 0",
            (*params, EXPLICIT_DEDICATION),
        ).fetchall()
        explicit = {r["id"] for r in rows}
    return Guest(
        account_id,
        account["domain_path"] if account else "",
        bool(account) and int(account["account_type"]) == AccountType.ROOT_ADMIN,
        frozenset(explicit),
    )


def chosen_planner(call: Call, args: dict[str, Any], placed: Guest) -> Guest:
    """The placement facts with the planner a root administrator names (`deploymentplanner`)."""
    if not args.get("deploymentplanner"):
        return placed
    if call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("Parameter deploymentplanner can only be specified by a Root Admin")
    return replace(placed, planner=check_planner(args["deploymentplanner"]))


def vm_guest(cursor: Cursor, vm_id: str, account_id: str) -> Guest:
    """A VM's placement facts from its groups as the read model shows them (a start)."""
    rows = cursor.execute(
        "SELECT group_id FROM affinity_group_members WHERE vm_id = %s", (vm_id,)
    ).fetchall()
    return guest(cursor, account_id, [r["group_id"] for r in rows])


def candidates(
    call: Call,
    zone_id: str,
    compute: Compute,
    host_id: str | None,
    prefer: str | None = None,
    for_guest: Guest | None = None,
) -> list[Candidate]:
    """The hosts to try, in order (a restart tries the VM's last host first)."""
    with call.read() as cursor:
        rows = _hosts(cursor, zone_id, compute, host_id)
        factors = overprovisioning(cursor)
        if for_guest is None:
            rows.sort(key=_free_room)
        else:
            rows = _dedicated_to(dedications_in_zone(cursor, zone_id), rows, for_guest)
            rows = _planned(cursor, zone_id, compute, rows, for_guest)
        rows = by_os_category(rows, _template_category(cursor, compute))
    rows.sort(key=lambda r: r["id"] != prefer)  # stable: the planner's order otherwise
    return [
        Candidate(
            r["id_uuid"],
            int(r["cpu"]),
            int(r["memory"]) // MIB,
            r["max_guests"],
            factors.of(r["cluster_id"]),
        )
        for r in rows
    ]


def _hosts(cursor: Cursor, zone_id: str, compute: Compute, host_id: str | None) -> list[dict]:
    where = ["h.removed = 0", "h.zone_id = %s", "h.state = 'Up'", "h.resource_state = 'Enabled'"]
    params: list[Any] = [zone_id]
    where.append("lower(h.hypervisor) = lower(%s)")
    params.append(compute.hypervisor)
    if host_id:
        where.append("h.id = %s")
        params.append(host_id)
    sql = (
        "SELECT h.id, h.pod_id, h.cluster_id, h.os_category_id, "
        "h.cpu_number * h.cpu_speed AS cpu, "
        f"h.memory_total AS memory, {guest_limit_sql('h')} AS max_guests, "
        "COALESCE(sum(r.cpu_mhz), 0) AS cpu_held, COALESCE(sum(r.memory_mb), 0) AS memory_held "
        "FROM hosts AS h LEFT JOIN host_reservations AS r ON r.host_id = h.id WHERE "
        + " AND ".join(where)
        + " GROUP BY h.id, h.pod_id, h.cluster_id, h.os_category_id, h.cpu_number, "
        "h.cpu_speed, h.memory_total, h.hypervisor, h.hypervisor_version ORDER BY h.created, h.id"
    )
    rows = [dict(r) for r in cursor.execute(sql, params).fetchall()]
    for row in rows:
        row["id_uuid"] = UUID(row["id"])
    return rows


def _free_room(row: dict[str, Any]) -> tuple[int, int]:
    """Most free memory, then CPU, first."""
    memory = int(row["memory"]) // MIB - int(row["memory_held"])
    return -memory, -(int(row["cpu"]) - int(row["cpu_held"]))


# ---- dedication ------------------------------------------------------------------------------


def _dedicated_to(
    dedications: list[dict[str, Any]], rows: list[dict[str, Any]], vm: Guest
) -> list[dict[str, Any]]:
    by_resource = {(d["kind"], d["resource_id"]): d for d in dedications}
    zone = next((d for d in dedications if d["kind"] == "Zone"), None)

    def nearest(row: dict[str, Any]) -> dict[str, Any] | None:
        for kind, column in (("Host", "id"), ("Cluster", "cluster_id"), ("Pod", "pod_id")):
            found = by_resource.get((kind, row[column]))
            if found is not None:
                return found
        return None

    if vm.explicit_groups:
        return [r for r in rows if _group_of(nearest(r) or zone) in vm.explicit_groups]
    if zone is not None and not (vm.root_admin or _owns(zone, vm)):
        return []  # a zone dedicated to others takes none of this account's VMs
    return [r for r in rows if nearest(r) is None]


def _group_of(dedication: dict[str, Any] | None) -> str | None:
    return None if dedication is None else dedication["affinity_group_id"]


def _owns(dedication: dict[str, Any], vm: Guest) -> bool:
    if dedication["account_id"]:
        return bool(dedication["account_id"] == vm.account_id)
    return vm.domain_path.startswith(dedication["domain_path"])


def _template_category(cursor: Cursor, compute: Compute) -> str | None:
    """The guest OS category of the VM's template (None when unknown)."""
    row = cursor.execute(
        "SELECT os_type_id FROM templates WHERE id = %s", (str(compute.template_id),)
    ).fetchone()
    if row is None or not row["os_type_id"]:
        return None
    try:
        found = os_type(UUID(row["os_type_id"]))
    except ValueError:
        return None
    return str(found.category_id) if found else None


def by_os_category(rows: list[dict[str, Any]], category: str | None) -> list[dict[str, Any]]:
    """4.3's host allocator within each cluster, in the planner's order of clusters: first the
    hosts that prefer the template's OS category, then those that prefer none, last those
    that prefer another (each group in the order it had). Unchanged when no host prefers one."""
    if not any(row.get("os_category_id") for row in rows):
        return rows
    clusters: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        clusters.setdefault(row["cluster_id"], []).append(row)

    def rank(row: dict[str, Any]) -> int:
        preferred = row.get("os_category_id")
        if not preferred:
            return 1
        return 0 if preferred == category else 2

    return [row for hosts in clusters.values() for row in sorted(hosts, key=rank)]


# ---- planners --------------------------------------------------------------------------------


def _planned(
    cursor: Cursor, zone_id: str, compute: Compute, rows: list[dict[str, Any]], vm: Guest
) -> list[dict[str, Any]]:
    offering = cursor.execute(
        "SELECT deployment_planner, details FROM service_offerings WHERE id = %s",
        (str(compute.offering_id),),
    ).fetchone()
    algorithm = global_value(cursor, ALGORITHM, DEFINITIONS[ALGORITHM].default)
    planner = vm.planner or planner_for(
        offering["deployment_planner"] if offering else "", algorithm
    )
    occupants = _occupants(cursor, zone_id)
    rows = sorted(rows, key=_free_room)
    if planner == IMPLICIT_DEDICATION:
        details = orjson.loads(offering["details"]) if offering and offering["details"] else {}
        return _implicitly_dedicated(rows, occupants, vm, details.get(IMPLICIT_MODE) == PREFERRED)
    rows = [r for r in rows if not any(o["implicit"] for o in occupants.get(r["id"], ()))]
    if planner == USER_DISPERSING:
        return _dispersed(rows, occupants, vm)
    if planner == USER_CONCENTRATED_POD:
        return _concentrated(rows, occupants, vm)
    if algorithm == "random" and not (vm.planner or (offering and offering["deployment_planner"])):
        random.shuffle(rows)
    return rows


def _occupants(cursor: Cursor, zone_id: str) -> dict[str, list[dict[str, Any]]]:
    """The user VMs on each host of the zone: their account, and whether they were placed by
    the implicit dedication planner (such a host takes no other planner's VMs)."""
    rows = cursor.execute(
        _OCCUPANTS + "WHERE v.zone_id = %s AND v.removed = 0 AND v.host_id IS NOT NULL",
        (zone_id,),
    ).fetchall()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["host_id"], []).append(
            {"account_id": row["account_id"], "implicit": _reserving(row)}
        )
    return found


# A host's user VMs, with their planner and whether their hold on it was released
# (releaseHostReservation).
_OCCUPANTS = (
    "SELECT v.id, v.host_id, v.account_id, o.deployment_planner, r.machine_id AS released "
    "FROM virtual_machines AS v "
    "LEFT JOIN service_offerings AS o ON o.id = v.service_offering_id "
    "LEFT JOIN host_reservation_releases AS r ON r.host_id = v.host_id AND r.machine_id = v.id "
)


def _reserving(row: dict[str, Any]) -> bool:
    return row["deployment_planner"] == IMPLICIT_DEDICATION and row["released"] is None


def reserving_machines(cursor: Cursor, host_id: str) -> list[str]:
    """The VMs on the host whose planner (implicit dedication) holds it for their account."""
    rows = cursor.execute(
        _OCCUPANTS + "WHERE v.host_id = %s AND v.removed = 0 ORDER BY v.id", (host_id,)
    ).fetchall()
    return [row["id"] for row in rows if _reserving(row)]


def _implicitly_dedicated(
    rows: list[dict[str, Any]],
    occupants: dict[str, list[dict[str, Any]]],
    vm: Guest,
    preferred: bool,
) -> list[dict[str, Any]]:
    """Hosts running no other account's VMs; in Preferred mode, then hosts that run no other
    account's implicitly dedicated VMs (Strict: those only)."""
    own = [
        r for r in rows if all(o["account_id"] == vm.account_id for o in occupants.get(r["id"], ()))
    ]
    if not preferred:
        return own
    shared = [
        r
        for r in rows
        if r not in own
        and not any(
            o["implicit"] and o["account_id"] != vm.account_id for o in occupants.get(r["id"], ())
        )
    ]
    return own + shared


def _counts(
    rows: list[dict[str, Any]], occupants: dict[str, list[dict[str, Any]]], vm: Guest
) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """The account's VMs per host, per cluster and per pod."""
    hosts, clusters, pods = Counter[str](), Counter[str](), Counter[str]()
    for row in rows:
        mine = sum(1 for o in occupants.get(row["id"], ()) if o["account_id"] == vm.account_id)
        hosts[row["id"]] += mine
        clusters[row["cluster_id"]] += mine
        pods[row["pod_id"]] += mine
    return hosts, clusters, pods


def _dispersed(
    rows: list[dict[str, Any]], occupants: dict[str, list[dict[str, Any]]], vm: Guest
) -> list[dict[str, Any]]:
    """UserDispersingPlanner: clusters, then hosts, with fewest of the account's VMs first."""
    hosts, clusters, _ = _counts(rows, occupants, vm)
    return sorted(rows, key=lambda r: (clusters[r["cluster_id"]], hosts[r["id"]]))


def _concentrated(
    rows: list[dict[str, Any]], occupants: dict[str, list[dict[str, Any]]], vm: Guest
) -> list[dict[str, Any]]:
    """UserConcentratedPodPlanner: pods holding most of the account's VMs first."""
    _, _, pods = _counts(rows, occupants, vm)
    return sorted(rows, key=lambda r: -pods[r["pod_id"]])
