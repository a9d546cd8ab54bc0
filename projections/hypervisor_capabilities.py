"""The hypervisor capabilities read model (listHypervisorCapabilities, and the limits placement
and attachVolume read): one row per hypervisor and version."""

from __future__ import annotations

from typing import Any

from domain.hypervisor_capabilities import DEFAULT_VERSION, HypervisorCapabilities, capability_id
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

CAPABILITIES: Any = HypervisorCapabilities  # events made by the library's decorator


class HypervisorCapabilitiesProjection(Projection):
    """Keeps `hypervisor_capabilities`."""

    name = "hypervisor_capabilities"
    summary = "hypervisors' limits per version (guests, data volumes)"
    tables = ("hypervisor_capabilities",)

    @on(CAPABILITIES.Seeded)
    def seeded(self, e: Any, c: Cursor, t: Tables) -> None:
        for row in e.rows:
            c.execute(
                f"INSERT INTO {t.hypervisor_capabilities} (id, hypervisor, version, max_guests, "
                "max_data_volumes, max_hosts_per_cluster, security_group_enabled, "
                "storage_motion) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (
                    str(capability_id(row["hypervisor"], row["version"])),
                    row["hypervisor"],
                    row["version"],
                    row["max_guests"],
                    row["max_data_volumes"],
                    row["max_hosts_per_cluster"],
                    int(row["security_group_enabled"]),
                    int(row["storage_motion"]),
                ),
            )

    @on(CAPABILITIES.Updated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.hypervisor_capabilities} SET max_guests = %s, "
            "security_group_enabled = %s WHERE id = %s",
            (e.max_guests, int(e.security_group_enabled), str(e.row_id)),
        )


def limits_of(cursor: Cursor, hypervisor: str, version: str) -> dict[str, Any] | None:
    """The row of this hypervisor's version, else its `default` row (as 4.3 falls back)."""
    rows = cursor.execute(
        "SELECT * FROM hypervisor_capabilities WHERE lower(hypervisor) = lower(%s) "
        "AND version IN (%s, %s)",
        (hypervisor, version or DEFAULT_VERSION, DEFAULT_VERSION),
    ).fetchall()
    exact = [r for r in rows if r["version"] == (version or DEFAULT_VERSION)]
    return dict((exact or rows or [None])[0]) if rows else None


def guest_limit_sql(host: str) -> str:
    """SQL for the guest limit of the host aliased `host` (its version's row, else default)."""
    return (
        "COALESCE((SELECT hc.max_guests FROM hypervisor_capabilities AS hc "
        f"WHERE lower(hc.hypervisor) = lower({host}.hypervisor) "
        f"AND hc.version = {host}.hypervisor_version), "
        "(SELECT hc.max_guests FROM hypervisor_capabilities AS hc "
        f"WHERE lower(hc.hypervisor) = lower({host}.hypervisor) "
        f"AND hc.version = '{DEFAULT_VERSION}'))"
    )


READ_MODELS = (HypervisorCapabilitiesProjection,)
