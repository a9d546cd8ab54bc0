"""Commits retried after a lost connection, recognised when the first try had in fact landed.

A connection can drop after PostgreSQL committed a command's events but before the answer
reached us (a restart, a failover, a network cut). The commit is then retried on a new
connection, and the database refuses it: those aggregate versions are taken. Taken by whom is
the question: if every event stored at those versions is byte for byte the one this command
sent, the first try committed and the command is done; its notification ids are the ones
stored. Anything else is a real conflict, reported as one.

Only a retry after a connection failure is checked (a first try refused is always a conflict),
and the events compared are the very bytes sent, so a command can never be mistaken for
another: a different command's events differ at least in their ids and timestamps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from psycopg.sql import SQL, Identifier

log = logging.getLogger(__name__)

# Enough tries to ride out a database restart (about 6.5 s of waiting in all).
ATTEMPTS = 10
FIRST_WAIT = 0.1
LONGEST_WAIT = 1.0

_STORED = (
    "SELECT originator_id, originator_version, topic, state, notification_id FROM {0}.{1} "
    "WHERE (originator_id, originator_version) IN "
    "(SELECT * FROM unnest(%s::{2}[], %s::bigint[]))"
)


def insert_once(
    recorder: Any,
    events: Sequence[StoredEvent],
    insert: Callable[[], Sequence[int] | None],
) -> Sequence[int] | None:
    """Run `insert`, retrying when the connection fails; a retry refused because the first try
    committed answers the ids that try was given."""
    uncertain = False
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return insert()
        except IntegrityError:
            ids = stored_ids(recorder, events) if uncertain else None
            if ids is None:
                raise
            log.warning("a commit retried after a lost connection had landed; ids %s", ids)
            return ids
        except (InterfaceError, OperationalError):
            if attempt == ATTEMPTS:
                raise
            uncertain = True
            time.sleep(min(LONGEST_WAIT, FIRST_WAIT * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")


def stored_ids(recorder: Any, events: Sequence[StoredEvent]) -> list[int] | None:
    """The notification ids of `events` if every one of them is stored exactly as given."""
    datastore = recorder.datastore
    query = SQL(_STORED).format(
        Identifier(datastore.schema),
        Identifier(recorder.events_table_name),
        SQL(datastore.originator_id_type),
    )
    ids = [e.originator_id for e in events]
    versions = [e.originator_version for e in events]
    with datastore.get_connection() as conn, conn.cursor() as curs:
        rows = curs.execute(query, (ids, versions)).fetchall()
    stored = {
        (str(r["originator_id"]), r["originator_version"]): (r["topic"], bytes(r["state"]), r)
        for r in rows
    }
    found = []
    for event in events:
        match = stored.get((str(event.originator_id), event.originator_version))
        if match is None or match[:2] != (event.topic, bytes(event.state)):
            return None
        found.append(int(match[2]["notification_id"]))
    return found
