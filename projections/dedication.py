"""The dedicated resources read model (listDedicatedZones/Pods/Clusters/Hosts, and what
placement reads): one row per dedicated zone, pod, cluster or host."""

from __future__ import annotations

from typing import Any

from domain.dedication import Dedication, GuestVlanDedications
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

DEDICATION: Any = Dedication  # events made by the library's decorator
VLANS: Any = GuestVlanDedications


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class DedicationProjection(Projection):
    """Keeps `dedicated_resources` and `dedicated_guest_vlan_ranges`."""

    name = "dedicated_resources"
    summary = "zones, pods, clusters and hosts dedicated to a domain or account"
    tables = ("dedicated_resources", "dedicated_guest_vlan_ranges")

    @on(DEDICATION.Opened)
    def opened(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.dedicated_resources} (id, kind, resource_id, domain_id, "
            "affinity_group_id, created, removed) VALUES (%s, %s, %s, '', '', %s, 1) "
            "ON CONFLICT (id) DO NOTHING",
            (str(e.originator_id), e.kind, str(e.resource_id), e.timestamp.isoformat()),
        )

    @on(DEDICATION.Dedicated)
    def dedicated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.dedicated_resources} SET zone_id = %s, pod_id = %s, cluster_id = %s, "
            "domain_id = %s, account_id = %s, affinity_group_id = %s, created = %s, "
            "removed = 0 WHERE id = %s",
            (
                _text(e.zone_id),
                _text(e.pod_id),
                _text(e.cluster_id),
                str(e.domain_id),
                _text(e.account_id),
                str(e.group_id),
                e.timestamp.isoformat(),
                str(e.originator_id),
            ),
        )

    @on(DEDICATION.Released)
    def released(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.dedicated_resources} SET removed = 1 WHERE id = %s",
            (str(e.originator_id),),
        )

    @on(VLANS.Dedicated)
    def vlans_dedicated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.dedicated_guest_vlan_ranges} (id, physical_network_id, account_id, "
            "domain_id, first_vnet, last_vnet, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.range_id),
                str(e.physical_network_id),
                _text(e.account_id),
                str(e.domain_id),
                e.first,
                e.last,
                e.timestamp.isoformat(),
            ),
        )

    @on(VLANS.Released)
    def vlans_released(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.dedicated_guest_vlan_ranges} SET removed = 1 WHERE id = %s",
            (str(e.range_id),),
        )


def dedications_in_zone(cursor: Cursor, zone_id: str) -> list[dict[str, Any]]:
    """The zone's live dedications (the zone's own among them), with the owner's domain path."""
    rows = cursor.execute(
        "SELECT r.kind, r.resource_id, r.domain_id, r.account_id, r.affinity_group_id, "
        "d.path AS domain_path FROM dedicated_resources AS r "
        "JOIN domains AS d ON d.id = r.domain_id "
        "WHERE r.removed = 0 AND r.zone_id = %s",
        (zone_id,),
    ).fetchall()
    return [dict(r) for r in rows]


READ_MODELS = (DedicationProjection,)
