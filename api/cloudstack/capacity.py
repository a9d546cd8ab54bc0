"""Capacity figures per scope: listCapacity's items, and the `capacity` list that listZones,
listPods and listClusters answer per item when asked with `showcapacities=true`."""

from __future__ import annotations

from typing import Any

from api.cloudstack.common import names_by_id
from api.cloudstack.storage_pools import storage_capacity
from api.dispatch import Call
from projections.configuration import overprovisioning
from projections.infrastructure import host_capacity

# listCapacity's types counted from the hosts: memory (bytes), CPU (MHz) and local storage
# (bytes)
MEMORY, CPU, LOCAL_STORAGE = 0, 1, 9
HOST_KINDS = (MEMORY, CPU, LOCAL_STORAGE)
MIB = 1024 * 1024
# what a zone, pod or cluster item's capacities say of their place, per listed family
SCOPE_FIELDS = ("zoneid", "zonename", "podid", "podname", "clusterid", "clustername")


def capacity_items(
    call: Call,
    zone_id: str | None = None,
    pod_id: str | None = None,
    cluster_id: str | None = None,
    kind: int | None = None,
) -> list[dict[str, Any]]:
    """The capacity of the Up hosts and of the primary storage pools in a scope, per zone: what
    the hosts offer (CPU and memory times their cluster's over-provisioning factor, as 4.3
    counts them), and what the VMs and system VMs placed on them hold."""
    with call.read() as cursor:
        rows = host_capacity(cursor, zone_id, pod_id, cluster_id)
        factors = overprovisioning(cursor)
    zones = names_by_id(call, "zones", {r["zone_id"] for r in rows})
    per_zone: dict[str, dict[int, list[float]]] = {}
    for row in rows:
        cpu_factor, memory_factor = factors.of(row["cluster_id"])
        sums = per_zone.setdefault(row["zone_id"], {k: [0, 0] for k in HOST_KINDS})
        for number, total, held in (
            (MEMORY, int(row["memory"] or 0) * memory_factor, int(row["memory_held"] or 0) * MIB),
            (CPU, int(row["cpu"] or 0) * cpu_factor, int(row["cpu_held"] or 0)),
            (LOCAL_STORAGE, int(row["storage"] or 0), 0),
        ):
            sums[number][0] += total
            sums[number][1] += held
    items = [
        _host_item(number, int(total), int(used), zone, zones)
        for zone, sums in per_zone.items()
        for number, (total, used) in sums.items()
        if kind is None or kind == number
    ]
    scope = {"zoneid": zone_id, "podid": pod_id, "clusterid": cluster_id, "type": kind}
    return items + storage_capacity(call, scope)


def _host_item(
    kind: int, total: int, used: int, zone_id: str, zones: dict[str, str]
) -> dict[str, Any]:
    return {
        "type": kind,
        "zoneid": zone_id,
        "zonename": zones.get(zone_id, ""),
        "capacityused": used,
        "capacitytotal": total,
        "percentused": f"{100 * used / total:.2f}" if total else "0",
    }


def scoped_capacities(
    call: Call,
    zone_id: str,
    pod_id: str | None = None,
    cluster_id: str | None = None,
) -> list[dict[str, Any]]:
    """A zone's, pod's or cluster's capacity list as 4.3 answers it in that item: one entry per
    type, with the same figures listCapacity gives for that scope, and (as 4.3 renders them)
    no place fields, since the item it is in names the place."""
    return [
        {k: v for k, v in item.items() if k not in SCOPE_FIELDS}
        for item in capacity_items(call, zone_id, pod_id, cluster_id)
    ]
