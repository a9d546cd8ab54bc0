"""The opened parts of an installation: settings → database → migrations → event store → runner.

Which read models the runner keeps is the caller's to say (`entrypoint.installation` gives the
product's); this layer knows no read model, command or API of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg

from stratus.db import Database, open_database
from stratus.migrate import migrate
from stratus.projection import EventSource, Projection, ProjectionRunner
from stratus.settings import ConfigurationError, Settings, Unavailable
from stratus.store.application import EventStore
from stratus.store.data_key import store_key
from stratus.store.secrets import SecretBox, box_for
from stratus.telemetry import Telemetry

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The opened parts of one installation, shared by every role a process plays."""

    settings: Settings
    db: Database
    store: EventStore
    runner: ProjectionRunner
    telemetry: Telemetry = field(default_factory=Telemetry)  # this process's measurements

    def __post_init__(self) -> None:
        self.store.telemetry = self.telemetry  # the store times its commits into it

    @property
    def source(self) -> EventSource:
        return self.runner.source

    def close(self) -> None:
        self.runner.stop()
        self.store.close()
        self.db.close()


def open_parts(
    settings: Settings,
    projections: Callable[[EventStore], Sequence[Projection]],
    *,
    migrate_now: bool = True,
) -> Runtime:
    """Open everything, turning the expected failures into one-line configuration errors.

    `projections` makes the read models the runner keeps, for the opened store.
    """
    db = open_db(settings)
    try:
        if migrate_now:
            migrate(db, settings.postgres.schema if settings.postgres else None)
        store = _open_store(settings, box_for(settings, store_key(settings, db)))
    except BaseException:
        db.close()
        raise
    runner = ProjectionRunner(EventSource(store), db, list(projections(store)))
    store.commit_listeners.append(runner.committed)
    return Runtime(settings, db, store, runner)


def store_exists(settings: Settings) -> bool:
    """Whether the store was ever made (its migrations table exists); creates nothing."""
    if settings.postgres is None:
        return settings.sqlite_path.is_file()
    db = open_db(settings)
    try:
        with db.read() as cursor:
            row = cursor.execute("SELECT to_regclass(%s) AS found", ("stratus_migrations",))
            found = row.fetchone()
    finally:
        db.close()
    return bool(found and found["found"])


def open_db(settings: Settings) -> Database:
    try:
        return open_database(settings)
    except psycopg.Error as error:
        raise Unavailable(f"cannot connect to PostgreSQL: {_first_line(error)}") from None


def _open_store(settings: Settings, box: SecretBox) -> EventStore:
    try:
        return EventStore(settings, box)
    except ConfigurationError:
        raise
    except (psycopg.Error, OSError) as error:
        where = settings.postgres.host if settings.postgres else settings.sqlite_path
        raise Unavailable(f"cannot open the event store at {where}: {_first_line(error)}") from None
    except Exception as error:
        if type(error).__module__.startswith("eventsourcing"):
            raise ConfigurationError(f"cannot open the event store: {_first_line(error)}") from None
        raise


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
