"""The usage read model: the billing run's state, its raw usage (spans) and the usage records.

Written only by the billing run (billing/billing.py), inside its transactions; read by
listUsageRecords and `stratus usage verify`. Records carry owner ids; names and domain paths
come from the identity read models when listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from domain.usage_ledger import Attrs, Head, Ledger, Span, attrs_of
from domain.usage_periods import Period
from stratus.db import Cursor
from stratus.projection import now_text

OPEN_END = 2**62  # the end of a span still open: an index on end_ms finds it like any other
NAME = "usage"


def attrs_text(attrs: Attrs) -> str:
    return orjson.dumps(dict(attrs), option=orjson.OPT_SORT_KEYS).decode()


def attrs_from(text: str) -> Attrs:
    return attrs_of(orjson.loads(text))


@dataclass
class BillingState:
    position: int = 0
    origin_ms: int | None = None
    billed_until_ms: int | None = None
    reopen_from_ms: int | None = None
    raw_horizon_ms: int | None = None
    last_success: str | None = None
    last_error: str | None = None


def lock_state(cursor: Cursor) -> BillingState:
    """The billing state, its row locked until the transaction ends (PostgreSQL)."""
    cursor.execute(
        "INSERT INTO usage_billing (name, position, updated_at) VALUES (%s, 0, %s) "
        "ON CONFLICT (name) DO NOTHING",
        (NAME, now_text()),
    )
    lock = " FOR UPDATE" if cursor.dialect == "postgres" else ""
    return read_state(cursor, lock)


def read_state(cursor: Cursor, lock: str = "") -> BillingState:
    row = cursor.execute("SELECT * FROM usage_billing WHERE name = %s" + lock, (NAME,)).fetchone()
    if row is None:
        return BillingState()
    return BillingState(
        int(row["position"]),
        row["origin_ms"],
        row["billed_until_ms"],
        row["reopen_from_ms"],
        row["raw_horizon_ms"],
        row["last_success"],
        row["last_error"],
    )


def save_state(cursor: Cursor, state: BillingState) -> None:
    cursor.execute(
        "UPDATE usage_billing SET position = %s, origin_ms = %s, billed_until_ms = %s, "
        "reopen_from_ms = %s, raw_horizon_ms = %s, last_success = %s, last_error = %s, "
        "updated_at = %s WHERE name = %s",
        (
            state.position,
            state.origin_ms,
            state.billed_until_ms,
            state.reopen_from_ms,
            state.raw_horizon_ms,
            state.last_success,
            state.last_error,
            now_text(),
            NAME,
        ),
    )


def note_error(cursor: Cursor, error: str) -> None:
    cursor.execute(
        "UPDATE usage_billing SET last_error = %s, updated_at = %s WHERE name = %s",
        (error, now_text(), NAME),
    )


# The ledger ----------------------------------------------------------------------------


def _span(row: dict[str, Any]) -> Span:
    head = (
        int(row["usage_type"]),
        row["usage_id"],
        row["sub"],
        row["account_id"],
        row["domain_id"],
        row["zone_id"],
        row["name"],
        attrs_from(row["attrs"]),
    )
    end = None if row["end_ms"] == OPEN_END else int(row["end_ms"])
    amount = None if row["amount"] is None else int(row["amount"])
    return Span(head, int(row["start_ms"]), end, amount, stored=True)


def load_ledger(cursor: Cursor) -> Ledger:
    """The stored ledger: identities, open spans and settings, ready to fold more events."""
    ledger = Ledger(track=True)
    for row in cursor.execute("SELECT id, identity FROM usage_resources").fetchall():
        ledger.resources[row["id"]] = orjson.loads(row["identity"])
    rows = cursor.execute("SELECT * FROM usage_spans WHERE end_ms = %s", (OPEN_END,)).fetchall()
    for row in rows:
        ledger.restore_open(_span(row))
    for row in cursor.execute("SELECT * FROM usage_settings ORDER BY seq").fetchall():
        ledger.settings.append((int(row["at_ms"]), row["name"], row["value"]))
    first = cursor.execute("SELECT min(start_ms) AS first FROM usage_spans").fetchone()
    ledger.first = first["first"] if first and first["first"] is not None else None
    return ledger


_INSERT_SPAN = (
    "INSERT INTO usage_spans (usage_type, usage_id, sub, start_ms, end_ms, amount, account_id, "
    "domain_id, zone_id, name, attrs) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (usage_type, usage_id, sub, start_ms, attrs) DO UPDATE SET "
    "end_ms = excluded.end_ms, amount = excluded.amount"
)
_WHERE_SPAN = "usage_type = %s AND usage_id = %s AND sub = %s AND start_ms = %s AND attrs = %s"


def save_ledger(cursor: Cursor, ledger: Ledger) -> None:
    """Write what changed since the ledger was loaded or last saved, then forget it."""
    changed = {id(span): span for span in [*ledger.opened, *ledger.closed]}
    inserts, updates, deletes = [], [], []
    for span in changed.values():
        key = (*span.head[:3], span.start, attrs_text(span.head[7]))
        empty = span.end is not None and span.end <= span.start and span.amount is None
        if span.stored:
            if empty:
                deletes.append(key)
            else:
                updates.append((OPEN_END if span.end is None else span.end, *key))
        elif not empty:
            end = OPEN_END if span.end is None else span.end
            inserts.append((*key[:4], end, span.amount, *span.head[3:7], key[4]))
            span.stored = True
    if deletes:
        cursor.executemany(f"DELETE FROM usage_spans WHERE {_WHERE_SPAN}", deletes)
    if updates:
        cursor.executemany(f"UPDATE usage_spans SET end_ms = %s WHERE {_WHERE_SPAN}", updates)
    if inserts:
        cursor.executemany(_INSERT_SPAN, inserts)
    _save_identities(cursor, ledger)
    _save_settings(cursor, ledger)
    ledger.mark()


def _save_identities(cursor: Cursor, ledger: Ledger) -> None:
    rows = [
        (resource_id, orjson.dumps(ledger.resources[resource_id]).decode())
        for resource_id in sorted(ledger.touched)
    ]
    if rows:
        cursor.executemany(
            "INSERT INTO usage_resources (id, identity) VALUES (%s, %s) "
            "ON CONFLICT (id) DO UPDATE SET identity = excluded.identity",
            rows,
        )


def _save_settings(cursor: Cursor, ledger: Ledger) -> None:
    if not ledger.settings_added:
        return
    row = cursor.execute("SELECT count(*) AS n FROM usage_settings").fetchone()
    seq = int(row["n"]) if row else 0
    cursor.executemany(
        "INSERT INTO usage_settings (at_ms, seq, name, value) VALUES (%s, %s, %s, %s)",
        [(at, seq + i, name, value) for i, (at, name, value) in enumerate(ledger.settings_added)],
    )


def spans_during(cursor: Cursor, start: int, end: int) -> list[Span]:
    """Every span (open or closed) that overlaps [start, end), or a count within it."""
    rows = cursor.execute(
        "SELECT * FROM usage_spans WHERE end_ms >= %s AND start_ms < %s "
        "ORDER BY usage_type, usage_id, sub, start_ms, attrs",
        (start, end),
    ).fetchall()
    return [_span(row) for row in rows]


def prune_spans(cursor: Cursor, before: int) -> int:
    """Remove closed spans that ended before `before`; how many went."""
    cursor.execute("DELETE FROM usage_spans WHERE end_ms < %s", (before,))
    return max(cursor.rowcount, 0)


# The records ---------------------------------------------------------------------------


def write_records(cursor: Cursor, records: Iterable[tuple[Period, Head, int]]) -> int:
    rows = [
        (
            period[0],
            period[1],
            period[2],
            head[0],
            head[1],
            head[2],
            attrs_text(head[7]),
            head[3] or "",
            head[4],
            head[5],
            head[6],
            quantity,
        )
        for period, head, quantity in records
    ]
    if rows:
        cursor.executemany(
            "INSERT INTO usage_records (start_ms, end_ms, timezone, usage_type, usage_id, sub, "
            "attrs, account_id, domain_id, zone_id, name, quantity) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (start_ms, usage_type, usage_id, sub, attrs, account_id) DO NOTHING",
            rows,
        )
    return len(rows)


def delete_records_from(cursor: Cursor, start: int) -> int:
    """Withdraw the records of periods that end after `start` (they are made again)."""
    cursor.execute("DELETE FROM usage_records WHERE end_ms > %s", (start,))
    return max(cursor.rowcount, 0)


def record_of(row: dict[str, Any]) -> tuple[Period, Head, int]:
    head = (
        int(row["usage_type"]),
        row["usage_id"],
        row["sub"],
        row["account_id"] or None,
        row["domain_id"],
        row["zone_id"],
        row["name"],
        attrs_from(row["attrs"]),
    )
    return (int(row["start_ms"]), int(row["end_ms"]), row["timezone"]), head, int(row["quantity"])


def all_records(cursor: Cursor) -> list[tuple[Period, Head, int]]:
    rows = cursor.execute("SELECT * FROM usage_records").fetchall()
    return [record_of(row) for row in rows]


@dataclass(frozen=True)
class RecordQuery:
    """listUsageRecords' filters, already checked against the caller's reach."""

    first: int
    last: int
    usage_type: int | None = None
    account_id: str | None = None
    domain_path: str | None = None
    subtree: bool = False
    offset: int = 0
    limit: int | None = None


_FROM = (
    " FROM usage_records r LEFT JOIN accounts a ON a.id = r.account_id "
    "LEFT JOIN domains d ON d.id = r.domain_id"
)


def _where(query: RecordQuery) -> tuple[str, list[Any]]:
    clauses, params = ["r.start_ms >= %s", "r.end_ms - 1 <= %s"], [query.first, query.last]
    if query.usage_type is not None:
        clauses.append("r.usage_type = %s")
        params.append(query.usage_type)
    if query.account_id is not None:
        clauses.append("r.account_id = %s")
        params.append(query.account_id)
    if query.domain_path is not None and query.subtree:
        clauses.append("substr(d.path, 1, %s) = %s")
        params += [len(query.domain_path), query.domain_path]
    elif query.domain_path is not None:
        clauses.append("d.path = %s")
        params.append(query.domain_path)
    return " WHERE " + " AND ".join(clauses), params


def find_records(cursor: Cursor, query: RecordQuery) -> tuple[list[dict[str, Any]], int]:
    """A page of records, newest period first, with owner names; and how many match."""
    where, params = _where(query)
    total = cursor.execute("SELECT count(*) AS n" + _FROM + where, params).fetchone()
    page = ""
    if query.limit is not None:
        page = " LIMIT %s OFFSET %s"
        params = [*params, query.limit, query.offset]
    rows = cursor.execute(
        "SELECT r.*, a.name AS account_name, d.name AS domain_name"
        + _FROM
        + where
        + " ORDER BY r.start_ms DESC, r.usage_type, r.usage_id, r.sub, r.attrs, r.account_id"
        + page,
        params,
    ).fetchall()
    return rows, int(total["n"]) if total else 0
