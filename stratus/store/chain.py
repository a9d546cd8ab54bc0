"""The tamper-evident hash chain over the notification log, kept by the recorders as they commit.

Each stored event gets a *leaf* hash of its stored bytes (originator id, version, topic, state:
what the table holds, not the upcast form) and a *link*, ``sha256(previous link || id || leaf)``,
where the previous link is that of the newest chain row before it. Links live in their own table
``<events>_chain (notification_id, hash)``, written in the transaction that inserts the events;
every ``CHECKPOINT_EVERY``-th id is also copied to ``<events>_checkpoints`` with the time, so a
verifier (or an auditor holding an export) can start from, or compare against, a known link.

Each recorder creates its chain tables beside the events table (they belong to the store, not to
a read model) and, when it finds a log with events but no chain (a store that predates the
chain), adopts the existing events once. Changing, inserting or removing an event row afterwards
breaks the link at that id, and ``audit.verify`` names it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.sql import SQL, Composed, Identifier, Literal

from stratus.store.groupcommit import GroupCommitRecorder, schema_lock
from stratus.store.recommit import insert_once

GENESIS = bytes(32)
CHECKPOINT_EVERY = 1000
EVENTS_TABLE = {"sqlite": "stored_events", "postgres": "stratus_events"}
_ID = struct.Struct(">q")
_HEAD = struct.Struct(">qq")
_ADOPT_PAGE = 5000


def chain_table(events_table: str) -> str:
    return f"{events_table}_chain"


def checkpoint_table(events_table: str) -> str:
    return f"{events_table}_checkpoints"


def originator_bytes(originator_id: Any) -> bytes:
    """The 16 bytes of an originator id, however the dialect hands it back (UUID or hex)."""
    if type(originator_id) is UUID or isinstance(originator_id, UUID):
        return originator_id.bytes
    return UUID(str(originator_id)).bytes


def leaf_hash(originator_id: Any, version: int, topic: str, state: bytes) -> bytes:
    """The hash of one event's stored bytes; the topic is length-prefixed so fields cannot blur."""
    topic_bytes = topic.encode()
    fixed = originator_bytes(originator_id) + _HEAD.pack(version, len(topic_bytes))
    return hashlib.sha256(fixed + topic_bytes + bytes(state)).digest()


def link_hash(previous: bytes, notification_id: int, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + _ID.pack(notification_id) + leaf).digest()


def leaves_of(events: Sequence[StoredEvent]) -> list[bytes]:
    return [leaf_hash(e.originator_id, e.originator_version, e.topic, e.state) for e in events]


def links_after(previous: bytes, ids: Sequence[int], leaves: Sequence[bytes]) -> list[bytes]:
    links = []
    for notification_id, leaf in zip(ids, leaves, strict=True):
        previous = link_hash(previous, notification_id, leaf)
        links.append(previous)
    return links


def _now() -> str:
    return datetime.now(UTC).isoformat()


# --- SQLite: chained in Python, in the transaction of the insert --------------------------------


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite application recorder, extending the hash chain with every insert."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        self.chain_table = chain_table(self.events_table_name)
        self.checkpoint_table = checkpoint_table(self.events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {chain_table(self.events_table_name)} "
            "(notification_id INTEGER PRIMARY KEY, hash BLOB NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {checkpoint_table(self.events_table_name)} "
            "(notification_id INTEGER PRIMARY KEY, hash BLOB NOT NULL, recorded_at TEXT NOT NULL)",
        ]

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            self._adopt(c)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            self._extend(c, list(ids), leaves_of(stored_events))
        return ids

    def _extend(self, c: SQLiteCursor, ids: list[int], leaves: list[bytes]) -> None:
        c.execute(
            f"SELECT hash FROM {self.chain_table} WHERE notification_id < ? "
            "ORDER BY notification_id DESC LIMIT 1",
            (ids[0],),
        )
        row = c.fetchone()
        links = links_after(bytes(row[0]) if row else GENESIS, ids, leaves)
        # A reused id (SQLite hands out the id of a deleted last row again) keeps its old
        # link, so the verifier reports the removal instead of the store refusing writes.
        c.executemany(
            f"INSERT OR IGNORE INTO {self.chain_table} (notification_id, hash) VALUES (?, ?)",
            list(zip(ids, links, strict=True)),
        )
        marks = [
            (i, h, _now()) for i, h in zip(ids, links, strict=True) if i % CHECKPOINT_EVERY == 0
        ]
        if marks:
            c.executemany(f"INSERT OR IGNORE INTO {self.checkpoint_table} VALUES (?, ?, ?)", marks)

    def _adopt(self, c: SQLiteCursor) -> None:
        """Chain the events of a log that predates the chain (once: only while it is empty)."""
        c.execute(f"SELECT 1 FROM {self.chain_table} LIMIT 1")
        if c.fetchone() is not None:
            return
        after = 0
        while True:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, _ADOPT_PAGE),
            )
            rows = c.fetchall()
            if not rows:
                return
            ids = [r[0] for r in rows]
            self._extend(c, ids, [leaf_hash(r[1], r[2], r[3], r[4]) for r in rows])
            after = ids[-1]


# --- PostgreSQL: links computed by the server, one statement per batch --------------------------

# Leaves come from Python (hashlib is C); the links need the previous one, read under the
# events table's lock, so the server chains them in the same round trip as the read.
_EXTEND_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(ids bigint[], leaves bytea[])
RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off
AS $body$
DECLARE
    link bytea;
    links bytea[] := '{{}}';
BEGIN
    SELECT c.hash INTO link FROM {schema}.{chain} AS c
        WHERE c.notification_id < ids[1] ORDER BY c.notification_id DESC LIMIT 1;
    link := coalesce(link, '\\x0000000000000000000000000000000000000000000000000000000000000000');
    FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
        link := sha256(link || int8send(ids[i]) || leaves[i]);
        links := links || link;
    END LOOP;
    INSERT INTO {schema}.{chain} (notification_id, hash)
        SELECT * FROM unnest(ids, links) ON CONFLICT (notification_id) DO NOTHING;
    INSERT INTO {schema}.{checkpoints} (notification_id, hash, recorded_at)
        SELECT k.id, k.hash, now()::text FROM unnest(ids, links) AS k(id, hash)
        WHERE k.id % {every} = 0 ON CONFLICT (notification_id) DO NOTHING;
END;
$body$
"""


class _PostgresChain:
    """The chain's tables and the server-side function, for either PostgreSQL recorder."""

    def __init__(self, datastore: PostgresDatastore, events_table: str) -> None:
        self.datastore = datastore
        self.events_table = events_table
        self.chain = chain_table(events_table)
        self.checkpoints = checkpoint_table(events_table)
        function = self.extend_function = f"{events_table}_chain_extend"
        schema = Identifier(datastore.schema)
        self.create_statements: list[Composed] = [
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} "
                "(notification_id bigint PRIMARY KEY, hash bytea NOT NULL)"
            ).format(schema, Identifier(self.chain)),
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (notification_id bigint PRIMARY KEY, "
                "hash bytea NOT NULL, recorded_at text NOT NULL)"
            ).format(schema, Identifier(self.checkpoints)),
            SQL(_EXTEND_FUNCTION).format(
                schema=schema,
                function=Identifier(function),
                chain=Identifier(self.chain),
                checkpoints=Identifier(self.checkpoints),
                every=SQL(str(CHECKPOINT_EVERY)),
            ),
        ]
        self.extend_sql = SQL("SELECT {0}.{1}(%b::bigint[], %b::bytea[])").format(
            schema, Identifier(function)
        )

    def extend(self, curs: Cursor[Any], ids: Sequence[int], leaves: list[bytes]) -> None:
        if ids:
            curs.execute(self.extend_sql, (list(ids), leaves), prepare=True)

    def adopt(self) -> None:
        """Chain the events of a log that predates the chain (once: only while it is empty)."""
        schema = Identifier(self.datastore.schema)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("LOCK TABLE {0}.{1} IN EXCLUSIVE MODE").format(
                    schema, Identifier(self.events_table)
                )
            )
            curs.execute(
                SQL("SELECT 1 AS one FROM {0}.{1} LIMIT 1").format(schema, Identifier(self.chain))
            )
            if curs.fetchone() is not None:
                return
            after = 0
            while True:
                curs.execute(
                    SQL(
                        "SELECT notification_id, originator_id, originator_version, topic, state "
                        "FROM {0}.{1} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
                    ).format(schema, Identifier(self.events_table)),
                    (after, _ADOPT_PAGE),
                )
                rows = curs.fetchall()
                if not rows:
                    return
                ids = [r["notification_id"] for r in rows]
                leaves = [
                    leaf_hash(r["originator_id"], r["originator_version"], r["topic"], r["state"])
                    for r in rows
                ]
                self.extend(curs, ids, leaves)
                after = ids[-1]


# Group commit's append (see stratus/store/groupcommit.py) and the chain, in ONE statement, so a
# batch stays one autocommit round trip. The leader sends the links it computed from the last
# link it committed; the server takes them when that link is still the newest and no command
# was refused, and otherwise chains the leaves itself (another process wrote in between).
# Measured with bench/write_path.py (3 events per command, 32 writers, six alternating 6 s
# runs on the shared 2-core VM): the explicit-transaction hook cost 14-25% of group commit's
# throughput; this path costs 7.5% (median of pairs; 10% by the means, runs vary +-20%).
# Hashes travel as one bytea each, because psycopg dumps one value far faster than an array.
_CHAINED_APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    ids {id_type}[], versions bigint[], topics text[], states bytea[], commands integer[],
    leaves bytea, links bytea, prev_id bigint, prev_link bytea
) RETURNS TABLE (first_id bigint, refused integer[], last_id bigint, last_link bytea)
LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $body$
DECLARE
    newest bigint;
    inserted bigint;
    link bytea;
    n bigint := 0;
BEGIN
    PERFORM set_config('lock_timeout', {lock_timeout}, true);
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    SELECT coalesce(array_agg(DISTINCT k.command), '{{}}') INTO refused
        FROM unnest(ids, versions, commands) AS k(id, version, command)
        JOIN {schema}.{table} AS t
            ON t.originator_id = k.id AND t.originator_version = k.version;
    SELECT coalesce(max(t.notification_id), 0) INTO newest FROM {schema}.{table} AS t;
    INSERT INTO {schema}.{table}
        (originator_id, originator_version, topic, state, notification_id)
        SELECT e.id, e.version, e.topic, e.state,
               newest + row_number() OVER (ORDER BY e.position)
        FROM unnest(ids, versions, topics, states, commands) WITH ORDINALITY
            AS e(id, version, topic, state, command, position)
        WHERE e.command <> ALL (refused);
    GET DIAGNOSTICS inserted = ROW_COUNT;
    first_id := newest + 1;
    IF inserted > 0 THEN
        PERFORM setval(pg_get_serial_sequence({qualified_table}, 'notification_id'),
                       newest + inserted);
        NOTIFY {channel};
        SELECT c.hash INTO link FROM {schema}.{chain} AS c
            WHERE c.notification_id <= newest ORDER BY c.notification_id DESC LIMIT 1;
        link := coalesce(link, '\\x{genesis}'::bytea);
        IF NOT (cardinality(refused) = 0 AND prev_id = newest AND prev_link = link
                AND length(links) = 32 * inserted) THEN
            links := ''::bytea;
            FOR i IN 1 .. cardinality(commands) LOOP
                CONTINUE WHEN commands[i] = ANY (refused);
                n := n + 1;
                link := sha256(link || int8send(newest + n)
                               || substring(leaves FROM ((i - 1) * 32 + 1)::int FOR 32));
                links := links || link;
            END LOOP;
        END IF;
        INSERT INTO {schema}.{chain} (notification_id, hash)
            SELECT newest + g, substring(links FROM ((g - 1) * 32 + 1)::int FOR 32)
            FROM generate_series(1, inserted) AS g
            ON CONFLICT (notification_id) DO NOTHING;
        IF (newest + inserted) / {every} > newest / {every} THEN
            INSERT INTO {schema}.{checkpoints} (notification_id, hash, recorded_at)
                SELECT newest + g, substring(links FROM ((g - 1) * 32 + 1)::int FOR 32), now()::text
                FROM generate_series(1, inserted) AS g
                WHERE (newest + g) % {every} = 0 ON CONFLICT (notification_id) DO NOTHING;
        END IF;
        last_id := newest + inserted;
        last_link := substring(links FROM ((inserted - 1) * 32 + 1)::int FOR 32);
    END IF;
    RETURN NEXT;
END;
$body$
"""


class ChainedGroupCommitRecorder(GroupCommitRecorder):
    """Group commit whose single append statement also extends the hash chain."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain = _PostgresChain(datastore, self.events_table_name)
        self.sql_create_statements.extend(self.chain.create_statements)
        # The newest (id, link) this recorder committed; only the batch leader touches it.
        self._head: tuple[int, bytes] | None = None
        schema, table = datastore.schema, self.events_table_name
        function = f"{table}_chained_append"
        self.check_identifier_length(function)
        self.sql_create_statements.append(
            SQL(_CHAINED_APPEND_FUNCTION).format(
                schema=Identifier(schema),
                table=Identifier(table),
                function=Identifier(function),
                id_type=SQL(datastore.originator_id_type),
                lock_timeout=Literal(f"{datastore.lock_timeout}s"),
                qualified_table=Literal(Identifier(schema, table).as_string()),
                channel=Identifier(self.channel_name),
                chain=Identifier(self.chain.chain),
                checkpoints=Identifier(self.chain.checkpoints),
                genesis=SQL(GENESIS.hex()),
                every=SQL(str(CHECKPOINT_EVERY)),
            )
        )
        self._append_sql = SQL(
            "SELECT first_id, refused, last_id, last_link FROM {0}.{1}(%b::{2}[], "
            "%b::bigint[], %b::text[], %b::bytea[], %b::integer[], %b::bytea, %b::bytea, "
            "%b::bigint, %b::bytea)"
        ).format(Identifier(schema), Identifier(function), SQL(datastore.originator_id_type))

    def create_table(self) -> None:
        super().create_table()
        self.chain.adopt()

    def _prepare(self, events: Sequence[StoredEvent]) -> list[bytes]:
        return leaves_of(events)

    def _append_params(self, candidates: list[Any]) -> tuple[Any, ...]:
        leaves = [leaf for command in candidates for leaf in command.prepared]
        links: list[bytes] = []
        prev_id, prev_link = -1, GENESIS
        if self._head is not None:
            prev_id, prev_link = self._head
            links = links_after(prev_link, range(prev_id + 1, prev_id + 1 + len(leaves)), leaves)
        blobs = (b"".join(leaves), b"".join(links))
        return (*super()._append_params(candidates), *blobs, prev_id, prev_link)

    def _appended(self, curs: Cursor[Any]) -> tuple[int, set[int]]:
        row = curs.fetchone()
        assert row is not None
        first_id, refused, last_id, last_link = row
        if last_link is not None:
            self._head = (last_id, bytes(last_link))
        return first_id, set(refused)

    def _write(self, conn: Any, candidates: list[Any]) -> tuple[int, set[int]]:
        try:
            return super()._write(conn, candidates)
        except BaseException:
            self._head = None  # whatever was committed, the next batch asks the server
            raise


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """The library's own PostgreSQL path (no group commit), extending the chain per insert.

    The library's database-function insert path is not chained, so this recorder is used with
    ``enable_db_functions`` off (the library's default).
    """

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain = _PostgresChain(datastore, self.events_table_name)
        self.sql_create_statements.extend(self.chain.create_statements)

    def create_table(self) -> None:
        with schema_lock(self.datastore):
            super().create_table()
        self.chain.adopt()

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The library's insert without its own retries: a retry after a lost connection must
        # know a first try that committed (stratus/store/recommit.py).
        once = PostgresApplicationRecorder.insert_events.__wrapped__  # type: ignore[attr-defined]
        return insert_once(self, stored_events, lambda: once(self, stored_events, **kwargs))

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        # Still inside the insert's transaction, under the table lock the library took.
        self.chain.extend(curs, list(ids or ()), leaves_of(stored_events))
        return ids
