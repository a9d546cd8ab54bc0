"""API throttling (4.3's api.throttling.*): requests per account per interval, counted in one
table of the shared database, so every API process counts against the same limit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from api.errors import ApiLimitReached

ENABLED, INTERVAL, MAX = "api.throttling.enabled", "api.throttling.interval", "api.throttling.max"


@dataclass(frozen=True)
class Window:
    """An account's count in its current window."""

    issued: int
    allowed: int  # how many more it may issue in the window
    expires_in_ms: int


@dataclass(frozen=True)
class Throttling:
    enabled: bool
    interval: float  # seconds
    limit: int


def throttling(db: Any) -> Throttling:
    """The settings as operators set them (one query: this runs before every request)."""
    with db.read() as cursor:
        rows = cursor.execute(
            "SELECT name, value FROM configuration_values WHERE name IN (%s, %s, %s) "
            "AND scope = 'global' AND scope_id = ''",
            (ENABLED, INTERVAL, MAX),
        ).fetchall()
    found = {r["name"]: r["value"] for r in rows}
    return Throttling(
        found.get(ENABLED, "false") == "true",
        float(found.get(INTERVAL, "1")),
        int(found.get(MAX, "25")),
    )


def count_request(db: Any, account_id: str) -> None:
    """Count one request of the account; refuse it (429) past the limit of its window."""
    terms = throttling(db)
    if not terms.enabled:
        return
    now = time.time()
    with db.transaction() as cursor:
        row = cursor.execute(
            "INSERT INTO api_counts (account_id, window_start, issued) VALUES (%s, %s, 1) "
            "ON CONFLICT (account_id) DO UPDATE SET "
            "issued = CASE WHEN api_counts.window_start <= %s THEN 1 "
            "ELSE api_counts.issued + 1 END, "
            "window_start = CASE WHEN api_counts.window_start <= %s THEN excluded.window_start "
            "ELSE api_counts.window_start END "
            "RETURNING issued, window_start",
            (account_id, now, now - terms.interval, now - terms.interval),
        ).fetchone()
    if int(row["issued"]) > terms.limit:
        left = _expires_in_ms(float(row["window_start"]), terms.interval, now)
        raise ApiLimitReached(
            f"This account has reached its API limit of {terms.limit} requests per "
            f"{terms.interval:g} s; retry after {left} ms"
        )


def window(db: Any, account_id: str) -> Window:
    """The account's count as it stands (nothing counted in a window that has ended)."""
    terms, now = throttling(db), time.time()
    with db.read() as cursor:
        row = cursor.execute(
            "SELECT issued, window_start FROM api_counts WHERE account_id = %s", (account_id,)
        ).fetchone()
    if row is None or float(row["window_start"]) <= now - terms.interval:
        return Window(0, terms.limit, int(terms.interval * 1000))
    issued = int(row["issued"])
    left = _expires_in_ms(float(row["window_start"]), terms.interval, now)
    return Window(issued, max(terms.limit - issued, 0), left)


def reset(db: Any, account_id: str | None) -> None:
    with db.transaction() as cursor:
        if account_id is None:
            cursor.execute("DELETE FROM api_counts")
        else:
            cursor.execute("DELETE FROM api_counts WHERE account_id = %s", (account_id,))


def _expires_in_ms(start: float, interval: float, now: float) -> int:
    return max(int((start + interval - now) * 1000), 0)
