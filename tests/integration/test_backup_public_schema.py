"""A PostgreSQL installation in the `public` schema, the default, backs up and restores into a
fresh database, which already has a `public` schema of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from commands.infrastructure import CreateZone, create_zone
from entrypoint.backup import backup, restore
from entrypoint.installation import open_runtime
from stratus.settings import ConfigurationError, Settings, parse_database_url
from tests.conftest import TEST_KEY, postgres_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    url = postgres_url()
    if not url:
        pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
    base = parse_database_url(url)
    names = [f"backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with psycopg.connect(base.conninfo, autocommit=True) as connection:
        for name in names:
            connection.execute(f'CREATE DATABASE "{name}"')
    host = f"postgresql://{base.user}@{base.host}:{base.port}"
    yield f"{host}/{names[0]}", f"{host}/{names[1]}"
    with psycopg.connect(base.conninfo, autocommit=True) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _zones(settings: Settings) -> list[tuple[str, str]]:
    runtime = open_runtime(settings)
    try:
        runtime.runner.catch_up()
        with runtime.db.read() as cursor:
            rows = cursor.execute("SELECT id, name FROM zones ORDER BY name").fetchall()
    finally:
        runtime.close()
    return [(str(row["id"]), row["name"]) for row in rows]


def test_the_public_schema_restores_into_a_fresh_database(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source_url, target_url = databases
    source = Settings(
        data_dir=tmp_path / "a", postgres=parse_database_url(source_url), secret_key=TEST_KEY
    )
    runtime = open_runtime(source)
    try:
        for name in ("z1", "z2"):
            create_zone(runtime.store, CreateZone(name, "Advanced", {"dns1": "8.8.8.8"}))
    finally:
        runtime.close()
    made = backup(source, tmp_path / "backup")
    assert made["schema"] == "public" and made["position"] > 0

    with pytest.raises(ConfigurationError, match="holds a PostgreSQL dump"):
        restore(Settings(data_dir=tmp_path / "b"), tmp_path / "backup")
    target = Settings(data_dir=tmp_path / "b", postgres=parse_database_url(target_url))
    restore(target, tmp_path / "backup")
    assert (tmp_path / "b" / "secret.key").read_text().strip() == TEST_KEY
    zones = _zones(source)
    assert [name for _, name in zones] == ["z1", "z2"] and _zones(target) == zones
    with pytest.raises(ConfigurationError, match="is not empty"):
        restore(Settings(data_dir=tmp_path / "c", postgres=target.postgres), tmp_path / "backup")
