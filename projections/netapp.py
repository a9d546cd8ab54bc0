"""The NetApp read model (listPools, listVolumesOnFiler, listLunsOnFiler): pools, the filer
volumes in each (no password) and the LUNs on them, in the order they were recorded."""

from __future__ import annotations

from typing import Any

from domain.netapp import NetappStorage, lun_name
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

STORAGE: Any = NetappStorage  # events made by the library's decorator


class NetappProjection(Projection):
    """One row per pool, volume and LUN."""

    name = "netapp"
    summary = "NetApp pools, filer volumes and LUNs"
    tables = ("netapp_pools", "netapp_volumes", "netapp_luns")

    @on(STORAGE.PoolCreated)
    def pool_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.netapp_pools} (id, name, algorithm, position) VALUES (%s, %s, %s, %s)",
            (str(e.pool_id), e.name, e.algorithm, e.originator_version),
        )

    @on(STORAGE.PoolModified)
    def pool_modified(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.netapp_pools} SET algorithm = %s WHERE id = %s",
            (e.algorithm, str(e.pool_id)),
        )

    @on(STORAGE.PoolDeleted)
    def pool_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.netapp_pools} WHERE id = %s", (str(e.pool_id),))

    @on(STORAGE.VolumeAdded)
    def volume_added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.netapp_volumes} (id, pool_id, pool_name, address, aggregate, name, "
            "size, username, snapshot_policy, snapshot_reservation, position) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.volume_id),
                str(e.pool_id),
                e.pool,
                e.address,
                e.aggregate,
                e.name,
                e.size,
                e.username,
                e.snapshot_policy,
                e.snapshot_reservation,
                e.originator_version,
            ),
        )

    @on(STORAGE.VolumeRemoved)
    def volume_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.netapp_volumes} WHERE id = %s", (str(e.volume_id),))

    @on(STORAGE.LunAdded)
    def lun_added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.netapp_luns} (number, name, volume_id, path, target_iqn) "
            "VALUES (%s, %s, %s, %s, %s)",
            (e.number, lun_name(e.number), str(e.volume_id), e.path, e.target_iqn),
        )

    @on(STORAGE.LunRemoved)
    def lun_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.netapp_luns} WHERE number = %s", (e.number,))


READ_MODELS = (NetappProjection,)
