"""Configuration values as set by operators (defaults live with the definitions in domain/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.configuration import Configuration
from domain.values import Secret
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on


class ConfigurationProjection(Projection):
    """One row per setting and scope that an operator changed; a password is kept sealed."""

    name = "configuration"
    summary = "settings an operator changed"
    tables = ("configuration_values",)

    def __init__(self, seal: Callable[[str], str]) -> None:
        self.seal = seal

    @classmethod
    def built(cls, seal: Callable[[str], str]) -> Projection:
        return cls(seal)

    @on(Configuration.ValueSet)
    def value_set(self, e: Any, c: Cursor, t: Tables) -> None:
        value = self.seal(e.value.reveal()) if isinstance(e.value, Secret) else e.value
        c.execute(
            f"INSERT INTO {t.configuration_values} (name, scope, scope_id, value, updated) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name, scope, scope_id) "
            "DO UPDATE SET value = excluded.value, updated = excluded.updated",
            (e.name, e.scope, str(e.scope_id or ""), value, e.timestamp.isoformat()),
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


READ_MODELS = (ConfigurationProjection,)
