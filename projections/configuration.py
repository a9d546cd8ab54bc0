"""Configuration values as set by operators (defaults live with the definitions in domain/)."""

from __future__ import annotations

from typing import Any

from domain.configuration import Configuration
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on


class ConfigurationProjection(Projection):
    """One row per setting and scope that an operator changed."""

    name = "configuration"
    tables = ("configuration_values",)

    @on(Configuration.ValueSet)
    def value_set(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.configuration_values} (name, scope, scope_id, value, updated) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name, scope, scope_id) "
            "DO UPDATE SET value = excluded.value, updated = excluded.updated",
            (e.name, e.scope, str(e.scope_id or ""), e.value, e.timestamp.isoformat()),
        )


def overrides(cursor: Cursor) -> dict[tuple[str, str, str], str]:
    rows = cursor.execute(
        "SELECT name, scope, scope_id, value FROM configuration_values"
    ).fetchall()
    return {(r["name"], r["scope"], r["scope_id"]): r["value"] for r in rows}


def global_value(cursor: Cursor, name: str, default: str) -> str:
    row = cursor.execute(
        "SELECT value FROM configuration_values WHERE name = %s AND scope = 'global' "
        "AND scope_id = ''",
        (name,),
    ).fetchone()
    return row["value"] if row else default
