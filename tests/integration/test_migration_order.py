"""Upgrades apply every migration an installation has not applied, whatever its number: a
release may bring a migration numbered below ones the installation applied long ago."""

from __future__ import annotations

from stratus.db import Database, open_database
from stratus.migrate import applied, available, migrate
from stratus.settings import Settings


def test_an_installation_past_later_migrations_still_gets_an_earlier_new_one(
    settings: Settings,
) -> None:
    db = open_database(settings)
    try:
        _upgrade_after_a_gap(db, settings.postgres.schema if settings.postgres else None)
    finally:
        db.close()


def _upgrade_after_a_gap(db: Database, schema: str | None) -> None:
    migrate(db, schema)
    # As an installation of a release without the volumes' kept JSON (0045) but with every
    # later migration (0120 and up) would stand.
    with db.transaction() as cursor:
        cursor.execute("ALTER TABLE volumes DROP COLUMN revision")
        cursor.execute("ALTER TABLE volumes DROP COLUMN listed")
        cursor.execute("DELETE FROM stratus_migrations WHERE version = 45")
    assert max(applied(db)) > 45
    assert [m.version for m in migrate(db, schema)] == [45]
    assert applied(db) == {m.version for m in available(db.dialect)}
    with db.read() as cursor:
        cursor.execute("SELECT listed, revision FROM volumes").fetchall()
