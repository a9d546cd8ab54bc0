"""Operator commands that open the installation, do one thing and exit."""

from __future__ import annotations

import sys

import orjson

from entrypoint.installation import all_projections, open_runtime
from stratus.migrate import migrate
from stratus.rebuild import rebuild
from stratus.runtime import open_db, store_exists
from stratus.settings import ConfigurationError, Settings, Unavailable


def migrate_command(settings: Settings) -> int:
    db = open_db(settings)
    try:
        done = migrate(db, settings.postgres.schema if settings.postgres else None)
    finally:
        db.close()
    print(f"applied {len(done)} migration(s)" if done else "schema is up to date")
    return 0


def status_command(settings: Settings) -> int:
    if not store_exists(settings):
        where = settings.sqlite_path if settings.embedded else "the configured PostgreSQL schema"
        raise Unavailable(f"no store at {where}: nothing to report (is STRATUS_DATA right?)")
    runtime = open_runtime(settings)
    try:
        rows = runtime.runner.status()
    finally:
        runtime.close()
    print(f"{'projection':<24} {'position':>10} {'head':>10} {'lag':>8} {'generation':>10}")
    for row in rows:
        print(f"{row.name:<24} {row.position:>10} {row.head:>10} {row.lag:>8} {row.generation:>10}")
    return 0


def client_config_command(settings: Settings) -> int:
    """The admin's credentials from admin.json, as the `cs` client's ini file."""
    path = settings.data_dir / "admin.json"
    try:
        admin = orjson.loads(path.read_bytes())
        lines = ["[cloudstack]", f"endpoint = {admin['url']}", f"key = {admin['apikey']}"]
        lines.append(f"secret = {admin['secretkey']}")
    except OSError as error:
        raise Unavailable(f"cannot read {path}: {error.strerror} (start the server once)") from None
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise Unavailable(f"{path} is not the admin file the server writes") from None
    print("\n".join(lines))
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
