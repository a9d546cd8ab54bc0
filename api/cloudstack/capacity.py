"""Capacity figures per scope: listCapacity's items, and the `capacity` list that listZones,
listPods and listClusters answer per item when asked with `showcapacities=true`."""

from __future__ import annotations

from typing import Any

from api.cloudstack.common import names_by_id
from api.cloudstack.storage_pools import storage_capacity
from api.dispatch import Call

# listCapacity's types counted from the hosts: memory, CPU and local storage
HOST_KINDS = ((0, "memory"), (1, "cpu"), (9, "storage"))
# what a zone, pod or cluster item's capacities say of their place, per listed family
SCOPE_FIELDS = ("zoneid", "zonename", "podid", "podname", "clusterid", "clustername")


def capacity_items(
    call: Call,
    zone_id: str | None = None,
    pod_id: str | None = None,
    cluster_id: str | None = None,
    kind: int | None = None,
) -> list[dict[str, Any]]:
    """The capacity of the Up hosts and of the primary storage pools in a scope, per zone."""
    where, params = ["removed = 0", "state = 'Up'"], []
    for value, column in ((zone_id, "zone_id"), (pod_id, "pod_id"), (cluster_id, "cluster_id")):
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT zone_id, sum(memory_total) AS memory, sum(cpu_number * cpu_speed) AS cpu, "
            "sum(local_storage_total) AS storage FROM hosts WHERE "
            + " AND ".join(where)
            + " GROUP BY zone_id ORDER BY zone_id",
            params,
        ).fetchall()
    zones = names_by_id(call, "zones", {r["zone_id"] for r in rows})
    items = [
        _host_item(number, int(row[column] or 0), row["zone_id"], zones)
        for row in rows
        for number, column in HOST_KINDS
        if kind is None or kind == number
    ]
    scope = {"zoneid": zone_id, "podid": pod_id, "clusterid": cluster_id, "type": kind}
    return items + storage_capacity(call, scope)


def _host_item(kind: int, total: int, zone_id: str, zones: dict[str, str]) -> dict[str, Any]:
    return {
        "type": kind,
        "zoneid": zone_id,
        "zonename": zones.get(zone_id, ""),
        "capacityused": 0,
        "capacitytotal": total,
        "percentused": "0",
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
