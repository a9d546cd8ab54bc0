"""The security groups read model (listSecurityGroups): groups, their rules and their VMs."""

from __future__ import annotations

from typing import Any

from domain.security_group import SecurityGroup
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

GROUP: Any = SecurityGroup  # events made by the library's decorator: type checkers cannot see them


def _id(e: Any) -> str:
    return str(e.originator_id)


class SecurityGroupsProjection(Projection):
    """Keeps `security_groups`, `security_group_rules` and `security_group_members`."""

    name = "security_groups"
    summary = "security groups and their rules"
    tables = ("security_groups", "security_group_rules", "security_group_members")

    @on(GROUP.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.security_groups} (id, name, description, account_id, domain_id, "
            "created) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                e.name,
                e.description,
                str(e.owner_account_id),
                str(e.owner_domain_id),
                e.timestamp.isoformat(),
            ),
        )

    @on(GROUP.Authorized)
    def authorized(self, e: Any, c: Cursor, t: Tables) -> None:
        for rule_id, rule in e.rules.items():
            c.execute(
                f"INSERT INTO {t.security_group_rules} (id, group_id, direction, protocol, "
                "start_port, end_port, cidr, allowed_group_id, allowed_group_name, "
                "allowed_account, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    rule_id,
                    _id(e),
                    rule["direction"],
                    rule["protocol"],
                    rule["start"],
                    rule["end"],
                    rule["cidr"],
                    rule["group_id"],
                    rule["group"],
                    rule["account"],
                    e.timestamp.isoformat(),
                ),
            )

    @on(GROUP.Revoked)
    def revoked(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.security_group_rules} WHERE id = %s", (e.rule_id,))

    @on(GROUP.Joined)
    def joined(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.security_group_members} (group_id, vm_id) VALUES (%s, %s) "
            "ON CONFLICT (group_id, vm_id) DO NOTHING",
            (_id(e), str(e.vm_id)),
        )

    @on(GROUP.Left)
    def left(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"DELETE FROM {t.security_group_members} WHERE group_id = %s AND vm_id = %s",
            (_id(e), str(e.vm_id)),
        )

    @on(GROUP.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.security_groups} SET removed = 1 WHERE id = %s", (_id(e),))
        c.execute(f"DELETE FROM {t.security_group_rules} WHERE group_id = %s", (_id(e),))


def rules_of_groups(cursor: Cursor, group_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each group's rules, oldest first."""
    found: dict[str, list[dict[str, Any]]] = {g: [] for g in group_ids}
    if not group_ids:
        return found
    marks = ", ".join(["%s"] * len(group_ids))
    rows = cursor.execute(
        f"SELECT * FROM security_group_rules WHERE group_id IN ({marks}) ORDER BY created, id",
        group_ids,
    ).fetchall()
    for row in rows:
        found[row["group_id"]].append(dict(row))
    return found


def groups_of_vms(cursor: Cursor, vm_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The groups (id, name, description) of those of these VMs that are in any, by name."""
    found: dict[str, list[dict[str, Any]]] = {}
    if not vm_ids:
        return found
    among, params = in_list(cursor, "m.vm_id", vm_ids)
    rows = cursor.execute(
        "SELECT m.vm_id, g.id, g.name, g.description FROM security_group_members AS m "
        f"JOIN security_groups AS g ON g.id = m.group_id WHERE {among} "
        "ORDER BY g.name",
        params,
    ).fetchall()
    for row in rows:
        found.setdefault(row["vm_id"], []).append(dict(row))
    return found


def members_of_group(cursor: Cursor, group_id: str) -> list[str]:
    rows = cursor.execute(
        "SELECT vm_id FROM security_group_members WHERE group_id = %s ORDER BY vm_id", (group_id,)
    ).fetchall()
    return [r["vm_id"] for r in rows]


def is_allowed_by_others(cursor: Cursor, group_id: str) -> bool:
    """Whether a rule of another group lets this group's members in or out."""
    row = cursor.execute(
        "SELECT count(*) AS n FROM security_group_rules WHERE allowed_group_id = %s "
        "AND group_id <> %s",
        (group_id, group_id),
    ).fetchone()
    return bool(row["n"])


READ_MODELS = (SecurityGroupsProjection,)
