"""A tiny aggregate and read model: counters that are created, incremented and renamed."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from stratus.db import Cursor
from stratus.projection import Projection, Tables, on


class Counter(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0

    @event("Incremented")
    def increment(self, by: int = 1) -> None:
        self.value += by

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


class CountersProjection(Projection):
    name = "counters"
    tables = ("test_counters",)

    def __init__(self, fail_on: int | None = None) -> None:
        self.fail_on = fail_on
        self.applied = 0

    def _tick(self) -> None:
        self.applied += 1
        if self.fail_on is not None and self.applied >= self.fail_on:
            raise RuntimeError("the projection process died here")

    @on(Counter.Created)
    def created(self, e: Any, cursor: Cursor, t: Tables) -> None:
        self._tick()
        cursor.execute(
            f"INSERT INTO {t.test_counters} (id, name, value) VALUES (%s, %s, 0)",
            (str(e.originator_id), e.name),
        )

    @on(Counter.Incremented)
    def incremented(self, e: Any, cursor: Cursor, t: Tables) -> None:
        self._tick()
        cursor.execute(
            f"UPDATE {t.test_counters} SET value = value + %s WHERE id = %s",
            (e.by, str(e.originator_id)),
        )

    @on(Counter.Renamed)
    def renamed(self, e: Any, cursor: Cursor, t: Tables) -> None:
        self._tick()
        cursor.execute(
            f"UPDATE {t.test_counters} SET name = %s WHERE id = %s",
            (e.name, str(e.originator_id)),
        )


SCHEMA = (
    "CREATE TABLE IF NOT EXISTS test_counters "
    "(id TEXT PRIMARY KEY, name TEXT NOT NULL, value BIGINT NOT NULL)"
)
INDEX = "CREATE INDEX IF NOT EXISTS test_counters_name ON test_counters (name)"


def create_tables(db: Any) -> None:
    with db.transaction() as cursor:
        cursor.execute(SCHEMA)
        cursor.execute(INDEX)


def snapshot(db: Any) -> list[tuple[str, str, int]]:
    with db.read() as cursor:
        rows = cursor.execute("SELECT id, name, value FROM test_counters ORDER BY id").fetchall()
    return [(r["id"], r["name"], int(r["value"])) for r in rows]
