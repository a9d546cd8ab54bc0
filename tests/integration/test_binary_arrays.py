"""Arrays built in PostgreSQL's binary format reach the server as the values they were made of."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from stratus.settings import parse_database_url
from stratus.store.arrays import ByteaArray, Int4Array, Int8Array, TextArray, UuidArray
from tests.conftest import postgres_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def connection():
    url = postgres_url()
    if not url:
        pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
    with psycopg.connect(parse_database_url(url).conninfo, autocommit=True) as connection:
        yield connection


@pytest.mark.parametrize(
    ("array", "cast", "values"),
    [
        (UuidArray, "uuid[]", [uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]),
        (Int8Array, "bigint[]", [1, 0, -1, 2**63 - 1, -(2**63)]),
        (Int4Array, "integer[]", [0, 7, -(2**31), 2**31 - 1]),
        (TextArray, "text[]", ["a", "", "Zürich ✓", "x" * 10_000]),
        (ByteaArray, "bytea[]", [b"", b"\x00\xff", bytes(range(256)) * 40]),
    ],
)
def test_each_kind_round_trips(connection, array, cast, values) -> None:
    row = connection.execute(f"SELECT %b::{cast}", (array(values),)).fetchone()
    assert row is not None and list(row[0]) == values


@pytest.mark.parametrize(
    ("array", "cast"),
    [
        (UuidArray, "uuid[]"),
        (Int8Array, "bigint[]"),
        (Int4Array, "integer[]"),
        (TextArray, "text[]"),
        (ByteaArray, "bytea[]"),
    ],
)
def test_an_empty_array_is_the_empty_array(connection, array, cast) -> None:
    row = connection.execute(f"SELECT %b::{cast}, %b::{cast} = '{{}}'", (array([]),) * 2).fetchone()
    assert row == ([], True)
