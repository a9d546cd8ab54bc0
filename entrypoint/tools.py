"""Operator commands that open the installation, do one thing and exit."""

from __future__ import annotations

import sys

from entrypoint.installation import all_projections, open_runtime
from stratus.migrate import migrate
from stratus.rebuild import rebuild
from stratus.runtime import open_db
from stratus.settings import ConfigurationError, Settings


def migrate_command(settings: Settings) -> int:
    db = open_db(settings)
    try:
        done = migrate(db, settings.postgres.schema if settings.postgres else None)
    finally:
        db.close()
    print(f"applied {len(done)} migration(s)" if done else "schema is up to date")
    return 0


def status_command(settings: Settings) -> int:
    runtime = open_runtime(settings)
    try:
        rows = runtime.runner.status()
    finally:
        runtime.close()
    print(f"{'projection':<24} {'position':>10} {'head':>10} {'lag':>8} {'generation':>10}")
    for row in rows:
        print(f"{row.name:<24} {row.position:>10} {row.head:>10} {row.lag:>8} {row.generation:>10}")
    return 0


def rebuild_command(settings: Settings, name: str) -> int:
    runtime = open_runtime(settings)
    try:
        projections = {p.name: p for p in all_projections(runtime.store)}
        if name not in projections:
            known = ", ".join(sorted(projections)) or "none"
            raise ConfigurationError(f"no read model named {name!r} (known: {known})")
        position = rebuild(projections[name], runtime.source, runtime.db, progress=_progress(name))
    finally:
        runtime.close()
    print(f"\n{name}: rebuilt and swapped in at position {position}")
    return 0


def _progress(name: str):  # type: ignore[no-untyped-def]
    def show(position: int, head: int) -> None:
        share = 100.0 if head == 0 else min(100.0, 100.0 * position / head)
        sys.stdout.write(f"\r{name}: {position}/{head} events ({share:5.1f}%)")
        sys.stdout.flush()

    return show
