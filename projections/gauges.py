"""What `/metrics` reads about the cloud: counts and sums over the read models, per zone.

Aggregate queries only (one pass each over hosts, VMs, volumes, addresses, routers and pending
jobs), never a row per tenant resource: a scrape of a cloud of 10,000 VMs stays a few
milliseconds. This module owns no table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.configuration import DEFINITIONS
from domain.job import JobStatus
from domain.router import version_key
from projections.configuration import overrides
from stratus.db import Cursor

MIN_ROUTER_VERSION = "minreq.sysvmtemplate.version"
MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass
class CloudGauges:
    """One reading of the read models; keys are (zone name, filter) unless said otherwise."""

    hosts: dict[tuple[str, str], int] = field(default_factory=dict)
    host_capacity: list[dict[str, Any]] = field(default_factory=list)  # one per host
    vms: dict[tuple[str, str], int] = field(default_factory=dict)
    volumes: dict[tuple[str, str], int] = field(default_factory=dict)
    volume_gib: dict[tuple[str, str], int] = field(default_factory=dict)
    public_ips: dict[tuple[str, str], int] = field(default_factory=dict)
    routers: dict[tuple[str, str], int] = field(default_factory=dict)
    pending_jobs: dict[str, int] = field(default_factory=dict)  # by command


def read_gauges(cursor: Cursor) -> CloudGauges:
    zones = {r["id"]: r["name"] for r in cursor.execute("SELECT id, name FROM zones").fetchall()}
    gauges = CloudGauges()
    for target, sql in (
        (gauges.hosts, "SELECT zone_id, state, count(*) AS n FROM hosts WHERE removed = 0 "),
        (
            gauges.vms,
            "SELECT zone_id, state, count(*) AS n FROM virtual_machines WHERE removed = 0 ",
        ),
        (gauges.public_ips, "SELECT zone_id, state, count(*) AS n FROM public_ips "),
    ):
        for row in cursor.execute(sql + "GROUP BY zone_id, state").fetchall():
            _add(target, (zones.get(row["zone_id"], row["zone_id"]), row["state"]), row["n"])
    for row in cursor.execute(
        "SELECT zone_id, state, count(*) AS n, sum(size_gb) AS gib FROM volumes "
        "WHERE removed = 0 GROUP BY zone_id, state"
    ).fetchall():
        key = (zones.get(row["zone_id"], row["zone_id"]), row["state"])
        _add(gauges.volumes, key, row["n"])
        _add(gauges.volume_gib, key, row["gib"])
    gauges.host_capacity = _host_capacity(cursor, zones)
    gauges.routers = _routers(cursor, zones)
    gauges.pending_jobs = {
        row["command"]: int(row["n"])
        for row in cursor.execute(
            "SELECT command, count(*) AS n FROM jobs WHERE status = %s GROUP BY command",
            (JobStatus.PENDING,),
        ).fetchall()
    }
    return gauges


def _add(target: dict[tuple[str, str], int], key: tuple[str, str], n: Any) -> None:
    """Zones of one name are summed: the label is the name, as CloudStack's exporter has it."""
    target[key] = target.get(key, 0) + int(n or 0)


def _host_capacity(cursor: Cursor, zones: dict[str, str]) -> list[dict[str, Any]]:
    """Each host's CPU (MHz), memory (MiB) and local storage (GiB): total and allocated."""
    rows = cursor.execute(
        "SELECT h.name, h.zone_id, h.state, h.cpu_number * h.cpu_speed AS cpu_total, "
        "h.memory_total, h.local_storage_total, r.cpu AS cpu_used, r.memory AS memory_used "
        "FROM hosts AS h LEFT JOIN (SELECT host_id, sum(cpu_mhz) AS cpu, sum(memory_mb) AS memory "
        "FROM host_reservations GROUP BY host_id) AS r ON r.host_id = h.id WHERE h.removed = 0"
    ).fetchall()
    return [
        {
            "zone": zones.get(row["zone_id"], row["zone_id"]),
            "host": row["name"],
            "up": row["state"] == "Up",
            "cpu_total": int(row["cpu_total"] or 0),
            "cpu_used": int(row["cpu_used"] or 0),
            "memory_total": int(row["memory_total"] or 0) // MIB,
            "memory_used": int(row["memory_used"] or 0),
            "storage_total": int(row["local_storage_total"] or 0) // GIB,
        }
        for row in rows
    ]


def _routers(cursor: Cursor, zones: dict[str, str]) -> dict[tuple[str, str], int]:
    """Routers per zone: all of them, and those older than the zone's minimum version."""
    values = overrides(cursor)
    default = values.get(
        (MIN_ROUTER_VERSION, "global", ""), DEFINITIONS[MIN_ROUTER_VERSION].default
    )
    counts: dict[tuple[str, str], int] = {}
    for row in cursor.execute(
        "SELECT zone_id, version_key, count(*) AS n FROM system_vms "
        "WHERE role = 'VIRTUAL_ROUTER' AND removed = 0 GROUP BY zone_id, version_key"
    ).fetchall():
        zone = zones.get(row["zone_id"], row["zone_id"])
        minimum = version_key(values.get((MIN_ROUTER_VERSION, "zone", row["zone_id"]), default))
        n = int(row["n"])
        counts[(zone, "total")] = counts.get((zone, "total"), 0) + n
        if row["version_key"] < minimum:
            counts[(zone, "upgrade_needed")] = counts.get((zone, "upgrade_needed"), 0) + n
    return counts
