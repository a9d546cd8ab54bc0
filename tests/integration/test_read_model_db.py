"""The read-model database's transactions, pipelined or not, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.db import contains, open_database
from stratus.settings import Settings


@pytest.fixture
def db(settings: Settings) -> Any:
    if settings.postgres is not None:  # the schema is the store's; make it for this test
        import psycopg

        with psycopg.connect(settings.postgres.conninfo, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.postgres.schema}"')
    database = open_database(settings)
    with database.transaction() as cursor:
        cursor.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
    yield database
    database.close()


def _names(db: Any) -> list[str]:
    with db.read() as cursor:
        return [r["name"] for r in cursor.execute("SELECT name FROM things ORDER BY id").fetchall()]


@pytest.mark.parametrize("pipelined", [False, True])
def test_writes_reads_and_counts_inside_one_transaction(db: Any, pipelined: bool) -> None:
    with db.transaction(pipelined=pipelined) as cursor:
        for index in range(3):
            cursor.execute("INSERT INTO things (id, name) VALUES (%s, %s)", (index, f"t{index}"))
        cursor.execute("UPDATE things SET name = name || '!' WHERE id >= %s", (1,))
        assert cursor.rowcount == 2
        row = cursor.execute("SELECT count(*) AS n FROM things").fetchone()
        assert row is not None and row["n"] == 3
    assert _names(db) == ["t0", "t1!", "t2!"]


@pytest.mark.parametrize("pipelined", [False, True])
def test_a_failed_statement_keeps_nothing_and_the_next_transaction_works(
    db: Any, pipelined: bool
) -> None:
    with db.transaction() as cursor:
        cursor.execute("INSERT INTO things (id, name) VALUES (1, 'kept')")
    clash = pytest.raises(Exception, match=r"(?i)unique|duplicate")
    with clash, db.transaction(pipelined=pipelined) as cursor:
        cursor.execute("INSERT INTO things (id, name) VALUES (2, 'lost')")
        cursor.execute("INSERT INTO things (id, name) VALUES (1, 'clash')")
        cursor.execute("INSERT INTO things (id, name) VALUES (3, 'lost too')")
    with pytest.raises(RuntimeError), db.transaction(pipelined=pipelined) as cursor:
        cursor.execute("INSERT INTO things (id, name) VALUES (4, 'lost')")
        raise RuntimeError("the caller changed its mind")
    with db.transaction(pipelined=pipelined) as cursor:
        cursor.execute("INSERT INTO things (id, name) VALUES (5, 'after')")
    assert _names(db) == ["kept", "after"]


@pytest.mark.postgres
@pytest.mark.parametrize("pipelined", [False, True])
def test_a_transaction_of_what_can_be_made_again_does_not_wait_for_the_disk(
    postgres_settings: Settings, pipelined: bool
) -> None:
    database = open_database(postgres_settings)
    try:

        def setting(**options: bool) -> str:
            with database.transaction(**options) as cursor:
                row = cursor.execute("SELECT current_setting('synchronous_commit') AS s")
                return str(row.fetchone()["s"])  # type: ignore[index]

        assert setting(pipelined=pipelined, durable=False) == "off"
        assert setting(pipelined=pipelined) == "on"  # for that transaction only
    finally:
        database.close()


@pytest.mark.parametrize(
    ("keyword", "found"),
    [
        ("%", ["100% up"]),
        ("_", ["web_1"]),
        ("b_1", ["web_1"]),
        ("\\", ["back\\slash"]),
        ("we", ["web_1", "webx1"]),
    ],
)
def test_a_keyword_matches_percent_underscore_and_backslash_literally(
    db: Any, keyword: str, found: list[str]
) -> None:
    with db.transaction() as cursor:
        for index, name in enumerate(("web_1", "webx1", "100% up", "1000 up", "back\\slash")):
            cursor.execute("INSERT INTO things (id, name) VALUES (%s, %s)", (index, name))
    clause, params = contains(("name",), keyword)
    with db.read() as cursor:
        rows = cursor.execute(f"SELECT name FROM things WHERE {clause} ORDER BY id", params)
        assert [r["name"] for r in rows.fetchall()] == found
