"""The storage read models: primary storage pools (`storage_pools`) and image and staging
stores (`image_stores`). Credentials are sealed in the events and never reach these tables."""

from __future__ import annotations

from typing import Any

import orjson

from domain.storage import ImageStore, StoragePool, StoreRole
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

POOL: Any = StoragePool  # events made by the library's decorator: type checkers cannot see them
STORE: Any = ImageStore


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


class StorageProjection(Projection):
    """Keeps `storage_pools` and `image_stores`."""

    name = "storage"
    summary = "primary storage pools and image stores"
    tables = ("storage_pools", "storage_pool_hosts", "image_stores")

    @on(POOL.Created)
    def pool_created(self, e: Any, c: Cursor, t: Tables) -> None:
        place, where = e.place, e.location
        c.execute(
            f"INSERT INTO {t.storage_pools} (id, name, zone_id, pod_id, cluster_id, scope, "
            "hypervisor, pool_type, url, host, path, provider, capacity_bytes, capacity_iops, "
            "tags, state, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                str(place["zone_id"]),
                _id(place.get("pod_id")),
                _id(place.get("cluster_id")),
                place["scope"],
                place["hypervisor"],
                e.pool_type,
                where["url"],
                where["host"],
                where["path"],
                where["provider"],
                e.capacity_bytes or 0,
                e.capacity_iops,
                ",".join(e.tags),
                "Up",
                e.timestamp.isoformat(),
            ),
        )

    @on(POOL.Updated)
    def pool_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        for column, value in (
            ("capacity_bytes", e.capacity_bytes),
            ("capacity_iops", e.capacity_iops),
            ("tags", None if e.tags is None else ",".join(e.tags)),
        ):
            if value is not None:
                c.execute(
                    f"UPDATE {t.storage_pools} SET {column} = %s WHERE id = %s",
                    (value, str(e.originator_id)),
                )

    def _state(self, e: Any, c: Cursor, t: Tables, state: str) -> None:
        c.execute(
            f"UPDATE {t.storage_pools} SET state = %s WHERE id = %s", (state, str(e.originator_id))
        )

    @on(POOL.MaintenanceRequested)
    def maintenance_requested(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(e, c, t, "PrepareForMaintenance")

    @on(POOL.MaintenanceEntered)
    def maintenance_entered(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(e, c, t, "Maintenance")

    @on(POOL.MaintenanceCancelled)
    def maintenance_cancelled(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(e, c, t, "Up")

    def _host(self, e: Any, c: Cursor, t: Tables, state: str, reason: str | None) -> None:
        keys = (str(e.originator_id), str(e.host_id))
        c.execute(f"DELETE FROM {t.storage_pool_hosts} WHERE pool_id = %s AND host_id = %s", keys)
        c.execute(
            f"INSERT INTO {t.storage_pool_hosts} (pool_id, host_id, state, reason) "
            "VALUES (%s, %s, %s, %s)",
            (*keys, state, reason),
        )

    @on(POOL.ConnectRequested)
    def connect_requested(self, e: Any, c: Cursor, t: Tables) -> None:
        self._host(e, c, t, "Connecting", None)

    @on(POOL.HostConnected)
    def host_connected(self, e: Any, c: Cursor, t: Tables) -> None:
        self._host(e, c, t, "Connected", None)
        c.execute(
            f"UPDATE {t.storage_pools} SET reported_bytes = %s, used_bytes = %s WHERE id = %s",
            (
                e.capacity_bytes,
                max(0, e.capacity_bytes - e.available_bytes),
                str(e.originator_id),
            ),
        )

    @on(POOL.HostConnectionFailed)
    def host_connection_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._host(e, c, t, "Failed", e.reason)

    def _allocate(self, e: Any, c: Cursor, t: Tables, bytes_step: int, count_step: int) -> None:
        c.execute(
            f"UPDATE {t.storage_pools} SET volumes = volumes + %s, "
            "allocated_bytes = allocated_bytes + %s WHERE id = %s",
            (count_step, bytes_step, str(e.originator_id)),
        )

    @on(POOL.VolumePlaced)
    def volume_placed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._allocate(e, c, t, int(getattr(e, "size_bytes", 0)), 1)

    @on(POOL.VolumeResized)
    def volume_resized(self, e: Any, c: Cursor, t: Tables) -> None:
        self._allocate(e, c, t, int(e.size_bytes) - int(e.previous), 0)

    @on(POOL.VolumeLeft)
    def volume_left(self, e: Any, c: Cursor, t: Tables) -> None:
        self._allocate(e, c, t, -int(getattr(e, "size_bytes", 0)), -1)

    @on(POOL.Deleted)
    def pool_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.storage_pools} SET removed = 1 WHERE id = %s", (str(e.originator_id),)
        )

    @on(STORE.ConvertedToStaging)
    def store_converted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.image_stores} SET role = %s WHERE id = %s",
            (StoreRole.STAGING, str(e.originator_id)),
        )

    @on(STORE.Added)
    def store_added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.image_stores} (id, name, role, provider, protocol, url, zone_id, "
            "scope, details, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                e.role,
                e.provider,
                e.protocol,
                e.url,
                _id(e.zone_id),
                "ZONE" if e.zone_id is not None else "REGION",
                orjson.dumps(e.details).decode(),
                e.timestamp.isoformat(),
            ),
        )

    @on(STORE.Removed)
    def store_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.image_stores} SET removed = 1 WHERE id = %s", (str(e.originator_id),))


def pool_by_id(cursor: Cursor, pool_id: str) -> dict[str, Any] | None:
    """A live pool, with the names of its zone, pod and cluster."""
    row = cursor.execute(
        f"SELECT * FROM {POOLS_NAMED} WHERE p.id = %s AND p.removed = 0", (pool_id,)
    ).fetchone()
    return None if row is None else dict(row)


def store_by_id(cursor: Cursor, store_id: str, role: str) -> dict[str, Any] | None:
    row = cursor.execute(
        f"SELECT * FROM {STORES_NAMED} WHERE s.id = %s AND s.role = %s AND s.removed = 0",
        (store_id, role),
    ).fetchone()
    return None if row is None else dict(row)


def zone_image_store(cursor: Cursor, zone_id: str, named: str | None) -> dict[str, Any] | None:
    """The image store a zone's new image goes to: `named` if it is one of the zone's (or a
    region-wide one), else the zone's first."""
    sql = (
        "SELECT id, zone_id FROM image_stores WHERE removed = 0 AND role = %s "
        "AND (zone_id = %s OR zone_id IS NULL)"
    )
    params: list[Any] = [StoreRole.IMAGE, zone_id]
    if named:
        sql += " AND id = %s"
        params.append(named)
    row = cursor.execute(sql + " ORDER BY created, id LIMIT 1", params).fetchone()
    return None if row is None else dict(row)


def image_destination(
    cursor: Cursor, zone_id: str, named: str | None = None
) -> tuple[str, str | None] | None:
    """Where a zone's new template, ISO or snapshot is written (4.3): with a staging store in
    the zone and an object store in the region, the object store through the staging store;
    else the zone's first NFS or SMB image store; None when the zone has neither. `named`
    chooses the store (one of the zone's, or an object store, through the zone's staging
    store if it has one); None when it is neither."""
    if named:
        return _named_destination(cursor, zone_id, named)
    staging = cursor.execute(
        "SELECT id FROM image_stores WHERE removed = 0 AND role = %s AND zone_id = %s "
        "ORDER BY created, id LIMIT 1",
        (StoreRole.STAGING, zone_id),
    ).fetchone()
    objects = cursor.execute(
        "SELECT id FROM image_stores WHERE removed = 0 AND role = %s AND zone_id IS NULL "
        "ORDER BY created, id LIMIT 1",
        (StoreRole.IMAGE,),
    ).fetchone()
    if staging is not None and objects is not None:
        return str(objects["id"]), str(staging["id"])
    share = cursor.execute(
        "SELECT id FROM image_stores WHERE removed = 0 AND role = %s AND zone_id = %s "
        "ORDER BY created, id LIMIT 1",
        (StoreRole.IMAGE, zone_id),
    ).fetchone()
    return None if share is None else (str(share["id"]), None)


def _named_destination(cursor: Cursor, zone_id: str, named: str) -> tuple[str, str | None] | None:
    found = zone_image_store(cursor, zone_id, named)
    if found is None:
        return None
    if found["zone_id"] is not None:
        return str(found["id"]), None
    staging = cursor.execute(
        "SELECT id FROM image_stores WHERE removed = 0 AND role = %s AND zone_id = %s "
        "ORDER BY created, id LIMIT 1",
        (StoreRole.STAGING, zone_id),
    ).fetchone()
    return str(found["id"]), (str(staging["id"]) if staging else None)


def pool_capacity(cursor: Cursor, place: dict[str, str | None]) -> list[dict[str, Any]]:
    """Per zone: the pools' capacity and the bytes allocated on them (`place`: zone_id, pod_id,
    cluster_id filters, None for any)."""
    where, params = ["removed = 0"], []
    for column, value in place.items():
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    rows = cursor.execute(
        "SELECT zone_id, sum(CASE WHEN capacity_bytes > 0 THEN capacity_bytes "
        "ELSE reported_bytes END) AS total, sum(allocated_bytes) AS allocated, "
        "sum(used_bytes) AS used "
        "FROM storage_pools WHERE " + " AND ".join(where) + " GROUP BY zone_id ORDER BY zone_id",
        params,
    ).fetchall()
    return [dict(r) for r in rows]


def pool_sizes(cursor: Cursor, place: dict[str, str | None]) -> list[dict[str, Any]]:
    """Each live pool's id, zone and capacity (as `pool_capacity` counts it), for the pools of
    `place` (zone_id, pod_id, cluster_id filters, None for any)."""
    where, params = ["removed = 0"], []
    for column, value in place.items():
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    rows = cursor.execute(
        "SELECT id, zone_id, CASE WHEN capacity_bytes > 0 THEN capacity_bytes "
        "ELSE reported_bytes END AS total FROM storage_pools WHERE " + " AND ".join(where),
        params,
    ).fetchall()
    return [dict(r) for r in rows]


def pool_hosts(cursor: Cursor, pool_id: str) -> dict[str, dict[str, Any]]:
    """Each host asked to connect the pool: its state (Connecting, Connected, Failed) and why
    it failed."""
    rows = cursor.execute(
        "SELECT * FROM storage_pool_hosts WHERE pool_id = %s", (pool_id,)
    ).fetchall()
    return {r["host_id"]: dict(r) for r in rows}


def host_pools(cursor: Cursor, host_id: str) -> list[dict[str, Any]]:
    """The Up pools connected to the host, each with its capacity (`capacitybytes`, else what
    its hosts reported), bytes allocated and storage tags."""
    rows = cursor.execute(
        "SELECT p.id, p.zone_id, p.tags, p.allocated_bytes, "
        "CASE WHEN p.capacity_bytes > 0 THEN p.capacity_bytes ELSE p.reported_bytes END AS total "
        "FROM storage_pools AS p JOIN storage_pool_hosts AS c ON c.pool_id = p.id "
        "WHERE c.host_id = %s AND c.state = 'Connected' AND p.removed = 0 AND p.state = 'Up' "
        "ORDER BY p.id",
        (host_id,),
    ).fetchall()
    return [dict(row) for row in rows]


def hosts_of_scope(cursor: Cursor, place: dict[str, Any]) -> list[str]:
    """The Up hosts a pool of this place reaches: its cluster's, or for a zone-wide pool the
    zone's hosts of its hypervisor."""
    if place.get("cluster_id") is not None:
        where, params = "cluster_id = %s", [str(place["cluster_id"])]
    else:
        where, params = (
            "zone_id = %s AND hypervisor = %s",
            [
                str(place["zone_id"]),
                place["hypervisor"],
            ],
        )
    rows = cursor.execute(
        f"SELECT id FROM hosts WHERE removed = 0 AND state = 'Up' AND {where} ORDER BY id",
        params,
    ).fetchall()
    return [r["id"] for r in rows]


def store_counts(cursor: Cursor) -> dict[str, int]:
    """How many pools and image stores (staging stores included) there are."""
    counts = {}
    for key, table in (("pools", "storage_pools"), ("images", "image_stores")):
        row = cursor.execute(f"SELECT count(*) AS n FROM {table} WHERE removed = 0").fetchone()
        counts[key] = int(row["n"])
    return counts


POOLS_NAMED = (
    "(SELECT p.*, z.name AS zone_name, pd.name AS pod_name, cl.name AS cluster_name "
    "FROM storage_pools AS p JOIN zones AS z ON z.id = p.zone_id "
    "LEFT JOIN pods AS pd ON pd.id = p.pod_id "
    "LEFT JOIN clusters AS cl ON cl.id = p.cluster_id) AS p"
)
STORES_NAMED = (
    "(SELECT s.*, z.name AS zone_name FROM image_stores AS s "
    "LEFT JOIN zones AS z ON z.id = s.zone_id) AS s"
)


READ_MODELS = (StorageProjection,)
