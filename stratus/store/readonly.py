"""Raw, read-only access to the stored events and the hash chain, on either dialect.

Audit and usage replay read the stored rows themselves (not read models): a command over its own
read-only connection, the API over the runtime's database, which holds the same tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from stratus.db import Cursor, _PostgresCursor, _SQLiteCursor
from stratus.settings import Settings, Unavailable
from stratus.store.chain import EVENTS_TABLE, chain_table, checkpoint_table


@dataclass(frozen=True)
class RawEvent:
    """One stored row: its position and the bytes the chain covers."""

    id: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes


class LogSource:
    """Pages of stored events, chain links and checkpoints, oldest first."""

    def __init__(self, dialect: str, reader: Callable[[], AbstractContextManager[Cursor]]) -> None:
        self.dialect = dialect
        self._reader = reader
        self.events = EVENTS_TABLE[dialect]
        self.chain = chain_table(self.events)
        self.checkpoints = checkpoint_table(self.events)
        self._id = "rowid" if dialect == "sqlite" else "notification_id"
        self._columns = f"{self._id} AS id, originator_id, originator_version, topic, state"

    def cursor(self) -> AbstractContextManager[Cursor]:
        """A cursor on the source's connection, for readers of their own (usage replay)."""
        return self._reader()

    def _rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        with self._reader() as cursor:
            return cursor.execute(sql, params).fetchall()

    def events_after(self, after: int, limit: int, until: int | None = None) -> list[RawEvent]:
        stop, params = "", [after]
        if until is not None:
            stop, params = f" AND {self._id} <= %s", [after, until]
        rows = self._rows(
            f"SELECT {self._columns} FROM {self.events} WHERE {self._id} > %s{stop} "
            f"ORDER BY {self._id} LIMIT %s",
            [*params, limit],
        )
        return [_raw(row) for row in rows]

    def scan(
        self, after: int = 0, until: int | None = None, page: int = 5000
    ) -> Iterator[RawEvent]:
        while True:
            batch = self.events_after(after, page, until)
            yield from batch
            if len(batch) < page:
                return
            after = batch[-1].id

    def events_of(self, originator_id: UUID) -> list[RawEvent]:
        key: Any = originator_id.hex if self.dialect == "sqlite" else originator_id
        rows = self._rows(
            f"SELECT {self._columns} FROM {self.events} WHERE originator_id = %s "
            "ORDER BY originator_version",
            [key],
        )
        return [_raw(row) for row in rows]

    def with_topics(self, topics: Sequence[str]) -> list[RawEvent]:
        marks = ", ".join(["%s"] * len(topics))
        rows = self._rows(
            f"SELECT {self._columns} FROM {self.events} WHERE topic IN ({marks}) "
            f"ORDER BY {self._id}",
            list(topics),
        )
        return [_raw(row) for row in rows]

    def links_after(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._rows(
            f"SELECT notification_id, hash FROM {self.chain} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s",
            [after, limit],
        )
        return [(int(r["notification_id"]), bytes(r["hash"])) for r in rows]

    def link_before(self, notification_id: int) -> bytes | None:
        rows = self._rows(
            f"SELECT hash FROM {self.chain} WHERE notification_id < %s "
            "ORDER BY notification_id DESC LIMIT 1",
            [notification_id],
        )
        return bytes(rows[0]["hash"]) if rows else None

    def checkpoint_links(self) -> dict[int, bytes]:
        rows = self._rows(f"SELECT notification_id, hash FROM {self.checkpoints}", [])
        return {int(r["notification_id"]): bytes(r["hash"]) for r in rows}

    def head(self) -> int:
        rows = self._rows(f"SELECT max({self._id}) AS head FROM {self.events}", [])
        return int(rows[0]["head"] or 0)


def _raw(row: dict[str, Any]) -> RawEvent:
    originator = row["originator_id"]
    return RawEvent(
        int(row["id"]),
        originator if isinstance(originator, UUID) else UUID(str(originator)),
        int(row["originator_version"]),
        row["topic"],
        bytes(row["state"]),
    )


def from_database(db: Any) -> LogSource:
    """A source over the runtime's database (the same file or schema as the events)."""
    return LogSource(db.dialect, db.read)


@contextmanager
def open_readonly(settings: Settings) -> Iterator[LogSource]:
    """A source over a connection that cannot write: the CLI never changes the store."""
    if settings.postgres is None:
        path = settings.sqlite_path
        if not path.exists():
            raise Unavailable(f"no event store at {path} (set STRATUS_DATA)")
        sqlite = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        try:
            yield LogSource("sqlite", _fixed(lambda: _SQLiteCursor(sqlite)))
        finally:
            sqlite.close()
        return
    pg = settings.postgres
    try:
        connection = psycopg.connect(
            pg.conninfo,
            autocommit=True,
            row_factory=dict_row,
            options=f"-c search_path={pg.schema} -c default_transaction_read_only=on -c jit=off",
        )
    except psycopg.Error as error:
        first = " ".join((str(error).strip() or type(error).__name__).splitlines()[0].split())
        raise Unavailable(f"cannot connect to PostgreSQL: {first}") from None
    with connection:
        yield LogSource("postgres", _fixed(lambda: _PostgresCursor(connection.cursor())))


def _fixed(make: Callable[[], Any]) -> Callable[[], AbstractContextManager[Cursor]]:
    @contextmanager
    def reader() -> Iterator[Cursor]:
        yield make()

    return reader
