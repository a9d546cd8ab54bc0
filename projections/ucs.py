"""The UCS read model (listUcsManagers, listUcsBlades): managers (no password) and their blades."""

from __future__ import annotations

from typing import Any

from domain.ucs import UcsManager
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

MANAGER: Any = UcsManager  # events made by the library's decorator


class UcsProjection(Projection):
    """One row per UCS manager and per blade."""

    name = "ucs"
    summary = "UCS managers and their blades"
    tables = ("ucs_managers", "ucs_blades")

    @on(MANAGER.Added)
    def added(self, e: Any, c: Cursor, t: Tables) -> None:
        manager_id = str(e.originator_id)
        c.execute(
            f"INSERT INTO {t.ucs_managers} (id, zone_id, name, url, created) "
            "VALUES (%s, %s, %s, %s, %s)",
            (manager_id, str(e.zone_id), e.name, e.url, e.timestamp.isoformat()),
        )
        for position, (blade_id, dn) in enumerate(e.blades.items()):
            c.execute(
                f"INSERT INTO {t.ucs_blades} (id, manager_id, dn, position) "
                "VALUES (%s, %s, %s, %s)",
                (blade_id, manager_id, dn, position),
            )

    @on(MANAGER.ProfileAssociated)
    def associated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.ucs_blades} SET profile_dn = %s WHERE id = %s",
            (e.profile_dn, str(e.blade_id)),
        )

    @on(MANAGER.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        manager_id = str(e.originator_id)
        c.execute(f"UPDATE {t.ucs_managers} SET removed = 1 WHERE id = %s", (manager_id,))
        c.execute(f"DELETE FROM {t.ucs_blades} WHERE manager_id = %s", (manager_id,))


READ_MODELS = (UcsProjection,)
