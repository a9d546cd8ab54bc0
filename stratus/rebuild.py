"""Rebuilding one read model from event zero while the old one keeps serving, then swapping.

The rebuild fills shadow tables (`<table>__rebuild`) in batches, up to the head of the log as it
was when the rebuild began, then closes in on the live read model's position without any lock.
The swap takes the live projection's position row lock (the live runner takes it for every
batch), catches the shadow up to the live position it finds there, replaces the live tables by
the shadows and moves the position, all in one transaction. The swap only has to reach the live
position, not the head: under a steady stream of writes the head moves on while the lock is
held, and chasing it could keep the live read model (and every request waiting for it) blocked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from stratus.db import Cursor, Database
from stratus.projection import (
    EventSource,
    Projection,
    Tables,
    apply_notifications,
    read_position,
    write_position,
)

log = logging.getLogger(__name__)

# Batches the rebuild may apply, lock-free, to close in on the live read model before the swap.
CLOSING_ROUNDS = 100

SHADOW = "__rebuild"
_GENERATION_SUFFIX = re.compile(r"__g\d+$")


def _clone_sqlite(cursor: Cursor, table: str, shadow: str, generation: int) -> None:
    rows = cursor.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    for row in sorted(rows, key=lambda r: r["type"] != "table"):
        sql = row["sql"]
        if row["type"] == "table":
            sql = re.sub(rf'^CREATE TABLE\s+"?{re.escape(table)}"?', f"CREATE TABLE {shadow}", sql)
        else:
            index = _GENERATION_SUFFIX.sub("", row["name"]) + f"__g{generation}"
            sql = re.sub(
                rf'INDEX\s+"?{re.escape(row["name"])}"?\s+ON\s+"?{re.escape(table)}"?',
                f"INDEX {index} ON {shadow}",
                sql,
            )
        cursor.execute(sql)


def _clone(cursor: Cursor, table: str, shadow: str, generation: int) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {shadow}")
    if cursor.dialect == "postgres":
        cursor.execute(f"CREATE TABLE {shadow} (LIKE {table} INCLUDING ALL)")
    else:
        _clone_sqlite(cursor, table, shadow, generation)


def _swap(cursor: Cursor, projection: Projection) -> None:
    for table in projection.tables:
        cursor.execute(f"DROP TABLE {table}")
        cursor.execute(f"ALTER TABLE {table}{SHADOW} RENAME TO {table}")


def rebuild(
    projection: Projection,
    source: EventSource,
    db: Database,
    *,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild `projection` from the first event; returns the position it was swapped in at."""
    shadow_name = projection.name + SHADOW
    shadow_tables = Tables(projection.tables, SHADOW)
    with db.transaction() as cursor:
        _, generation = read_position(cursor, projection.name)
        for table in projection.tables:
            _clone(cursor, table, table + SHADOW, generation + 1)
        read_position(cursor, shadow_name)
        write_position(cursor, shadow_name, 0)
        projection.reset(cursor, shadow_tables)
    head = source.head()
    position = 0
    while True:
        position, consumed = _shadow_step(projection, source, db, shadow_name, batch_size)
        if progress:
            progress(position, head)
        if not consumed or position >= head:
            break
    for _ in range(CLOSING_ROUNDS):  # bounded: the swap itself reaches the live position
        if position >= _live_position(db, projection.name) - batch_size:
            break
        position, consumed = _shadow_step(projection, source, db, shadow_name, batch_size)
        if not consumed:
            break
    return _swap_in(projection, source, db, shadow_name, batch_size, generation + 1)


def _live_position(db: Database, name: str) -> int:
    with db.read() as cursor:
        row = cursor.execute(
            "SELECT position FROM projection_positions WHERE name = %s", (name,)
        ).fetchone()
    return int(row["position"]) if row else 0


def _shadow_step(
    projection: Projection, source: EventSource, db: Database, shadow_name: str, batch_size: int
) -> tuple[int, int]:
    with db.transaction() as cursor:
        position, _ = read_position(cursor, shadow_name)
        notifications = source.read(position, batch_size)
        if notifications:
            tables = Tables(projection.tables, SHADOW)
            apply_notifications(projection, source, notifications, cursor, tables)
            position = notifications[-1].id
            write_position(cursor, shadow_name, position)
    return position, len(notifications)


def _swap_in(
    projection: Projection,
    source: EventSource,
    db: Database,
    shadow_name: str,
    batch_size: int,
    generation: int,
) -> int:
    with db.transaction() as cursor:
        live, _ = read_position(cursor, projection.name, lock=True)
        position, _ = read_position(cursor, shadow_name)
        tables = Tables(projection.tables, SHADOW)
        while position < live and (notifications := source.read(position, batch_size)):
            apply_notifications(projection, source, notifications, cursor, tables)
            position = notifications[-1].id
        _swap(cursor, projection)
        cursor.execute(
            "UPDATE projection_positions SET position = %s, generation = %s WHERE name = %s",
            (position, generation, projection.name),
        )
        cursor.execute("DELETE FROM projection_positions WHERE name = %s", (shadow_name,))
    log.info("rebuilt %s up to position %d", projection.name, position)
    return position
