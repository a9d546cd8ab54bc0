"""The snapshot policies read model (listSnapshotPolicies, and the scheduler's list of what is
defined) and the queries that read it."""

from __future__ import annotations

from typing import Any

from domain.snapshot_policy import SnapshotPolicy
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

POLICY: Any = (
    SnapshotPolicy  # events made by the library's decorator: type checkers cannot see them
)


def _id(e: Any) -> str:
    return str(e.originator_id)


class SnapshotPoliciesProjection(Projection):
    """Keeps `snapshot_policies`."""

    name = "snapshot_policies"
    summary = "volumes' snapshot schedules and what each last took"
    tables = ("snapshot_policies",)

    @on(POLICY.Defined)
    def defined(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.snapshot_policies} (id, volume_id, account_id, domain_id, "
            "interval_type, schedule, timezone, max_snaps, defined_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e), str(e.volume_id), str(e.owner_account_id), str(e.owner_domain_id),
                e.interval, e.schedule, e.timezone, e.max_snaps, e.defined_at.isoformat(),
            ),
        )  # fmt: skip

    @on(POLICY.Redefined)
    def redefined(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.snapshot_policies} SET schedule = %s, timezone = %s, max_snaps = %s, "
            "defined_at = %s, removed = 0 WHERE id = %s",
            (e.schedule, e.timezone, e.max_snaps, e.defined_at.isoformat(), _id(e)),
        )

    @on(POLICY.SnapshotTaken)
    def taken(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.snapshot_policies} SET last_due = %s, held = held + 1 WHERE id = %s",
            (e.due.isoformat(), _id(e)),
        )

    @on(POLICY.Released)
    def released(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.snapshot_policies} SET held = held - %s WHERE id = %s",
            (len(e.snapshot_ids), _id(e)),
        )

    @on(POLICY.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.snapshot_policies} SET removed = 1, held = 0 WHERE id = %s", (_id(e),)
        )


POLICY_SELECT = (
    "SELECT p.*, a.domain_path AS domain_path FROM snapshot_policies AS p "
    "JOIN accounts AS a ON a.id = p.account_id"
)


def policy_by_id(cursor: Cursor, the_id: str) -> dict[str, Any] | None:
    found = cursor.execute(POLICY_SELECT + " WHERE p.id = %s AND p.removed = 0", (the_id,))
    row = found.fetchone()
    return None if row is None else dict(row)


def live_policies(cursor: Cursor) -> list[dict[str, Any]]:
    """Every policy in force, for the scheduler."""
    rows = cursor.execute(
        "SELECT id, interval_type, schedule, timezone, max_snaps, defined_at, last_due, held "
        "FROM snapshot_policies WHERE removed = 0 ORDER BY id"
    ).fetchall()
    return [dict(r) for r in rows]


READ_MODELS = (SnapshotPoliciesProjection,)
