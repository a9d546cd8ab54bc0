"""The zones' vCenter datacenters read model (listVmwareDcs, and what addVmwareDc checks);
no login in it."""

from __future__ import annotations

from typing import Any

from domain.vmware_datacenter import (
    ASSOCIATED,
    ASSOCIATING,
    RELEASING,
    UNASSOCIATED,
    VmwareDatacenter,
)
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

DATACENTER: Any = VmwareDatacenter  # events made by the library's decorator


class VmwareDatacentersProjection(Projection):
    """One row per zone that ever had a datacenter, with the state of its association."""

    name = "vmware_datacenters"
    summary = "zones' vCenter datacenters"
    tables = ("vmware_datacenters",)

    @on(DATACENTER.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.vmware_datacenters} (id, zone_id, state, created) "
            "VALUES (%s, %s, %s, %s)",
            (str(e.originator_id), str(e.zone_id), UNASSOCIATED, e.timestamp.isoformat()),
        )

    @on(DATACENTER.AssociationRequested)
    def requested(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.vmware_datacenters} SET name = %s, vcenter = %s, state = %s, "
            "reason = '', created = %s WHERE id = %s",
            (e.name, e.vcenter, ASSOCIATING, e.timestamp.isoformat(), str(e.originator_id)),
        )

    def _state(self, c: Cursor, t: Tables, e: Any, state: str, reason: str | None = "") -> None:
        c.execute(
            f"UPDATE {t.vmware_datacenters} SET state = %s, reason = %s WHERE id = %s",
            (state, reason or "", str(e.originator_id)),
        )

    @on(DATACENTER.Associated)
    def associated(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(c, t, e, ASSOCIATED)

    @on(DATACENTER.AssociationFailed)
    def failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(c, t, e, UNASSOCIATED, e.reason)

    @on(DATACENTER.ReleaseRequested)
    def releasing(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(c, t, e, RELEASING)

    @on(DATACENTER.Released)
    def released(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(c, t, e, UNASSOCIATED, e.reason)


def zone_datacenter(cursor: Cursor, zone_id: str) -> dict[str, Any] | None:
    row = cursor.execute(
        "SELECT * FROM vmware_datacenters WHERE zone_id = %s", (zone_id,)
    ).fetchone()
    return dict(row) if row else None


def datacenter_elsewhere(cursor: Cursor, zone_id: str, name: str, vcenter: str) -> bool:
    """Whether another zone holds (or is taking) the datacenter `name` of `vcenter`."""
    row = cursor.execute(
        "SELECT id FROM vmware_datacenters WHERE zone_id <> %s AND state <> %s "
        "AND lower(name) = lower(%s) AND lower(vcenter) = lower(%s)",
        (zone_id, UNASSOCIATED, name, vcenter),
    ).fetchone()
    return row is not None


READ_MODELS = (VmwareDatacentersProjection,)
