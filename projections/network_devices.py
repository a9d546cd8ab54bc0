"""The external network devices read model (the list* commands of every device kind) and the
guest networks placed on each; no password in it."""

from __future__ import annotations

from typing import Any

import orjson

from domain.network_device import KINDS, NetworkDevice
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

DEVICE: Any = NetworkDevice  # events made by the library's decorator


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


class NetworkDevicesProjection(Projection):
    """One row per device; one row per (device, network) placed on it."""

    name = "network_devices"
    summary = "external network devices and the guest networks placed on them"
    tables = ("network_devices", "network_device_networks")

    @on(DEVICE.Added)
    def added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.network_devices} (id, kind, provider, zone_id, physical_network_id, "
            "cluster_id, host, options, username, state, capacity, dedicated, inline, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'Enabled', %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.kind,
                KINDS[e.kind].provider,
                str(e.zone_id),
                _id(e.physical_network_id),
                _id(e.cluster_id),
                e.host,
                orjson.dumps(e.options).decode(),
                e.username,
                e.capacity,
                int(e.dedicated),
                int(e.inline),
                e.timestamp.isoformat(),
            ),
        )

    @on(DEVICE.Configured)
    def configured(self, e: Any, c: Cursor, t: Tables) -> None:
        changes: dict[str, Any] = {"state": "Enabled"}
        if e.capacity is not None:
            changes["capacity"] = e.capacity
        for key in ("dedicated", "inline"):
            if getattr(e, key) is not None:
                changes[key] = int(getattr(e, key))
        if e.pod_ids is not None:
            changes["pod_ids"] = ",".join(e.pod_ids)
        assignments = ", ".join(f"{key} = %s" for key in changes)
        c.execute(
            f"UPDATE {t.network_devices} SET {assignments} WHERE id = %s",
            (*changes.values(), str(e.originator_id)),
        )

    @on(DEVICE.StateChanged)
    def state_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.network_devices} SET state = %s WHERE id = %s",
            (e.state, str(e.originator_id)),
        )

    @on(DEVICE.NetworkPlaced)
    def network_placed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.network_device_networks} (device_id, network_id) VALUES (%s, %s)",
            (str(e.originator_id), e.network_id),
        )

    @on(DEVICE.NetworkReleased)
    def network_released(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"DELETE FROM {t.network_device_networks} WHERE device_id = %s AND network_id = %s",
            (str(e.originator_id), e.network_id),
        )

    @on(DEVICE.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.network_devices} SET removed = 1 WHERE id = %s", (str(e.originator_id),)
        )


def devices_with_room(cursor: Cursor, physical_network_id: str, provider: str) -> list[str]:
    """The Enabled devices of `provider` on a physical network, those serving fewest networks
    first (where a new network is placed; the device itself has the last word)."""
    rows = cursor.execute(
        "SELECT d.id, (SELECT count(*) FROM network_device_networks n WHERE n.device_id = d.id) "
        "AS used FROM network_devices d WHERE d.removed = 0 AND d.state = 'Enabled' "
        "AND d.provider = %s AND d.physical_network_id = %s ORDER BY used, d.created, d.id",
        (provider, physical_network_id),
    ).fetchall()
    return [str(r["id"]) for r in rows]


READ_MODELS = (NetworkDevicesProjection,)
