"""Fixtures shared by every test: settings for a fresh store on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings

from stratus.settings import Settings, parse_database_url

# Property tests check what is computed, never how fast: a shared, loaded machine may take any
# time over an example, so Hypothesis's per-example deadline is off for the whole suite.
hypothesis_settings.register_profile("stratus", deadline=None)
hypothesis_settings.load_profile("stratus")

TEST_KEY = base64.b64encode(b"k" * 32).decode()
# Built-in templates are fetched from here in tests: a name that never resolves, so no test
# reaches the internet (the simulator fetches nothing; a KVM adapter's download fails).
OFFLINE_MIRROR = "http://builtin-images.invalid/"


def postgres_url() -> str | None:
    return os.environ.get("STRATUS_TEST_POSTGRES_URL")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key=TEST_KEY)


@pytest.fixture
def postgres_settings(tmp_path: Path) -> Iterator[Settings]:
    url = postgres_url()
    if not url:
        pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    base = parse_database_url(url)
    yield Settings(
        data_dir=tmp_path / "data",
        postgres=parse_database_url(f"{url}?schema={schema}"),
        secret_key=TEST_KEY,
        group_commit=os.environ.get("STRATUS_TEST_GROUP_COMMIT", "on") != "off",
    )
    with psycopg.connect(base.conninfo, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest) -> Settings:
    """The same test on the embedded store and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_settings")
