"""The bare-metal servers read model (listBaremetalDhcp, listBaremetalPxeServers); no login
or CIFS password in it."""

from __future__ import annotations

from typing import Any

from domain.baremetal import BaremetalServer
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

SERVER: Any = BaremetalServer  # events made by the library's decorator


class BaremetalServersProjection(Projection):
    """One row per bare-metal DHCP or PXE server."""

    name = "baremetal_servers"
    summary = "bare-metal DHCP and PXE servers"
    tables = ("baremetal_servers",)

    @on(SERVER.Registered)
    def registered(self, e: Any, c: Cursor, t: Tables) -> None:
        details = e.details
        c.execute(
            f"INSERT INTO {t.baremetal_servers} (id, kind, server_type, physical_network_id, "
            "provider_id, zone_id, pod_id, address, tftp_dir, ping_dir, ping_storage_server_ip, "
            "created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.kind,
                e.server_type,
                str(e.physical_network_id),
                str(e.provider_id),
                str(e.zone_id),
                str(e.pod_id) if e.pod_id else None,
                e.address,
                details.get("tftp_dir", ""),
                details.get("ping_dir", ""),
                details.get("ping_storage_server_ip", ""),
                e.timestamp.isoformat(),
            ),
        )


def servers(
    cursor: Cursor, kind: str, filters: dict[str, Any], limit: str
) -> tuple[list[dict[str, Any]], int]:
    """A page of one kind's servers (filters: column → value) and how many there are."""
    where, params = ["kind = %s"], [kind]
    for column, value in filters.items():
        where.append(f"{column} = %s")
        params.append(value)
    sql = " FROM baremetal_servers WHERE " + " AND ".join(where)
    count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
    rows = cursor.execute("SELECT *" + sql + " ORDER BY created, id" + limit, params).fetchall()
    return [dict(r) for r in rows], int(count)


READ_MODELS = (BaremetalServersProjection,)
