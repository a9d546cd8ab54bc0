"""Projections: read models that follow the notification log, and the runner that drives them.

A projection owns some tables (created by migrations) and handles some event classes. The runner
reads the log after the projection's position and applies a batch of events and the new position
in ONE transaction, so a projection stopped anywhere resumes exactly where its last commit left it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from stratus.db import UNREACHABLE, Cursor, Database
from stratus.handoff import Handoff

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any, Cursor, "Tables"], None]


def on(*event_classes: type) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a projection method as the handler of these event classes."""

    def mark(method: Callable[..., None]) -> Callable[..., None]:
        method.__handles__ = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class Tables:
    """Physical names of a projection's tables: the live ones, or the shadows of a rebuild."""

    def __init__(self, names: Iterable[str], suffix: str = "") -> None:
        self._names = {name: name + suffix for name in names}

    def __getattr__(self, name: str) -> str:
        try:
            return self._names[name]
        except KeyError:
            raise AttributeError(name) from None

    def items(self) -> Iterable[tuple[str, str]]:
        return self._names.items()


class Projection:
    """Base of every read model. Subclasses set `name`, `summary` and `tables` and mark handlers
    with @on."""

    name: ClassVar[str]
    summary: ClassVar[str] = ""  # what it keeps, as `stratus projections --help` says it
    tables: ClassVar[tuple[str, ...]] = ()
    _handlers: ClassVar[dict[str, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attribute, member in vars(klass).items():
                for event_class in getattr(member, "__handles__", ()):
                    handlers[get_topic(event_class)] = attribute
        cls._handlers = handlers

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def apply(self, event: Any, topic: str, cursor: Cursor, tables: Tables) -> None:
        getattr(self, self._handlers[topic])(event, cursor, tables)

    def reset(self, cursor: Cursor, tables: Tables) -> None:
        """Hook for projections that keep state outside their tables (none by default)."""

    @classmethod
    def built(cls, seal: Callable[[str], str]) -> Projection:
        """A fresh instance for an installation whose store seals secrets with `seal`; read
        models that keep a secret take it, the others ignore it."""
        return cls()


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int
    generation: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class EventSource:
    """What a runner needs from the event store: read notifications, decode, know the head."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def read(self, after: int, limit: int) -> Sequence[Notification]:
        return self._store.recorder.select_notifications(after, limit, inclusive_of_start=False)

    def decode(self, notification: Notification) -> Any:
        return self._store.mapper.to_domain_event(notification)

    def head(self) -> int:
        return self._store.recorder.max_notification_id() or 0


def now_text() -> str:
    return datetime.now(UTC).isoformat()


def read_position(
    cursor: Cursor, name: str, *, lock: bool = False, ensure: bool = True
) -> tuple[int, int]:
    """(position, generation) of a projection, creating its row on first use (`ensure`)."""
    if ensure:
        cursor.execute(
            "INSERT INTO projection_positions (name, position, generation, updated_at) "
            "VALUES (%s, 0, 1, %s) ON CONFLICT (name) DO NOTHING",
            (name, now_text()),
        )
    suffix = " FOR UPDATE" if lock and cursor.dialect == "postgres" else ""
    row = cursor.execute(
        "SELECT position, generation FROM projection_positions WHERE name = %s" + suffix,
        (name,),
    ).fetchone()
    assert row is not None
    return int(row["position"]), int(row["generation"])


def write_position(cursor: Cursor, name: str, position: int) -> None:
    cursor.execute(
        "UPDATE projection_positions SET position = %s, updated_at = %s WHERE name = %s",
        (position, now_text(), name),
    )


def advance_position(cursor: Cursor, name: str, position: int) -> None:
    """Move a position forward in one statement; a position already further stays."""
    cursor.execute(
        "UPDATE projection_positions SET position = %s, updated_at = %s "
        "WHERE name = %s AND position < %s",
        (position, now_text(), name, position),
    )


def lock_positions(cursor: Cursor, names: Sequence[str]) -> dict[str, int]:
    """The positions of several projections in one statement, their rows locked (PostgreSQL)
    in name order, the order every joint step takes them in."""
    marks = ", ".join(["%s"] * len(names))
    suffix = " ORDER BY name FOR UPDATE" if cursor.dialect == "postgres" else ""
    rows = cursor.execute(
        f"SELECT name, position FROM projection_positions WHERE name IN ({marks}){suffix}",
        list(names),
    ).fetchall()
    return {row["name"]: int(row["position"]) for row in rows}


def write_positions(cursor: Cursor, names: Sequence[str], position: int) -> None:
    marks = ", ".join(["%s"] * len(names))
    cursor.execute(
        f"UPDATE projection_positions SET position = %s, updated_at = %s WHERE name IN ({marks})",
        [position, now_text(), *names],
    )


def apply_notifications(
    projection: Projection,
    source: EventSource,
    notifications: Sequence[Notification],
    cursor: Cursor,
    tables: Tables,
) -> None:
    """Apply a batch inside the caller's transaction; events nobody handles are not decoded."""
    topics = projection.topics
    for notification in notifications:
        if notification.topic in topics:
            event = source.decode(notification)
            projection.apply(event, notification.topic, cursor, tables)


class ReadModelFailing(Exception):
    """Read models this process applies cannot reach a position: their handler fails on an
    event before it. Retrying goes on; waiting for them would only run out the clock."""

    def __init__(self, names: Sequence[str], position: int) -> None:
        super().__init__(f"read models {', '.join(names)} fail before event {position}")
        self.names = tuple(names)
        self.position = position


class _Moved(Exception):
    """A projection's position changed under a joint step (another process advanced it)."""


@dataclass(frozen=True)
class Prefetch:
    """Notifications after `after`, read once for every projection at that position."""

    after: int
    notifications: Sequence[Notification]


class ProjectionRunner:
    """Drives projections forward: one batch, one transaction, rows and position together."""

    def __init__(
        self,
        source: EventSource,
        db: Database,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.05,
    ) -> None:
        self.source = source
        self.db = db
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.wait_poll_interval = 0.002
        self._advanced = threading.Condition()
        self._wakeup = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures: dict[str, str] = {}
        # read models whose handler fails on the event after this position (the database
        # being unreachable is not such a failure: it passes by itself)
        self.stuck: dict[str, int] = {}
        self._known: dict[str, int] = {}  # positions this runner last saw, to skip idle work
        self.handoff = Handoff()
        self._heard = 0  # the newest position this process committed and woke the runner for

    def step(self, name: str, prefetched: Prefetch | None = None) -> int:
        """Apply the next batch to one projection; returns how many notifications it consumed.

        `prefetched` is a batch another projection at the same position already read.
        """
        projection = self.projections[name]
        tables = Tables(projection.tables)
        with self.db.transaction(durable=False) as cursor:
            position, _ = read_position(cursor, name, lock=True, ensure=name not in self._known)
            if prefetched is not None and prefetched.after == position:
                notifications = prefetched.notifications
            else:
                notifications = self.source.read(position, self.batch_size)
            if notifications:
                apply_notifications(projection, self.source, notifications, cursor, tables)
                write_position(cursor, name, notifications[-1].id)
        self._known[name] = notifications[-1].id if notifications else position
        if notifications:
            with self._advanced:
                self._advanced.notify_all()
        return len(notifications)

    def catch_up(self, names: Iterable[str] | None = None, *, report_every: float = 5.0) -> None:
        """Run every projection (or the named ones) until it has read the whole log.

        A read model behind by more than a batch is logged as it starts, then every
        `report_every` seconds with its position, and once when all are caught up.
        """
        started = reported = time.monotonic()
        head, behind = 0, False
        for name in list(names or self.projections):
            while consumed := self.step(name):
                now = time.monotonic()
                if consumed == self.batch_size and not behind:
                    head, behind = self.source.head(), True
                    log.info("catching up the read models to event %d", head)
                if behind and now - reported >= report_every:
                    log.info("read model %s: at event %d of %d", name, self._known[name], head)
                    reported = now
        if behind:
            log.info("read models caught up in %.1f s", time.monotonic() - started)

    def positions(self) -> dict[str, int]:
        with self.db.read() as cursor:
            rows = cursor.execute("SELECT name, position FROM projection_positions").fetchall()
        return {row["name"]: int(row["position"]) for row in rows}

    def wait_for(self, position: int, timeout: float, names: Iterable[str] | None = None) -> bool:
        """Block until the projections have applied the log up to `position` (bounded).

        While this process runs the runner, what it committed is known here: the wait ends on
        its signal without asking the database. The positions table is still read at every
        poll interval, for the case where another process is the one applying. A wanted read
        model that this runner finds failing before `position` ends the wait at once
        (`ReadModelFailing`) rather than at the deadline.
        """
        wanted = list(names or self.projections)
        deadline = time.monotonic() + timeout
        polled = time.monotonic() if self.running else None
        while True:
            if self._applied(wanted, position):
                return True
            failing = self.failing(wanted, position)
            if failing:
                raise ReadModelFailing(failing, position)
            if polled is None or time.monotonic() - polled >= self.wait_poll_interval:
                if self._read_positions_reach(wanted, position):
                    return True
                polled = time.monotonic() if self.running else None
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if position > self._heard:  # a commit the runner was not told of: tell it
                self._wakeup.set()
            with self._advanced:
                # Checked under the lock the runner notifies under: no signal is missed.
                if self._applied(wanted, position):
                    return True
                self._advanced.wait(min(self.wait_poll_interval, left))

    def _read_positions_reach(self, wanted: list[str], position: int) -> bool:
        """Whether the positions table shows every wanted read model at `position`. A database
        that cannot be reached just now answers "not yet": the wait is for a commit that has
        happened, so it goes on until its deadline rather than turn the commit into an error."""
        try:
            current = self.positions()
        except UNREACHABLE as error:
            log.info("positions unreadable while waiting for %d: %s", position, error)
            return False
        return all(current.get(name, 0) >= position for name in wanted)

    def failing(self, names: Iterable[str], position: int) -> list[str]:
        """The read models among `names` whose handler fails on an event up to `position`."""
        stuck = self.stuck
        return [name for name in names if stuck.get(name, position) < position]

    def known(self, name: str) -> int:
        """The position this process's runner last applied read model `name` to (-1: none)."""
        return self._known.get(name, -1)

    def wait_past(self, name: str, position: int, timeout: float) -> bool:
        """Block until this process's runner applies read model `name` past `position`
        (bounded); False at once when the runner does not run in this process."""
        if not self.running:
            return False
        deadline = time.monotonic() + timeout
        with self._advanced:
            while self._known.get(name, -1) <= position:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._advanced.wait(left)
        return True

    def _applied(self, names: list[str], position: int) -> bool:
        known = self._known
        return all(known.get(name, -1) >= position for name in names)

    @property
    def running(self) -> bool:
        """Whether this process's runner thread is applying the log."""
        return self._thread is not None and self._thread.is_alive()

    def consistent(self, timeout: float) -> bool:
        """Wait until every read model has reached what the most advanced one shows (each
        one that does not fail on the way).

        Read models advance independently; a client that saw a job finish in one must not
        then read an older state from another.
        """
        current = self.positions()
        position = max((current.get(name, 0) for name in self.projections), default=0)
        deadline = time.monotonic() + timeout
        while True:
            # A read model failing on the way is left out: the others still answer, and the
            # failing one is reported by the health check and the server log.
            healthy = [name for name in self.projections if not self.failing([name], position)]
            try:
                return self.wait_for(position, max(0.0, deadline - time.monotonic()), healthy)
            except ReadModelFailing:
                continue

    def wake(self) -> None:
        """Tell the runner there is something new (in-process writers call this after a save)."""
        self._wakeup.set()

    def committed(self, notifications: Sequence[Notification] | None) -> None:
        """A commit: this process's own (its notifications, handed over) or another's (None).
        A process whose runner does not run (an API process) keeps nothing for it."""
        if notifications and self.running:
            self.handoff.offer(notifications)
            self._heard = max(self._heard, notifications[-1].id)
        self._wakeup.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wakeup.clear()
            busy = self._round()
            if not busy:
                self._wakeup.wait(self.poll_interval)

    def _round(self) -> bool:
        """Step every projection that is behind; projections at one position share a read.

        The batch after the lowest known position is read first (or taken from what this
        process committed, when that continues it): when it is empty every projection is at
        the head and the round costs that one query; when it is short its last id is taken for
        the head, which says who is behind (a projection further on waits for the next round),
        and the projections at that position apply it without reading it again.
        """
        known = self._known
        lowest = min((known.get(name, -1) for name in self.projections), default=-1)
        handed = self.handoff.take(lowest, self.batch_size) if lowest >= 0 else []
        try:
            first = handed or (self.source.read(lowest, self.batch_size) if lowest >= 0 else None)
        except Exception:  # a process boundary: the database may be briefly unreachable
            log.exception("cannot read the log; retrying")
            return False
        if first is not None and not first:
            return False
        head = self._head_after(first)
        groups: dict[int, list[str]] = {}
        for name in self.projections:
            at = known.get(name, -1)
            if head is None or at < head:
                groups.setdefault(at, []).append(name)
        busy = False
        for after, names in groups.items():
            prefetched = Prefetch(after, first) if after == lowest and first else None
            if prefetched is None and after >= 0:
                prefetched = self._prefetch(after)
            if prefetched is not None and len(names) > 1 and self._joint_step(prefetched, names):
                busy = True
                continue
            for name in names:
                busy = self._guarded_step(name, prefetched) or busy
        if handed and len(handed) < self.batch_size and head is not None:
            # Caught up with what this process committed: anything newer comes with a wake-up
            # (a commit here, or another process's NOTIFY), so no read to find nothing.
            return busy and any(known.get(name, -1) < head for name in self.projections)
        return busy

    def _prefetch(self, after: int) -> Prefetch | None:
        try:
            return Prefetch(after, self.source.read(after, self.batch_size))
        except Exception:  # each step then reads for itself, and fails on its own
            return None

    def _head_after(self, first: Sequence[Notification] | None) -> int | None:
        """The head of the log: a batch shorter than asked for ends at it; otherwise ask."""
        if first and len(first) < self.batch_size:
            return first[-1].id
        try:
            return self.source.head()
        except Exception:  # stepping every projection reads its own position instead
            log.exception("cannot read the head of the log; retrying")
            return None

    def _joint_step(self, prefetched: Prefetch, names: list[str]) -> bool:
        """Apply one batch to several projections at one position in a single transaction.

        The common case after a write: one commit instead of one per read model. Any surprise
        (a position moved, a handler failed) rolls it all back and the caller steps them one by
        one, so a broken read model never holds the others back.
        """
        after, notifications = prefetched.after, prefetched.notifications
        if not notifications:
            return False
        try:
            with self.db.transaction(pipelined=True, durable=False) as cursor:
                positions = lock_positions(cursor, names)
                for name in names:
                    if positions.get(name) != after:
                        raise _Moved(name)
                    projection = self.projections[name]
                    tables = Tables(projection.tables)
                    apply_notifications(projection, self.source, notifications, cursor, tables)
                write_positions(cursor, names, notifications[-1].id)
        except Exception:  # fall back to stepping each read model on its own
            return False
        for name in names:
            self._known[name] = notifications[-1].id
        with self._advanced:
            self._advanced.notify_all()
        return True

    def _guarded_step(self, name: str, prefetched: Prefetch | None = None) -> bool:
        try:
            consumed = self.step(name, prefetched)
        except Exception as error:  # a process boundary: log, keep the others going, retry later
            if self.failures.get(name) != repr(error):
                log.exception("projection %s failed; it will be retried", name)
            self.failures[name] = repr(error)
            if not isinstance(error, UNREACHABLE):
                self.stuck[name] = self._known.get(name, -1)
            with self._advanced:  # a waiter for this read model learns it now, not at its deadline
                self._advanced.notify_all()
            return False
        self.failures.pop(name, None)
        self.stuck.pop(name, None)
        return consumed > 0

    def status(self) -> list[Status]:
        head = self.source.head()
        with self.db.read() as cursor:
            rows = cursor.execute(
                "SELECT name, position, generation FROM projection_positions"
            ).fetchall()
        known = {row["name"]: row for row in rows}
        return [
            Status(
                name,
                int(known[name]["position"]) if name in known else 0,
                head,
                int(known[name]["generation"]) if name in known else 1,
            )
            for name in self.projections
        ]
