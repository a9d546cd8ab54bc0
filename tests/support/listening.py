"""Whether some PostgreSQL session has issued LISTEN on a channel: the condition a test waits on
before it commits something a listener must hear."""

from __future__ import annotations

import psycopg


def listening(conninfo: str, channel: str) -> bool:
    """True once a session's latest statement is `LISTEN "<channel>"` (it then stays listening)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = %s", (f'LISTEN "{channel}"',)
        ).fetchone()
    return bool(row and row[0])
