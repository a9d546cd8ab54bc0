"""The Stratus event store: one eventsourcing Application, one ordered notification log for all."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import Mapper, RecordConflictError, Recording, Transcoder
from eventsourcing.utils import Environment, get_topic

from domain.errors import ConcurrencyConflict, NotFound
from stratus.settings import Settings
from stratus.store.audit import AuditingMapper
from stratus.store.secrets import SecretBox, load_or_create_key
from stratus.store.transcoder import OrjsonTranscoder

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
        settings.data_dir.mkdir(parents=True, exist_ok=True)
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


class EventStore(Application):
    """All aggregates of one cloud, saved into one log whose order every reader follows."""

    name = STORE_NAME

    def __init__(self, settings: Settings, box: SecretBox | None = None) -> None:
        self.settings = settings
        self.box = box or SecretBox(load_or_create_key(settings))
        # Called after every commit made by this process: wakes the runner and the relay at
        # once instead of at their next poll. Other processes learn of commits by NOTIFY.
        self.commit_listeners: list[Callable[[], None]] = []
        super().__init__(env=library_env(settings))

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Only our settings configure the library: a stray PERSISTENCE_MODULE in the
        # environment must not silently move the event store somewhere else.
        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder(self.box)

    def construct_mapper(self) -> Mapper:
        return AuditingMapper(transcoder=self.construct_transcoder())

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Record the pending events of the given aggregates (or events) in one transaction.

        As the library's ``save``, but aggregates of the library's own classes are collected
        directly: its generic path checks each object against runtime protocols, which costs
        more per command (~8 us) than the mapper spends on an event.
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)
        if recordings:
            for listener in self.commit_listeners:
                listener()
        return recordings

    @property
    def dialect(self) -> str:
        return "sqlite" if self.settings.postgres is None else "postgres"

    def get(self, aggregate_class: type[A], aggregate_id: UUID, *, what: str = "") -> A:
        """Load an aggregate, or raise NotFound naming what was asked for."""
        try:
            aggregate = self.repository.get(aggregate_id)
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
        """
        limit = attempts or self.settings.command_retries
        for number in range(1, limit + 1):
            try:
                return attempt()
            except RecordConflictError:
                log.debug("conflicting save, attempt %d of %d", number, limit)
        raise ConcurrencyConflict(
            "The resource was changed by another request at the same time; try again"
        )

    def last_position(self, recordings: list[Any]) -> int:
        """The notification position a caller must wait for to read its own write."""
        ids = [r.notification.id for r in recordings if r.notification.id is not None]
        return max(ids) if ids else 0
