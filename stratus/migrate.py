"""The migration runner: applies numbered SQL files from `migrations/` once each, in order.

A file `NNNN_name.sql` applies to both dialects; `NNNN_name.sqlite.sql` or `NNNN_name.postgres.sql`
apply to one. Each file runs in its own transaction and is recorded in `stratus_migrations`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from stratus.db import SCHEMA_LOCK_KEY, Cursor, Database

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available(dialect: str) -> list[Migration]:
    """Every migration file for this dialect, ordered by version."""
    found: dict[int, Migration] = {}
    for entry in resources.files("migrations").iterdir():
        match = _NAME.match(entry.name)
        if not match or match.group(3) not in (None, dialect):
            continue
        version = int(match.group(1))
        if version in found and match.group(3) is None:
            continue  # a dialect-specific file wins over the portable one
        found[version] = Migration(version, match.group(2), entry.read_text())
    return [found[v] for v in sorted(found)]


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _ensure_table(cursor: Cursor) -> None:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS stratus_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


def applied(db: Database) -> set[int]:
    with db.transaction() as cursor:
        _ensure_table(cursor)
        rows = cursor.execute("SELECT version FROM stratus_migrations").fetchall()
    return {row["version"] for row in rows}


def migrate(db: Database, schema: str | None = None) -> list[Migration]:
    """Apply what is missing; returns the migrations applied now. Safe to run concurrently."""
    if db.dialect == "postgres" and schema:
        with db.transaction() as cursor:
            quoted = '"' + schema.replace('"', '""') + '"'  # settings admit identifiers only
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
    done: list[Migration] = []
    for migration in available(db.dialect):
        with db.transaction() as cursor:
            if db.dialect == "postgres":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            _ensure_table(cursor)
            exists = cursor.execute(
                "SELECT 1 AS one FROM stratus_migrations WHERE version = %s", (migration.version,)
            ).fetchone()
            if exists:
                continue
            for statement in _statements(migration.sql):
                cursor.execute(statement)
            cursor.execute(
                "INSERT INTO stratus_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
        log.info("applied migration %04d %s", migration.version, migration.name)
        done.append(migration)
    return done
