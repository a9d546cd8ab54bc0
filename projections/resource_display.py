"""The display flag read model: the flag a root administrator set on each resource, and the SQL
conditions lists and answers use to ask whether a resource is shown to its end users."""

from __future__ import annotations

from typing import Any

from domain.resource_display import ResourceDisplay
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

DISPLAY: Any = ResourceDisplay  # events made by the library's decorator: type checkers cannot see


class ResourceDisplayProjection(Projection):
    """Keeps `resource_display`: one row per resource whose flag was ever set."""

    name = "resource_display"
    summary = "display flags of resources (fordisplay, displaynetwork)"
    tables = ("resource_display",)

    @on(DISPLAY.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.resource_display} (id, resource_id, resource_type, display) "
            "VALUES (%s, %s, %s, %s)",
            (str(e.originator_id), str(e.resource_id), e.resource_type, int(e.display)),
        )

    @on(DISPLAY.Set)
    def set(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.resource_display} SET display = %s WHERE id = %s",
            (int(e.display), str(e.originator_id)),
        )


def hidden_sql(column: str) -> str:
    """SQL true when the resource whose id is in `column` is hidden from its end users."""
    return (
        "EXISTS (SELECT 1 FROM resource_display AS shown_flag "
        f"WHERE shown_flag.resource_id = {column} AND shown_flag.display = 0)"
    )


def shown_sql(column: str) -> str:
    """SQL true when the resource whose id is in `column` is shown to its end users (the
    default: no flag, or one set to show)."""
    return f"NOT {hidden_sql(column)}"


def hidden_among(cursor: Cursor, ids: list[str]) -> set[str]:
    """Which of these resources are hidden from their end users."""
    if not ids:
        return set()
    clause, params = in_list(cursor, "resource_id", ids)
    rows = cursor.execute(
        f"SELECT resource_id FROM resource_display WHERE display = 0 AND {clause}", params
    ).fetchall()
    return {row["resource_id"] for row in rows}


READ_MODELS = (ResourceDisplayProjection,)
