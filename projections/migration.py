"""Queries for live migration over read models others keep (no tables of its own): the machine
to move, guest or system VM, with its host's cluster, and the hosts of a cluster with the room
their reservations leave."""

from __future__ import annotations

from typing import Any

from stratus.db import Cursor

_MACHINE = (
    "SELECT m.id, m.name, m.state, m.host_id, m.hypervisor, m.cpu_number * m.cpu_speed AS "
    "cpu_mhz, m.memory AS memory_mb, h.cluster_id AS cluster_id, h.zone_id AS zone_id, "
    "h.hypervisor_version AS hypervisor_version, {system} AS system "
    "FROM {table} AS m LEFT JOIN hosts AS h ON h.id = m.host_id "
    "WHERE m.id = %s AND m.removed = 0"
)


def machine_on(cursor: Cursor, machine_id: str) -> dict[str, Any] | None:
    """A guest VM (`system` 0) or system VM (1) that is not removed, or None."""
    for table, system in (("virtual_machines", 0), ("system_vms", 1)):
        row = cursor.execute(_MACHINE.format(table=table, system=system), (machine_id,)).fetchone()
        if row is not None:
            return dict(row)
    return None


def cluster_hosts(cursor: Cursor, cluster_id: str, hypervisor: str) -> list[dict[str, Any]]:
    """The cluster's Up, Enabled hosts of the hypervisor, with their CPU (MHz) and memory
    (bytes) and what reservations hold of them (MHz, MiB); most free memory, then CPU, first."""
    return _hosts(cursor, "h.cluster_id", cluster_id, hypervisor)


def zone_hosts(cursor: Cursor, zone_id: str, hypervisor: str) -> list[dict[str, Any]]:
    """The same for every cluster of the zone (a VM moving with its disks)."""
    return _hosts(cursor, "h.zone_id", zone_id, hypervisor)


def _hosts(cursor: Cursor, column: str, value: str, hypervisor: str) -> list[dict[str, Any]]:
    rows = cursor.execute(
        "SELECT h.id, h.name, h.cluster_id, h.hypervisor_version, "
        "h.cpu_number * h.cpu_speed AS cpu, h.memory_total AS memory, "
        "COALESCE(sum(r.cpu_mhz), 0) AS cpu_held, COALESCE(sum(r.memory_mb), 0) AS memory_held "
        "FROM hosts AS h LEFT JOIN host_reservations AS r ON r.host_id = h.id "
        f"WHERE h.removed = 0 AND {column} = %s AND lower(h.hypervisor) = lower(%s) "
        "AND h.state = 'Up' AND h.resource_state = 'Enabled' "
        "GROUP BY h.id, h.name, h.cluster_id, h.hypervisor_version, h.cpu_number, h.cpu_speed, "
        "h.memory_total, h.created ORDER BY h.created, h.id",
        (value, hypervisor),
    ).fetchall()
    found = [dict(row) for row in rows]
    found.sort(key=_free, reverse=True)
    return found


def vm_disk_pools(cursor: Cursor, vm_id: str) -> list[dict[str, Any]]:
    """The VM's disks with the pool each is on (scope and cluster; none for a disk kept on
    its host's own storage), size and the storage tags of its offering."""
    rows = cursor.execute(
        "SELECT v.id, v.name, v.zone_id, v.size_gb, v.state, v.storage_id AS pool_id, "
        "p.scope AS pool_scope, p.cluster_id AS pool_cluster_id, "
        "COALESCE(d.tags, so.tags, '') AS offering_tags "
        "FROM volumes AS v LEFT JOIN storage_pools AS p ON p.id = v.storage_id "
        "LEFT JOIN disk_offerings AS d ON d.id = v.disk_offering_id "
        "LEFT JOIN service_offerings AS so ON so.id = v.disk_offering_id "
        "WHERE v.vm_id = %s AND v.removed = 0 ORDER BY v.kind DESC, v.id",
        (vm_id,),
    ).fetchall()
    return [dict(row) for row in rows]


def reaches(disk: dict[str, Any], cluster_id: str, home_cluster_id: str) -> bool:
    """Whether a host of the cluster reaches the disk where it is: a zone-wide pool, or a pool
    of that cluster; a disk on no pool (its host's own storage, which the hosts of a cluster
    stand in for its shared storage with) only from the VM's own cluster `home_cluster_id`."""
    if not disk["pool_id"]:
        return cluster_id == home_cluster_id
    if disk["pool_scope"] != "CLUSTER":
        return True
    return bool(disk["pool_cluster_id"] == cluster_id)


def _free(row: dict[str, Any]) -> tuple[int, int]:
    memory = int(row["memory"]) // (1024 * 1024) - int(row["memory_held"])
    return memory, int(row["cpu"]) - int(row["cpu_held"])


def machines_on_host(cursor: Cursor, host_id: str) -> list[dict[str, Any]]:
    """Guest and system VMs placed on the host (starting, running or stopping there); `role`
    is a system VM's (a router's, a secondary storage VM's, a console proxy's), '' a guest's."""
    found = []
    for table, role in (("virtual_machines", "''"), ("system_vms", "role")):
        rows = cursor.execute(
            f"SELECT id, name, {role} AS role FROM {table} "
            "WHERE host_id = %s AND removed = 0 ORDER BY id",
            (host_id,),
        ).fetchall()
        found += [dict(row) for row in rows]
    return found


def kept_apart_hosts(cursor: Cursor, vm_id: str, rule: str) -> set[str]:
    """Hosts where a VM that a group of `vm_id` with the `rule` (host anti-affinity) keeps
    apart from it holds room."""
    rows = cursor.execute(
        "SELECT DISTINCT r.host_id FROM affinity_group_members AS mine "
        "JOIN affinity_groups AS g ON g.id = mine.group_id AND g.removed = 0 AND g.type = %s "
        "JOIN affinity_group_members AS other ON other.group_id = mine.group_id "
        "AND other.vm_id <> mine.vm_id "
        "JOIN host_reservations AS r ON r.reservation_id LIKE 'vm:' || other.vm_id || %s "
        "WHERE mine.vm_id = %s",
        (rule, ":%", vm_id),
    ).fetchall()
    return {row["host_id"] for row in rows}
