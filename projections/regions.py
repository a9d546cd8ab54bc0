"""The regions read model (listRegions); the migration seeds the local region."""

from __future__ import annotations

from typing import Any

from domain.portable_ips import PortableIpRanges
from domain.regions import LOCAL_ENDPOINT, LOCAL_ID, LOCAL_NAME, Regions
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

REGIONS: Any = Regions  # events made by the library's decorator: type checkers cannot see them
PORTABLE: Any = PortableIpRanges


class RegionsProjection(Projection):
    """One row per region."""

    name = "regions"
    summary = "regions"
    tables = ("regions",)

    def reset(self, cursor: Cursor, tables: Tables) -> None:
        """A rebuild starts where the migration starts: with the local region."""
        cursor.execute(
            f"INSERT INTO {tables.regions} (id, name, endpoint) VALUES (%s, %s, %s)",
            (LOCAL_ID, LOCAL_NAME, LOCAL_ENDPOINT),
        )

    @on(REGIONS.Added)
    def added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.regions} (id, name, endpoint) VALUES (%s, %s, %s)",
            (e.region_id, e.name, e.endpoint),
        )

    @on(REGIONS.Updated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.regions} SET name = %s, endpoint = %s WHERE id = %s",
            (e.name, e.endpoint, e.region_id),
        )

    @on(REGIONS.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.regions} WHERE id = %s", (e.region_id,))

    @on(PORTABLE.RangeAdded)
    def portable_range_added(self, e: Any, c: Cursor, t: Tables) -> None:
        """A region with portable ranges offers the portable ip service (as 4.3 marks it)."""
        c.execute(
            f"UPDATE {t.regions} SET portable_ip_service_enabled = 1 WHERE id = %s",
            (e.region_id,),
        )

    @on(PORTABLE.RangeRemoved)
    def portable_range_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.regions} SET portable_ip_service_enabled = %s WHERE id = %s",
            (int(e.remaining > 0), e.region_id),
        )


READ_MODELS = (RegionsProjection,)
