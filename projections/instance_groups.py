"""The instance groups read model (listInstanceGroups) and the query its API reads."""

from __future__ import annotations

from typing import Any

from domain.instance_group import InstanceGroup
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

GROUP: Any = InstanceGroup  # events made by the library's decorator: type checkers cannot see them


def _id(e: Any) -> str:
    return str(e.originator_id)


class InstanceGroupsProjection(Projection):
    """Keeps `instance_groups` (the VMs in each are on `virtual_machines.group_id`)."""

    name = "instance_groups"
    summary = "instance groups"
    tables = ("instance_groups",)

    @on(GROUP.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.instance_groups} (id, name, account_id, domain_id, created) "
            "VALUES (%s, %s, %s, %s, %s)",
            (_id(e), e.name, str(e.account_id), str(e.domain_id), e.timestamp.isoformat()),
        )

    @on(GROUP.Renamed)
    def renamed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.instance_groups} SET name = %s WHERE id = %s", (e.name, _id(e)))

    @on(GROUP.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.instance_groups} SET removed = 1 WHERE id = %s", (_id(e),))


GROUP_SELECT = (
    "SELECT g.id, g.name, g.account_id, g.domain_id, g.created, a.name AS account_name, "
    "a.domain_name AS domain_name, a.domain_path AS domain_path FROM instance_groups AS g "
    "JOIN accounts AS a ON a.id = g.account_id"
)


def group_by_id(cursor: Cursor, group_id: str) -> dict[str, Any] | None:
    row = cursor.execute(GROUP_SELECT + " WHERE g.id = %s AND g.removed = 0", (group_id,))
    found = row.fetchone()
    return None if found is None else dict(found)


READ_MODELS = (InstanceGroupsProjection,)
