"""Webhooks: HTTP endpoints an operator registers to receive the event feed.

Registrations live in the `webhooks` table (migration 0180) with the signing secret sealed by
the installation's key, like every other secret; the secret is opened only in the process that
signs. Each endpoint has its own follower and position, so a slow or unreachable endpoint delays
only itself. A delivery is a POST of the entry's JSON; any 2xx answer acknowledges it, anything
else (or no answer within the timeout) is retried with growing delays, the next entry waiting.

Signature: ``X-Stratus-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the
endpoint's secret, where ``<timestamp>`` is the ``X-Stratus-Timestamp`` header (Unix seconds).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from stratus.db import Cursor
from stratus.feed import Entry
from stratus.projection import now_text

SIGNATURE_HEADER = "X-Stratus-Signature"
TIMESTAMP_HEADER = "X-Stratus-Timestamp"
SEQUENCE_HEADER = "X-Stratus-Sequence"
TYPE_HEADER = "X-Stratus-Event-Type"


class WebhookError(Exception):
    """A registration cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    """One registered endpoint, its secret opened."""

    name: str
    url: str
    secret: str = field(repr=False)
    event_types: frozenset[str] = frozenset()  # empty: every type
    timeout: float = 10.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def check_registration(name: str, url: str, secret: str) -> None:
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise WebhookError("a webhook name may hold only letters, digits, '-' and '_'")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"the webhook URL must be http:// or https:// with a host: {url!r}")
    if len(secret) < 16:
        raise WebhookError("the webhook secret must be at least 16 characters")


class WebhookSink:
    """The `Sink` posting entries to one endpoint."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.name = f"webhook:{endpoint.name}"

    async def resume_after(self) -> int:
        return 0  # an endpoint cannot be asked: the recorded position is all there is

    def wants(self, entry: Entry) -> bool:
        types = self.endpoint.event_types
        return not types or entry["type"] in types

    async def deliver(self, entry: Entry, body: bytes) -> None:
        await asyncio.to_thread(self._post, entry, body)

    def _post(self, entry: Entry, body: bytes) -> None:
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "stratus-events",
                TIMESTAMP_HEADER: timestamp,
                SEQUENCE_HEADER: str(entry["sequence"]),
                TYPE_HEADER: entry["type"],
                SIGNATURE_HEADER: signature(self.endpoint.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.endpoint.timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as error:
            raise ConnectionError(f"{self.endpoint.name} answered HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ConnectionError(f"{self.endpoint.name} unreachable: {reason}") from None


# The registry, on the `webhooks` table.


def add(cursor: Cursor, registration: Endpoint, sealed_secret: str, *, start_after: int) -> None:
    """Register an endpoint that receives the entries after log sequence `start_after`."""
    check_registration(registration.name, registration.url, registration.secret)
    found = cursor.execute(
        "SELECT name FROM webhooks WHERE name = %s", (registration.name,)
    ).fetchone()
    if found is not None:
        raise WebhookError(f"a webhook named {registration.name!r} exists; remove it first")
    cursor.execute(
        "INSERT INTO webhooks (name, url, sealed_secret, event_types, created) "
        "VALUES (%s, %s, %s, %s, %s)",
        (
            registration.name,
            registration.url,
            sealed_secret,
            ",".join(sorted(registration.event_types)),
            now_text(),
        ),
    )
    position = f"feed:webhook:{registration.name}"
    cursor.execute("DELETE FROM projection_positions WHERE name = %s", (position,))
    cursor.execute(
        "INSERT INTO projection_positions (name, position, generation, updated_at) "
        "VALUES (%s, %s, 1, %s)",
        (position, start_after, now_text()),
    )


def remove(cursor: Cursor, name: str) -> bool:
    """Unregister an endpoint and forget its position; whether it was registered."""
    gone = cursor.execute("DELETE FROM webhooks WHERE name = %s", (name,)).rowcount > 0
    cursor.execute("DELETE FROM projection_positions WHERE name = %s", (f"feed:webhook:{name}",))
    return gone


def registered(cursor: Cursor) -> list[dict[str, Any]]:
    """Every registration with its delivery position, the secret left sealed."""
    rows = cursor.execute(
        "SELECT w.name, w.url, w.sealed_secret, w.event_types, w.created, p.position "
        "FROM webhooks AS w LEFT JOIN projection_positions AS p "
        "ON p.name = 'feed:webhook:' || w.name ORDER BY w.name"
    ).fetchall()
    return [dict(row) for row in rows]


def types_of(text: str) -> frozenset[str]:
    return frozenset(t.strip() for t in text.split(",") if t.strip())


def endpoints(rows: Sequence[dict[str, Any]], open_secret: Any) -> list[Endpoint]:
    """The endpoints of `registered` rows, their secrets opened with `open_secret`."""
    return [
        Endpoint(
            name=row["name"],
            url=row["url"],
            secret=open_secret(row["sealed_secret"]),
            event_types=types_of(row["event_types"]),
        )
        for row in rows
    ]
