"""What the statistics collector reads: running routers with their guest network, running VMs
with their volumes by slot. Queries over the routers', VMs' and volumes' read models; this
module owns no table (readings live in the event log only, for usage)."""

from __future__ import annotations

from typing import Any

from stratus.db import Cursor


def router_stats_targets(cursor: Cursor) -> list[dict[str, Any]]:
    """Running routers on a host, with the guest network their counters are charged to."""
    rows = cursor.execute(
        "SELECT id, instance_name, host_id, guest_network_id FROM system_vms "
        "WHERE role = 'VIRTUAL_ROUTER' AND removed = 0 AND state = 'Running' "
        "AND host_id IS NOT NULL AND guest_network_id IS NOT NULL ORDER BY seq"
    ).fetchall()
    return [dict(row) for row in rows]


def disk_stats_targets(cursor: Cursor) -> list[dict[str, Any]]:
    """Running VMs on a host, each with its attached volumes (id and slot)."""
    vms = cursor.execute(
        "SELECT id, instance_name, host_id FROM virtual_machines "
        "WHERE removed = 0 AND state = 'Running' AND host_id IS NOT NULL ORDER BY id"
    ).fetchall()
    volumes: dict[str, list[dict[str, Any]]] = {}
    for row in cursor.execute(
        "SELECT id, vm_id, device_id FROM volumes "
        "WHERE removed = 0 AND vm_id IS NOT NULL AND device_id IS NOT NULL ORDER BY device_id"
    ).fetchall():
        volumes.setdefault(row["vm_id"], []).append(
            {"id": row["id"], "device_id": int(row["device_id"])}
        )
    return [{**dict(vm), "volumes": volumes.get(vm["id"], [])} for vm in vms if vm["id"] in volumes]
