"""The read-model database: the same SQLite file or PostgreSQL schema that holds the events.

Projections write through `transaction()`, queries read through `read()`. SQL is written once with
`%s` placeholders and ``ON CONFLICT`` upserts, which both dialects understand.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool

from stratus.datadir import private_file
from stratus.settings import Settings, Unavailable

# What a database that cannot be reached raises, on either dialect (a restart, a lost
# connection, a pool with no connection to give); nothing about the request itself.
UNREACHABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)


class Cursor(Protocol):
    """The cursor handed to projections and queries; rows come back as dicts."""

    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchone(self) -> dict[str, Any] | None: ...
    def fetchall(self) -> list[dict[str, Any]]: ...
    def select_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    @property
    def rowcount(self) -> int: ...


class Database(Protocol):
    dialect: str

    def transaction(self, *, pipelined: bool = False, durable: bool = True) -> Any: ...
    def read(self) -> Any: ...
    def statement(self) -> Any: ...
    def close(self) -> None: ...


def in_list(cursor: Cursor, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`column` among `values`, as SQL and its parameters.

    PostgreSQL gets one array parameter: the statement text stays the same whatever the number
    of values, so the driver converts it once (a 500-value `IN (%s, …)` list cost ~2 ms of
    parsing per query) and the server can reuse its plan. SQLite gets a list of placeholders.
    """
    if cursor.dialect == "postgres":
        if all(type(value) is str and "," not in value for value in values):
            # One text parameter: dumping a 500-item list as an array costs ~1 ms in the driver.
            return f"{column} = ANY(string_to_array(%s, ','))", [",".join(values)]
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def contains(columns: Sequence[str], text: str, *, anywhere: bool = True) -> tuple[str, list[Any]]:
    """Rows where any of `columns` holds `text` (or starts with it, unless `anywhere`).

    `text` matches literally: its `%`, `_` and the escape character itself are escaped, with
    the escape character named in the SQL, as neither SQLite nor PostgreSQL agree on a default.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%" if anywhere else f"{escaped}%"
    tests = [f"{column} LIKE %s ESCAPE '\\'" for column in columns]
    return "(" + " OR ".join(tests) + ")", [pattern] * len(columns)


# The advisory lock that serialises schema changes on PostgreSQL: migrations, and the event
# store's tables and functions, which every process creates (or replaces) when it opens the store.
SCHEMA_LOCK_KEY = 0x5374726174


@lru_cache(maxsize=4096)
def _qmark(sql: str) -> str:
    return sql.replace("%s", "?")


def _columns(cursor: sqlite3.Cursor) -> tuple[str, ...]:
    return tuple(column[0] for column in cursor.description)


class _SQLiteCursor:
    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._cursor = connection.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _SQLiteCursor:
        self._cursor.execute(_qmark(sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(_qmark(sql), [tuple(r) for r in rows])

    def fetchone(self) -> dict[str, Any] | None:
        row = self._cursor.fetchone()
        return None if row is None else dict(zip(_columns(self._cursor), row, strict=True))

    def fetchall(self) -> list[dict[str, Any]]:
        # Rows come as tuples and become dicts here, the column names read once per result
        # rather than once per row (a 500-row page: ~3 ms less).
        rows = self._cursor.fetchall()
        if not rows:
            return []
        columns = _columns(self._cursor)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def select_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A query's rows as tuples, in the order of its columns (for big reads)."""
        return self._cursor.execute(_qmark(sql), tuple(params)).fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class SQLiteDatabase:
    """One connection per thread to the store's SQLite file, in WAL mode."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
            with self._lock:
                self._all.append(connection)
        return connection

    @contextmanager
    def transaction(
        self, *, pipelined: bool = False, durable: bool = True
    ) -> Iterator[_SQLiteCursor]:
        """One transaction; `pipelined` and `durable` matter on PostgreSQL only (a statement
        here is a call, not a round trip, and the file's settings are the store's)."""
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteCursor(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def statement(self) -> Any:
        """A cursor for one writing statement, committed on its own."""
        return self.transaction()

    @contextmanager
    def read(self) -> Iterator[_SQLiteCursor]:
        connection = self._connection()
        connection.execute("BEGIN")
        try:
            yield _SQLiteCursor(connection)
        finally:
            connection.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
        self._local = threading.local()


class _PostgresCursor:
    dialect = "postgres"

    def __init__(
        self, cursor: psycopg.Cursor[dict[str, Any]], pipeline: psycopg.Pipeline | None = None
    ) -> None:
        self._cursor = cursor
        self._pipeline = pipeline

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _PostgresCursor:
        self._cursor.execute(sql, tuple(params))  # type: ignore[arg-type]
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql, [tuple(r) for r in rows])  # type: ignore[arg-type]

    def fetchone(self) -> dict[str, Any] | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[dict[str, Any]]:
        return self._cursor.fetchall()

    def select_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A query's rows as tuples, in the order of its columns, for big reads: a dict per
        row costs about a microsecond, and the binary protocol hands a bytea over as it is
        (no hex text, or conversion to text on the server, to undo)."""
        cursor: Any = self._cursor
        cursor.row_factory = tuple_row
        try:
            return cursor.execute(sql, tuple(params), binary=True).fetchall()  # type: ignore[no-any-return]
        finally:
            cursor.row_factory = dict_row

    @property
    def rowcount(self) -> int:
        if self._pipeline is not None:  # the count comes with the statement's answer
            self._pipeline.sync()
        return self._cursor.rowcount


class PostgresDatabase:
    """A small connection pool on the store's schema."""

    dialect = "postgres"

    def __init__(self, conninfo: str, schema: str, max_size: int = 10) -> None:
        self.schema = schema
        self._pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            # Autocommit, so a read is one round trip; writes open their transaction explicitly.
            # No JIT: its compile step (about a second) dwarfs every query we run on big tables,
            # the 20,000-event pages of a usage replay (40 ms each without it) included.
            kwargs={
                "row_factory": dict_row,
                "options": f"-c search_path={schema} -c jit=off",
                "autocommit": True,
            },
            open=False,
        )
        _probe(conninfo)
        try:
            self._pool.open(wait=True, timeout=10)
        except Exception as error:
            self._pool.close()
            raise Unavailable(f"cannot connect to PostgreSQL: {error}") from None

    @contextmanager
    def transaction(
        self, *, pipelined: bool = False, durable: bool = True
    ) -> Iterator[_PostgresCursor]:
        """One transaction. `pipelined` sends its statements without waiting for each answer
        (libpq's pipeline mode): a run of writes costs one round trip instead of one each.
        Reading a result (a fetch, `rowcount`) waits for the answers sent before it; an error
        is raised there, or when the block ends, and rolls the whole transaction back.

        `durable=False` commits without waiting for the write-ahead log to reach the disk,
        for what can be made again: a crash of the server may lose the last such commits,
        whole and in order, never part of one."""
        with (
            self._pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
            connection.pipeline() if pipelined else nullcontext() as pipeline,
        ):
            if not durable:  # pipelined too, when the rest is
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield _PostgresCursor(cursor, pipeline)

    @contextmanager
    def read(self) -> Iterator[_PostgresCursor]:
        with self._pool.connection() as connection, connection.cursor() as cursor:
            yield _PostgresCursor(cursor)

    def statement(self) -> Any:
        """A cursor for one writing statement, committed on its own: on an autocommit
        connection that is one round trip instead of three (BEGIN, statement, COMMIT)."""
        return self.read()

    def close(self) -> None:
        self._pool.close()


def _probe(conninfo: str) -> None:
    """One connection first, so a refused connection, a missing database or a wrong user
    fails at once with the server's own reason (the pool would retry it for its whole
    timeout, then say only that it is incomplete)."""
    try:
        psycopg.connect(conninfo, connect_timeout=5).close()
    except psycopg.Error as error:
        reason = " ".join((str(error).strip() or type(error).__name__).splitlines()[0].split())
        raise Unavailable(f"cannot connect to PostgreSQL: {reason}") from None


def open_database(settings: Settings) -> SQLiteDatabase | PostgresDatabase:
    if settings.postgres is None:
        private_file(settings.sqlite_path)
        return SQLiteDatabase(str(settings.sqlite_path))
    pg = settings.postgres
    return PostgresDatabase(pg.conninfo, pg.schema)
