"""Configuration values as set by operators (defaults live with the definitions in domain/)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.configuration import DEFINITIONS, Configuration
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


def overrides(cursor: Cursor, name: str | None = None) -> dict[tuple[str, str, str], str]:
    """The values operators set, by (name, scope, scope id): every setting's, or `name`'s."""
    sql = "SELECT name, scope, scope_id, value FROM configuration_values"
    rows = cursor.execute(
        *((sql + " WHERE name = %s", (name,)) if name is not None else (sql,))
    ).fetchall()
    return {(r["name"], r["scope"], r["scope_id"]): r["value"] for r in rows}


def global_value(cursor: Cursor, name: str, default: str) -> str:
    row = cursor.execute(
        "SELECT value FROM configuration_values WHERE name = %s AND scope = 'global' "
        "AND scope_id = ''",
        (name,),
    ).fetchone()
    return row["value"] if row else default


CPU_FACTOR, MEMORY_FACTOR = "cpu.overprovisioning.factor", "mem.overprovisioning.factor"


@dataclass(frozen=True)
class Overprovisioning:
    """The CPU and memory over-provisioning factors in force: a cluster's own, else global."""

    cpu: float = 1.0
    memory: float = 1.0
    clusters: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def of(self, cluster_id: str | None) -> tuple[float, float]:
        """(CPU, memory) factors of a cluster's hosts."""
        cpu, memory = self.clusters.get(str(cluster_id or ""), (None, None))
        return (self.cpu if cpu is None else cpu, self.memory if memory is None else memory)


def overprovisioning(cursor: Cursor) -> Overprovisioning:
    """The factors as operators set them (globally and per cluster), defaults otherwise."""
    rows = cursor.execute(
        "SELECT name, scope, scope_id, value FROM configuration_values WHERE name IN (%s, %s)",
        (CPU_FACTOR, MEMORY_FACTOR),
    ).fetchall()
    cpu = float(DEFINITIONS[CPU_FACTOR].default)
    memory = float(DEFINITIONS[MEMORY_FACTOR].default)
    clusters: dict[str, tuple[float | None, float | None]] = {}
    for row in rows:
        value = float(row["value"])
        if row["scope"] != "cluster":
            cpu, memory = (value, memory) if row["name"] == CPU_FACTOR else (cpu, value)
            continue
        had = clusters.get(row["scope_id"], (None, None))
        clusters[row["scope_id"]] = (
            (value, had[1]) if row["name"] == CPU_FACTOR else (had[0], value)
        )
    return Overprovisioning(cpu, memory, clusters)


READ_MODELS = (ConfigurationProjection,)
