"""The kept JSON of listed rows (`listed`, valid for one `revision` of its row): how the API
stores what it rendered without ever waiting on a row that something else is changing."""

from __future__ import annotations

from stratus.db import Cursor, in_list

# Tables whose rows keep their listed JSON (each has `listed` and `revision`).
KEPT = frozenset({"volumes", "system_vms", "hosts"})
# The column holding it: a cache the API fills from the row, not state the events make, so a
# rebuilt read model starts without it and the next listing fills it again.
KEPT_COLUMN = "listed"


def fill_listed(cursor: Cursor, rendered: list[tuple[str, str, int]], *, table: str) -> None:
    """Keep (listed JSON, row id, revision) for the rows still at the revision it was rendered
    from; a row changed since keeps none, and is rendered again when next listed.

    On PostgreSQL the rows are locked first, skipping any another transaction holds (the
    read-model runner changing it, or another request keeping it): waiting could deadlock with
    a batch that locks the same rows in another order, and a skipped row is kept next time."""
    if table not in KEPT:
        raise ValueError(f"{table} keeps no listed JSON")
    if cursor.dialect == "postgres":
        among, params = in_list(cursor, "id", sorted(row_id for _, row_id, _ in rendered))
        free = cursor.execute(
            f"SELECT id FROM {table} WHERE {among} FOR UPDATE SKIP LOCKED", params
        ).fetchall()
        unlocked = {row["id"] for row in free}
        rendered = [row for row in rendered if row[1] in unlocked]
    if rendered:
        cursor.executemany(
            f"UPDATE {table} SET {KEPT_COLUMN} = %s WHERE id = %s AND revision = %s", rendered
        )
