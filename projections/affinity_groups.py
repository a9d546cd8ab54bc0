"""The affinity groups read model (listAffinityGroups): the groups and the VMs in each."""

from __future__ import annotations

from typing import Any

from domain.affinity_group import AffinityGroup
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

GROUP: Any = AffinityGroup  # events made by the library's decorator: type checkers cannot see them


def _id(e: Any) -> str:
    return str(e.originator_id)


class AffinityGroupsProjection(Projection):
    """Keeps `affinity_groups` and `affinity_group_members`."""

    name = "affinity_groups"
    summary = "affinity groups"
    tables = ("affinity_groups", "affinity_group_members")

    @on(GROUP.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.affinity_groups} (id, name, description, type, account_id, "
            "domain_id, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                e.name,
                e.description,
                e.group_type,
                str(e.owner_account_id) if e.owner_account_id else "",  # '': a domain's
                str(e.owner_domain_id),
                e.timestamp.isoformat(),
            ),
        )

    @on(GROUP.Joined)
    def joined(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.affinity_group_members} (group_id, vm_id) VALUES (%s, %s) "
            "ON CONFLICT (group_id, vm_id) DO NOTHING",
            (_id(e), str(e.vm_id)),
        )

    @on(GROUP.Left)
    def left(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"DELETE FROM {t.affinity_group_members} WHERE group_id = %s AND vm_id = %s",
            (_id(e), str(e.vm_id)),
        )

    @on(GROUP.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.affinity_groups} SET removed = 1 WHERE id = %s", (_id(e),))
        c.execute(f"DELETE FROM {t.affinity_group_members} WHERE group_id = %s", (_id(e),))


def members_of_groups(cursor: Cursor, group_ids: list[str]) -> dict[str, list[str]]:
    """Each group's member VM ids."""
    found: dict[str, list[str]] = {g: [] for g in group_ids}
    if not group_ids:
        return found
    among, params = in_list(cursor, "group_id", group_ids)
    rows = cursor.execute(
        f"SELECT group_id, vm_id FROM affinity_group_members WHERE {among} ORDER BY vm_id",
        params,
    ).fetchall()
    for row in rows:
        found[row["group_id"]].append(row["vm_id"])
    return found


def groups_of_vms(cursor: Cursor, vm_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The groups (id, name, description, type) of those of these VMs in any, by name."""
    found: dict[str, list[dict[str, Any]]] = {}
    if not vm_ids:
        return found
    among, params = in_list(cursor, "m.vm_id", vm_ids)
    rows = cursor.execute(
        "SELECT m.vm_id, g.id, g.name, g.description, g.type FROM affinity_group_members AS m "
        f"JOIN affinity_groups AS g ON g.id = m.group_id WHERE {among} ORDER BY g.name",
        params,
    ).fetchall()
    for row in rows:
        group = {k: row[k] for k in ("id", "name", "description", "type")}
        found.setdefault(row["vm_id"], []).append(group)
    return found


READ_MODELS = (AffinityGroupsProjection,)
