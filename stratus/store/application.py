"""The Stratus event store: one eventsourcing Application, one ordered notification log for all."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import (
    Mapper,
    Notification,
    RecordConflictError,
    Recording,
    Transcoder,
)
from eventsourcing.utils import Environment, get_topic

from domain.errors import ConcurrencyConflict, NotFound
from stratus.datadir import private_file
from stratus.settings import Settings
from stratus.store.audit import AuditingMapper
from stratus.store.contention import Turns, pause
from stratus.store.ledgers import followed_ledgers
from stratus.store.repository import SharedCacheRepository
from stratus.store.secrets import SecretBox, box_for, load_or_create_key
from stratus.store.transcoder import OrjsonTranscoder
from stratus.telemetry import Telemetry

log = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A")

STORE_NAME = "stratus"


def library_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing library's own settings, derived from ours (and nothing else)."""
    # Every recorder extends the tamper-evident hash chain (stratus/store/chain.py) in the
    # transaction that inserts the events.
    from stratus.store import chain

    # Aggregates stay in memory between commands; every load still reads the events saved
    # since (by any process) and hands the command a deep copy, so the cache is never stale
    # and a failed command cannot corrupt it. Long-lived aggregates (hosts, VMs, settings)
    # then cost one small query instead of a replay of their whole history.
    cache = (
        {"AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache)}
        if settings.aggregate_cache
        else {}
    )
    if settings.postgres is None:
        private_file(settings.sqlite_path)
        return {
            **cache,
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": get_topic(chain.ChainedSQLiteRecorder),
        }
    pg = settings.postgres
    env = {
        **cache,
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": pg.dbname,
        "POSTGRES_HOST": pg.host,
        "POSTGRES_PORT": str(pg.port),
        "POSTGRES_USER": pg.user,
        "POSTGRES_PASSWORD": pg.password,
        "POSTGRES_SCHEMA": pg.schema,
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "40",
        "POSTGRES_PRE_PING": "n",
    }
    recorder = chain.ChainedGroupCommitRecorder if settings.group_commit else None
    env["APPLICATION_RECORDER_TOPIC"] = get_topic(recorder or chain.ChainedPostgresRecorder)
    return env


@dataclass
class Rider:
    """An aggregate whose pending events go with the next save made in its block."""

    aggregate: Any
    events: list[Any] = field(default_factory=list)
    saved: bool = False


class EventStore(Application):
    """All aggregates of one cloud, saved into one log whose order every reader follows."""

    name = STORE_NAME

    def __init__(self, settings: Settings, box: SecretBox | None = None) -> None:
        self.settings = settings
        self.box = box or box_for(settings, load_or_create_key(settings))
        # Called after every commit made by this process, with the notifications it recorded:
        # wakes the runner, and the relay when there is work to publish, at once instead of at
        # their next poll, and hands them what they would otherwise read back
        # (stratus/handoff.py). Other processes' commits come by NOTIFY (as None).
        self.commit_listeners: list[Callable[[Sequence[Notification] | None], None]] = []
        self._riders = threading.local()
        self._turns = Turns()
        self.telemetry: Telemetry | None = None  # the process's, when it measures (runtime)
        super().__init__(env=library_env(settings))

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Only our settings configure the library: a stray PERSISTENCE_MODULE in the
        # environment must not silently move the event store somewhere else.
        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder(self.box)

    def construct_mapper(self) -> Mapper:
        return AuditingMapper(transcoder=self.construct_transcoder())

    def construct_repository(self) -> Repository[UUID]:
        # The library's own repository, but copies from its cache are taken under the
        # aggregate's lock, and a command loading a contended aggregate takes its turn first:
        # commands run on many threads (stratus/store/repository.py).
        library = super().construct_repository()
        return SharedCacheRepository(
            self._turns,
            event_store=library.event_store,
            snapshot_store=library.snapshot_store,
            cache_maxsize=self.settings.aggregate_cache or None,
            fastforward=library.fastforward,
            fastforward_skipping=library.fastforward_skipping,
            deepcopy_from_cache=library.deepcopy_from_cache,
        )

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Record the pending events of the given aggregates (or events) in one transaction.

        As the library's ``save``, but aggregates of the library's own classes are collected
        directly: its generic path checks each object against runtime protocols, which costs
        more per command (~8 us) than the mapper spends on an event.
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        riders = [r for r in getattr(self._riders, "waiting", ()) if not r.saved]
        for rider in riders:
            processing_event.events.extend(rider.events)
            processing_event.aggregates[rider.aggregate.id] = rider.aggregate
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        for ledger in followed_ledgers(
            self.get, processing_event.aggregates, processing_event.events
        ):
            processing_event.events.extend(ledger.collect_events())
            processing_event.aggregates[ledger.id] = ledger
        processing_event.saved_kwargs.update(kwargs)
        started = time.perf_counter()
        try:
            recordings = self._record(processing_event)
        except RecordConflictError:
            self._turns.contended(processing_event.aggregates)
            raise
        if self.telemetry is not None:
            self.telemetry.committed(time.perf_counter() - started, len(recordings))
        for rider in riders:
            rider.saved = True
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)
        if recordings:
            notifications = [r.notification for r in recordings]
            for listener in self.commit_listeners:
                listener(notifications)
        return recordings

    @contextmanager
    def alongside(self, aggregate: Any) -> Iterator[Rider]:
        """Record `aggregate`'s pending events in the transaction of the next save this thread
        makes inside the block, ahead of that save's own events.

        A job and the work it asks for are then one commit: one wait for the read models, one
        step of the relay. A save that conflicts and is retried takes them again; whether they
        went is `saved` (the block's owner saves them itself when nothing else did). Until
        then `get` finds the aggregate as it is here, so the work can load and change it.
        """
        rider = Rider(aggregate, list(aggregate.collect_events()))
        waiting: list[Rider] = self._riders.__dict__.setdefault("waiting", [])
        waiting.append(rider)
        try:
            yield rider
        finally:
            waiting.remove(rider)

    def _rider(self, aggregate_id: UUID) -> Any:
        for rider in getattr(self._riders, "waiting", ()):
            if not rider.saved and rider.aggregate.id == aggregate_id:
                return copy.deepcopy(rider.aggregate)
        return None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.settings.postgres is None else "postgres"

    def get(self, aggregate_class: type[A], aggregate_id: UUID, *, what: str = "") -> A:
        """Load an aggregate, or raise NotFound naming what was asked for.

        An aggregate riding along with this thread's next save is found too (as a copy).
        """
        try:
            aggregate = self._rider(aggregate_id) or self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(
                f"Unable to find {what or aggregate_class.__name__} with id {aggregate_id}",
                resource_ids=(str(aggregate_id),),
            ) from None
        if not isinstance(aggregate, aggregate_class):
            raise NotFound(
                f"Unable to find {what or aggregate_class.__name__} with id {aggregate_id}",
                resource_ids=(str(aggregate_id),),
            )
        return aggregate

    def head(self) -> int:
        """The position of the newest event in the notification log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def run(self, attempt: Callable[[], T], *, attempts: int | None = None) -> T:
        """Run a command attempt, reloading and retrying when another writer got there first.

        ``attempt`` must load what it needs afresh each time it is called and save at the end.
        An aggregate once refused is contended: from then on the attempts of this process
        that load it take turns on it (stratus/store/contention.py).
        """
        limit = attempts or self.settings.command_retries
        needed: set[Any] = set()  # the contended aggregates the command loaded so far
        for number in range(1, limit + 1):
            try:
                with self._turns.attempt(needed) as turns:
                    return attempt()
            except RecordConflictError:
                log.debug("conflicting save, attempt %d of %d", number, limit)
            needed |= turns.ids
            time.sleep(pause(number))
        raise ConcurrencyConflict(
            "The resource was changed by another request at the same time; try again"
        )

    def last_position(self, recordings: list[Any]) -> int:
        """The notification position a caller must wait for to read its own write."""
        ids = [r.notification.id for r in recordings if r.notification.id is not None]
        return max(ids) if ids else 0
