"""Group commit for the PostgreSQL event store: many commands, one transaction, one fsync.

The library's recorder commits each ``insert_events`` call on its own, holding an EXCLUSIVE
table lock through the commit, so writers queue behind each other's fsync. Here the calls that
arrive while a commit is in flight wait in a queue, and the next commit takes all of them.

Who commits: the callers themselves (leader/follower), not a dedicated thread. A caller that
finds nobody committing commits its own command at once on its own thread, so a lone writer
pays no thread hand-off and no linger. While a leader commits, later callers queue; when the
leader's batch is done it promotes the oldest queued caller to lead the next batch, wakes its
first follower (each follower wakes the next as it resumes) and returns. Each caller waits for
at most the batch in flight plus its own, and no thread outlives the callers, so there is
nothing to start, stop or supervise. A dedicated committer would add two thread switches to
every lone command and buy nothing: under the GIL the committer thread competes for the
interpreter like any caller.

A batch is one call of a PL/pgSQL function (created beside the table) in one transaction:
lock the table EXCLUSIVE (once per batch), find which commands claim an (originator_id,
originator_version) already stored, insert the others with ids assigned explicitly after the
newest stored id, move the id sequence along, NOTIFY, commit. Commands clashing with an
earlier command of the batch (or with themselves) are dropped in Python before the call. A
dropped command alone fails, with ``IntegrityError``; ids are drawn from the newest stored id,
not from ``nextval``, so no id is burned by a refused command or a failed batch: the log stays
gap-free, and commit order is id order. Moving the sequence along lets the library's own
recorder (which uses ``nextval``) share the table.

Why one function call: with 32 writers on this 2-core machine the process is bound by Python
CPU under the GIL, and the leader's share of it delays every follower. psycopg's pipeline and
transaction machinery costs ~0.3 ms of CPU per batch, one autocommit statement ~0.07 ms
(measured; figures in ``bench/write_path.py``). The function is created by ``create_table``
like the table itself, so a deployment with CREATE_TABLE=no must create it too.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, cast
from uuid import UUID

import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Connection, Cursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier, Literal

from stratus.db import SCHEMA_LOCK_KEY
from stratus.store.arrays import ByteaArray, Int4Array, Int8Array, TextArray, UuidArray
from stratus.store.recommit import insert_once

# Bounds one transaction; a burst bigger than this is committed in several batches.
MAX_BATCH_EVENTS = 2000

# Most specific first: psycopg's error classes nest, the library's persistence ones mirror them.
_ERROR_TRANSLATIONS: tuple[tuple[type[Exception], type[Exception]], ...] = (
    (psycopg.InterfaceError, persistence.InterfaceError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.InternalError, persistence.InternalError),
    (psycopg.ProgrammingError, persistence.ProgrammingError),
    (psycopg.NotSupportedError, persistence.NotSupportedError),
    (psycopg.DatabaseError, persistence.DatabaseError),
    (psycopg.Error, persistence.PersistenceError),
)

# PL/pgSQL caches its plans. A plan made while the table was small could scan it in full for
# ever after, so the function forbids table scans and hash/merge joins: every lookup probes the
# primary-key or notification-id index, whatever the size. (Planning afresh on each call
# would also work, but costs more server time than the whole insert.)
_APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    ids {id_type}[], versions bigint[], topics text[], states bytea[], commands integer[]
) RETURNS TABLE (first_id bigint, refused integer[])
LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $body$
DECLARE
    newest bigint;
    inserted bigint;
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
    IF inserted > 0 THEN
        PERFORM setval(pg_get_serial_sequence({qualified_table}, 'notification_id'),
                       newest + inserted);
        NOTIFY {channel};
    END IF;
    first_id := newest + 1;
    RETURN NEXT;
END;
$body$
"""


class _Command:
    """One ``insert_events`` call waiting in the queue, and what became of it."""

    __slots__ = ("_wakeup", "error", "events", "ids", "leads", "prepared", "relay")

    def __init__(self, events: Sequence[StoredEvent], prepared: Any = None) -> None:
        self.events = events
        # What the recorder computed from the events on the caller's own thread, before it
        # queued: work done here is off the leader's path, which every batch waits on.
        self.prepared = prepared
        self.ids: list[int] | None = None
        self.error: BaseException | None = None
        self.leads = False
        # The next follower of the same batch, which this one wakes once it is awake itself.
        self.relay: _Command | None = None
        # A bare lock, held from birth, is the cheapest one-shot wake-up a thread can block on.
        self._wakeup = threading.Lock()
        self._wakeup.acquire()

    @property
    def settled(self) -> bool:
        return self.ids is not None or self.error is not None

    def wait(self) -> None:
        self._wakeup.acquire()

    def wake(self) -> None:
        self._wakeup.release()

    def pass_on(self) -> None:
        """Wake the next follower of this batch: one thread at a time queues for the GIL."""
        if self.relay is not None:
            self.relay.wake()

    def outcome(self) -> list[int]:
        if self.error is not None:
            raise self.error
        assert self.ids is not None
        return self.ids


@contextmanager
def schema_lock(datastore: PostgresDatastore) -> Iterator[None]:
    """Hold the schema lock while the store's tables, types and functions are created.

    Every process creates (or replaces) them when it opens the store. Processes started
    together would race, and PostgreSQL refuses the losers ("tuple concurrently updated", or a
    duplicate type); migrations take the same lock.
    """
    with datastore.get_connection() as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


class GroupCommitRecorder(PostgresApplicationRecorder):
    """An application recorder that commits concurrent commands together, each all-or-nothing.

    Subclasses that chain hashes set ``extends_hash_chain`` and override ``_extend_hash_chain``.
    """

    extends_hash_chain: ClassVar[bool] = False

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._lock = threading.Lock()
        self._queue: deque[_Command] = deque()
        self._leading = False
        self._conn: Connection[Any] | None = None
        # One cursor per connection held, kept across batches: a new cursor builds its result
        # loaders afresh (the array one is costly), ~60 us of the leader's CPU per batch.
        self._curs: Cursor[Any] | None = None
        self._append_query: bytes | None = None
        self.batches_committed = 0
        self.commands_committed = 0
        # Server processes that committed for this recorder: their NOTIFYs are this process's
        # own commits, whose listeners were called already (with the notifications).
        self.writer_pids: set[int] = set()
        self._uuid_ids = self.datastore.originator_id_type.lower() == "uuid"
        function = f"{self.events_table_name}_group_append"
        self.check_identifier_length(function)
        self.sql_create_statements.append(self._append_function_sql(function))
        self._append_sql = SQL(
            "SELECT first_id, refused FROM {0}.{1}"
            "(%b::{2}[], %b::bigint[], %b::text[], %b::bytea[], %b::integer[])"
        ).format(
            Identifier(self.datastore.schema),
            Identifier(function),
            SQL(self.datastore.originator_id_type),
        )

    def create_table(self) -> None:
        with schema_lock(self.datastore):
            super().create_table()

    @property
    def waiting(self) -> int:
        """How many commands are queued for the next batch (not counting the one in flight)."""
        return len(self._queue)

    def _append_function_sql(self, function: str) -> Composed:
        schema, table = self.datastore.schema, self.events_table_name
        return SQL(_APPEND_FUNCTION).format(
            schema=Identifier(schema),
            table=Identifier(table),
            function=Identifier(function),
            id_type=SQL(self.datastore.originator_id_type),
            lock_timeout=Literal(f"{self.datastore.lock_timeout}s"),
            qualified_table=Literal(Identifier(schema, table).as_string()),
            channel=Identifier(self.channel_name),
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        prepared = self._prepare(stored_events)
        # A batch cut off by a lost connection is retried; one that had committed is known
        # by its stored bytes (stratus/store/recommit.py).
        return insert_once(self, stored_events, lambda: self._insert(stored_events, prepared))

    def _insert(self, stored_events: Sequence[StoredEvent], prepared: Any) -> list[int]:
        command = _Command(stored_events, prepared)
        with self._lock:
            self._queue.append(command)
            command.leads = not self._leading
            self._leading = True
        if not command.leads:
            command.wait()
            command.pass_on()
        if not command.settled:
            # Woken without an outcome: the previous leader handed this caller the next batch.
            self._lead(command)
        return command.outcome()

    def _lead(self, own: _Command) -> None:
        batch = self._take_batch()
        try:
            self._commit(batch)
        except BaseException as error:  # every waiter must hear of it, whatever it is
            failure = _translate(error)
            for command in batch:
                if not command.settled:
                    command.error = failure
                    failure = _copy_for_another_caller(failure)
        finally:
            # Promote the next leader before waking followers, so the next batch is on its
            # way to the server while the followers' threads compete for the interpreter.
            try:
                self._hand_over()
            finally:
                _wake_in_turn([command for command in batch if command is not own])

    def _take_batch(self) -> list[_Command]:
        batch: list[_Command] = []
        size = 0
        with self._lock:
            while self._queue and (
                not batch or size + len(self._queue[0].events) <= MAX_BATCH_EVENTS
            ):
                command = self._queue.popleft()
                batch.append(command)
                size += len(command.events)
        return batch

    def _hand_over(self) -> None:
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.leads = True
                successor.wake()
                return
            self._leading = False
            idle_connection, self._conn = self._conn, None
        # Nobody is waiting: give the connection back rather than hold it through idle time.
        if idle_connection is not None:
            self.datastore.pool.putconn(idle_connection)

    def _commit(self, batch: list[_Command]) -> None:
        candidates = _reject_duplicates_within(batch)
        if not candidates:
            return
        conn = self._connection()
        self.writer_pids.add(conn.info.backend_pid)
        try:
            first_id, refused = self._write(conn, candidates)
        except BaseException:
            # The connection may be broken or mid-transaction; the pool checks and replaces it.
            self._conn = None
            self.datastore.pool.putconn(conn)
            raise
        next_id = first_id
        for index, command in enumerate(candidates):
            if index in refused:
                command.error = _already_stored(command)
                continue
            command.ids = list(range(next_id, next_id + len(command.events)))
            next_id += len(command.events)
        self.batches_committed += 1
        self.commands_committed += len(candidates) - len(refused)

    def _connection(self) -> Connection[Any]:
        if self._conn is None or self._conn.closed:
            timeout = self.datastore.pool_open_timeout or 30.0
            self.datastore.pool.open(self.datastore.pool_open_timeout is not None, timeout)
            self._conn = self.datastore.pool.getconn()
        return self._conn

    def _cursor(self, conn: Connection[Any]) -> Cursor[Any]:
        if self._curs is None or self._curs.connection is not conn or self._curs.closed:
            self._curs = conn.cursor(row_factory=tuple_row)
        return self._curs

    def _write(self, conn: Connection[Any], candidates: list[_Command]) -> tuple[int, set[int]]:
        """Record the batch in one transaction; the first id given and the commands refused."""
        params = self._append_params(candidates)
        curs = self._cursor(conn)
        if self._append_query is None:
            # Composed once: psycopg would compose (quote and join) it again on every execute.
            self._append_query = self._append_sql.as_bytes(conn)
        if not self.extends_hash_chain:
            # The connection is in autocommit: this one statement is the whole transaction.
            return self._appended(curs.execute(self._append_query, params, prepare=True))
        with conn.transaction():
            first_id, refused = self._appended(
                curs.execute(self._append_query, params, prepare=True)
            )
            kept = [e for i, c in enumerate(candidates) if i not in refused for e in c.events]
            ids = list(range(first_id, first_id + len(kept)))
            self._extend_hash_chain(curs, kept, ids)
        return first_id, refused

    def _prepare(self, events: Sequence[StoredEvent]) -> Any:
        """Per-command work a subclass does on the caller's thread (none here)."""
        return None

    def _appended(self, curs: Cursor[Any]) -> tuple[int, set[int]]:
        """The append statement's answer: the first id given and the commands refused."""
        row = curs.fetchone()
        assert row is not None
        first_id, refused = row[0], row[1]
        return first_id, set(refused)

    def _append_params(self, candidates: list[_Command]) -> tuple[Any, ...]:
        """The arrays the append statement takes (a chained subclass adds its own)."""
        events = [event for command in candidates for event in command.events]
        ids = [e.originator_id for e in events]
        return (
            UuidArray(cast(list[UUID], ids))
            if self._uuid_ids
            else TextArray([str(i) for i in ids]),
            Int8Array([e.originator_version for e in events]),
            TextArray([e.topic for e in events]),
            ByteaArray([e.state for e in events]),
            Int4Array([index for index, command in enumerate(candidates) for _ in command.events]),
        )

    def _extend_hash_chain(
        self, curs: Cursor[Any], events: list[StoredEvent], ids: list[int]
    ) -> None:
        """The seam for the tamper-evident hash chain over stored bytes (a no-op for now).

        Runs only when the class sets ``extends_hash_chain``, once per batch inside its
        transaction, after the events are inserted and before the commit, with the batch's
        stored events in notification-id order and their ids (``ids[i]`` is the id of
        ``events[i]``; ``ids[0] - 1`` is the newest id before the batch; both are empty when
        every command was refused). The table lock is held, so the previous link can be read
        and the new links written through ``curs`` without racing another writer. Raising
        here rolls the whole batch back and every caller in it receives the error. Without
        the flag a batch is a single autocommit statement, one round trip cheaper.

        The chain Stratus keeps (``stratus.store.chain``) does not use this seam: the explicit
        transaction and the extra statement cost 13-14% of group commit's throughput at 3
        events per command (``bench/write_path.py``), so it swaps ``_append_sql`` for a function
        that appends and chains in the same single statement, hashing each command's events in
        ``_prepare`` and passing the hashes through ``_append_params`` and ``_appended``.
        """


def _wake_in_turn(followers: list[_Command]) -> None:
    """Wake the first follower; each wakes the next as it resumes (see ``_Command.pass_on``).

    Waking a whole batch at once sets ~18 threads fighting for the GIL, and the losers' futile
    wake-ups cost more CPU than the commands themselves (measured in ``bench/write_path.py``).
    """
    for command, successor in itertools.pairwise(followers):
        command.relay = successor
    if followers:
        followers[0].wake()


def _already_stored(command: _Command) -> IntegrityError:
    versions = ", ".join(f"{e.originator_id} v{e.originator_version}" for e in command.events)
    return IntegrityError(f"another command already recorded one of: {versions}")


def _reject_duplicates_within(batch: list[_Command]) -> list[_Command]:
    """Fail each command claiming a version an earlier command of the batch (or itself) claims."""
    everything = [(e.originator_id, e.originator_version) for c in batch for e in c.events]
    if len(set(everything)) == len(everything):
        return batch  # the usual case, found with one set instead of one per command
    claimed: set[tuple[Any, int]] = set()
    candidates = []
    for command in batch:
        keys = {(e.originator_id, e.originator_version) for e in command.events}
        clash = len(keys) < len(command.events) or not claimed.isdisjoint(keys)
        if clash:
            command.error = IntegrityError(
                "another command of the same batch records the same aggregate version"
            )
            continue
        claimed |= keys
        candidates.append(command)
    return candidates


def _translate(error: BaseException) -> BaseException:
    """The library's persistence error for a psycopg one, as its own recorder would raise."""
    for source, target in _ERROR_TRANSLATIONS:
        if isinstance(error, source):
            translated = target(str(error))
            translated.__cause__ = error
            return translated
    return error


def _copy_for_another_caller(error: BaseException) -> BaseException:
    """A twin of a batch's error, so callers in different threads never share one traceback."""
    try:
        twin = type(error)(*error.args)
    except Exception:
        return error
    twin.__cause__ = error.__cause__
    return twin
