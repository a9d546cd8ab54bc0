"""Fixtures for tests against real services: the PostgreSQL server and a fresh schema on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from stratus.settings import parse_database_url

POSTGRES_URL_VARIABLE = "STRATUS_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url() -> str:
    """The test server's URL, from STRATUS_TEST_POSTGRES_URL (the test is skipped without it)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")
    return url


@pytest.fixture
def fresh_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL naming a schema made for this test alone; it is dropped, with its tables, after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = parse_database_url(postgres_url).conninfo
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{separator}schema={schema}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
