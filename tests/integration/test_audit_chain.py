"""The hash chain: an untouched log verifies clean; an edited, removed or inserted row is named."""

from __future__ import annotations

import io
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from commands.infrastructure import CreateZone, create_zone
from entrypoint.audit_cli import run
from entrypoint.cli import _parser
from entrypoint.installation import open_runtime
from stratus.settings import Settings


def _zones(settings: Settings, count: int = 5) -> None:
    runtime = open_runtime(settings, projections=[])
    try:
        for number in range(count):
            create_zone(
                runtime.store, CreateZone(f"zone-{number}", "Advanced", {"dns1": "8.8.8.8"})
            )
    finally:
        runtime.close()


def _audit(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(_parser().parse_args(["audit", *argv]), settings, out)
    return code, out.getvalue()


@contextmanager
def _raw(settings: Settings) -> Iterator[tuple[Any, str, str]]:
    """A writable connection straight to the events table, as a tamperer would have."""
    if settings.postgres is None:
        connection = sqlite3.connect(settings.sqlite_path, isolation_level=None)
        yield connection, "stored_events", "rowid"
        connection.close()
        return
    with psycopg.connect(settings.postgres.conninfo, autocommit=True) as pg:
        pg.execute(f'SET search_path TO "{settings.postgres.schema}"')
        yield _PgAdapter(pg), "stratus_events", "notification_id"


class _PgAdapter:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.connection.execute(sql.replace("?", "%s"), params)


def test_an_untouched_log_verifies_clean(settings: Settings) -> None:
    _zones(settings)
    code, text = _audit(settings, "verify")
    assert code == 0 and text.startswith("OK: 5 events verified")


def test_an_edited_event_is_named(settings: Settings) -> None:
    _zones(settings)
    with _raw(settings) as (db, table, key):
        state = db.execute(f"SELECT state FROM {table} WHERE {key} = 3").fetchone()[0]
        forged = bytes(state).replace(b"zone-2", b"zone-X")
        db.execute(f"UPDATE {table} SET state = ? WHERE {key} = 3", (forged,))
    code, text = _audit(settings, "verify")
    assert code == 1
    assert text.startswith("TAMPERED: event #3 was changed")
    assert "also" not in text  # the events after it still verify


def test_a_removed_event_is_named(settings: Settings) -> None:
    _zones(settings)
    with _raw(settings) as (db, table, key):
        db.execute(f"DELETE FROM {table} WHERE {key} = 2")
    code, text = _audit(settings, "verify")
    assert code == 1 and text.startswith("TAMPERED: event #2 was removed")


def test_an_inserted_event_is_named(settings: Settings) -> None:
    _zones(settings)
    with _raw(settings) as (db, table, key):
        row = db.execute(
            f"SELECT originator_id, topic, state FROM {table} WHERE {key} = 1"
        ).fetchone()
        forged_id = uuid.uuid4()
        originator = forged_id.hex if settings.postgres is None else forged_id
        db.execute(
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (?, 1, ?, ?)",
            (originator, row[1], row[2]),
        )
    code, text = _audit(settings, "verify")
    assert code == 1 and text.startswith("TAMPERED: event #6 was inserted")


def test_writes_after_a_tampering_keep_the_chain_going(settings: Settings) -> None:
    _zones(settings, 3)
    with _raw(settings) as (db, table, key):
        db.execute(f"DELETE FROM {table} WHERE {key} = 2")
    _zones(settings, 2)
    code, text = _audit(settings, "verify")
    assert code == 1 and text.startswith("TAMPERED: event #2 was removed")
    assert "also" not in text


@pytest.mark.postgres
def test_the_library_path_without_group_commit_is_chained(postgres_settings: Settings) -> None:
    from dataclasses import replace

    settings = replace(postgres_settings, group_commit=False)
    _zones(settings, 3)
    assert _audit(settings, "verify")[1].startswith("OK: 3 events verified")


@pytest.mark.postgres
def test_two_writers_on_one_log_and_refused_commands_keep_the_chain(
    postgres_settings: Settings,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from domain.errors import ConcurrencyConflict
    from domain.infrastructure import Zone

    first = open_runtime(postgres_settings, projections=[])
    second = open_runtime(postgres_settings, projections=[])
    try:
        zone_id = create_zone(first.store, CreateZone("z", "Advanced", {"dns1": "8.8.8.8"})).id

        def rename(number: int) -> None:
            store = (first, second)[number % 2].store
            zone = store.get(Zone, zone_id)  # stale copies collide: some commands are refused
            zone.update({"name": f"z{number}"})
            create_zone(store, CreateZone(f"other-{number}", "Basic", {"dns1": "8.8.8.8"}))
            try:
                store.save(zone)
            except Exception as error:  # a refused command, as a real conflict would be
                assert not isinstance(error, ConcurrencyConflict)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(rename, range(64)))
    finally:
        first.close()
        second.close()
    code, text = _audit(postgres_settings, "verify")
    assert code == 0 and text.startswith("OK:"), text
