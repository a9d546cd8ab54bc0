"""The custom ids read model: which id each renamed resource answers to now (`api.custom_ids`
translates ids with it at the API's edge)."""

from __future__ import annotations

from typing import Any

from domain.custom_ids import CustomId
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

CUSTOM: Any = CustomId  # events made by the library's decorator: type checkers cannot see them


class CustomIdsProjection(Projection):
    """One row per resource given a custom id: its newest one."""

    name = "custom_ids"
    summary = "the custom id each renamed resource answers to"
    tables = ("custom_ids",)

    @on(CUSTOM.Created)
    def given(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.custom_ids} (resource_id, custom_id, resource_type) "
            "VALUES (%s, %s, %s) "
            "ON CONFLICT (resource_id) DO UPDATE SET custom_id = excluded.custom_id, "
            "resource_type = excluded.resource_type",
            (str(e.resource_id), str(e.originator_id), e.resource_type),
        )


def custom_ids(cursor: Cursor) -> dict[str, str]:
    """Every renamed resource's id and the custom id it answers to now."""
    rows = cursor.execute("SELECT resource_id, custom_id FROM custom_ids").fetchall()
    return {row["resource_id"]: row["custom_id"] for row in rows}


READ_MODELS = (CustomIdsProjection,)
