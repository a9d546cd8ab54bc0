"""The event store on both backends: encoding, sealed secrets, upcasting, retries, bad settings."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.errors import ConcurrencyConflict
from domain.values import Secret
from entrypoint.installation import open_runtime
from stratus.settings import ConfigurationError, Settings, parse_database_url
from stratus.store.application import EventStore
from stratus.store.audit import acting, meta_of


class Hypervisor(Aggregate):
    """A test aggregate whose Created event is on version 2.

    Version 1 stored `address` only; version 2 splits it into `host` and `port`. Stored version-1
    events are never rewritten: the upcaster converts them as they are read.
    """

    class Created(Aggregate.Created):
        class_version = 2
        host: str
        port: int
        password: Secret
        weight: Decimal
        seen: datetime
        tags: tuple[str, ...]
        owner: UUID

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            host, _, port = state.pop("address").partition(":")
            state["host"], state["port"] = host, int(port or 443)

    @event(Created)
    def __init__(
        self,
        host: str,
        port: int,
        password: Secret,
        weight: Decimal,
        seen: datetime,
        tags: tuple[str, ...],
        owner: UUID,
    ) -> None:
        self.host, self.port, self.password = host, port, password
        self.weight, self.seen, self.tags, self.owner = weight, seen, tags, owner

    @event("Moved")
    def move(self, host: str) -> None:
        self.host = host


def _store(settings: Settings) -> EventStore:
    runtime = open_runtime(settings, projections=[])
    runtime.db.close()
    return runtime.store


def test_values_round_trip_and_secrets_are_sealed_at_rest(settings: Settings) -> None:
    store = _store(settings)
    owner, seen = uuid4(), datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
    hv = Hypervisor(
        "kvm1", 16509, Secret("hunter2-very-secret"), Decimal("1.50"), seen, ("a", "b"), owner
    )
    store.save(hv)
    again = store.repository.get(hv.id)
    assert (again.port, again.weight, again.seen, again.tags, again.owner) == (
        16509,
        Decimal("1.50"),
        seen,
        ("a", "b"),
        owner,
    )
    assert again.password.reveal() == "hunter2-very-secret"
    assert "hunter2" not in repr(again.password)
    raw = b"".join(n.state for n in store.recorder.select_notifications(1, 100))
    assert b"hunter2" not in raw and b"kvm1" in raw
    store.close()


def test_events_remember_who_acted(settings: Settings) -> None:
    store = _store(settings)
    hv = Hypervisor("h", 1, Secret("s"), Decimal(0), datetime.now(UTC), (), uuid4())
    with acting(user_id="u-1", command="addHost", request_id="r-9", remote_address="10.1.1.1"):
        store.save(hv)
    (notification,) = store.recorder.select_notifications(1, 10)
    meta = meta_of(store.mapper.to_domain_event(notification))
    assert meta["user_id"] == "u-1" and meta["command"] == "addHost"
    assert meta["request_id"] == "r-9" and meta["remote_address"] == "10.1.1.1"
    store.close()


def test_save_takes_aggregates_and_bare_events_alike(settings: Settings) -> None:
    store = _store(settings)
    first = Hypervisor("a", 1, Secret("s"), Decimal(0), datetime.now(UTC), (), uuid4())
    second = Hypervisor("b", 2, Secret("s"), Decimal(0), datetime.now(UTC), (), uuid4())
    (created,) = second.collect_events()
    recordings = store.save(first, None, created)
    assert [r.notification.id for r in recordings] == [1, 2]
    assert store.repository.get(second.id).host == "b"
    assert store.save(first) == []
    store.close()


def test_version_one_events_are_upcast_when_read_and_never_rewritten(settings: Settings) -> None:
    store = _store(settings)
    aggregate_id = uuid4()
    state = {
        "originator_topic": get_topic(Hypervisor),
        "address": "xen.example.org:8443",
        "password": Secret("pw"),
        "weight": Decimal(2),
        "seen": datetime.now(UTC),
        "tags": ("old",),
        "owner": uuid4(),
        "timestamp": datetime.now(UTC),
    }
    old = StoredEvent(
        aggregate_id, 1, get_topic(Hypervisor.Created), store.mapper.transcoder.encode(state)
    )
    store.recorder.insert_events([old])
    loaded = store.repository.get(aggregate_id)
    assert (loaded.host, loaded.port) == ("xen.example.org", 8443)
    loaded.move("xen2.example.org")
    store.save(loaded)
    first = store.recorder.select_notifications(1, 1)[0]
    assert b"address" in first.state and b"class_version" not in first.state
    store.close()


def test_concurrent_updates_of_one_aggregate_are_retried_until_they_all_land(
    settings: Settings,
) -> None:
    store = _store(settings)
    hv = Hypervisor("h", 1, Secret("s"), Decimal(0), datetime.now(UTC), (), uuid4())
    store.save(hv)

    def bump(index: int) -> None:
        def attempt() -> None:
            current = store.repository.get(hv.id)
            current.move(f"host-{index}")
            store.save(current)

        store.run(attempt, attempts=50)

    threads = [threading.Thread(target=bump, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.repository.get(hv.id).version == 9
    store.close()


@pytest.mark.postgres
def test_connections_the_server_dropped_are_replaced_without_failing_a_command(
    postgres_settings: Settings,
) -> None:
    """Connections are not pinged before each use: one the server closed fails its first
    statement, and the store retries on a new connection."""
    settings = postgres_settings
    store = _store(settings)
    first = Hypervisor("h", 1, Secret("s"), Decimal(0), datetime.now(UTC), (), uuid4())
    store.save(first)
    assert settings.postgres is not None
    schema = settings.postgres.schema
    with psycopg.connect(settings.postgres.conninfo, autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND query LIKE %s",
            (f"%{schema}%",),
        ).fetchone()
    assert dropped is not None and dropped[0] >= 1
    second = Hypervisor("h2", 2, Secret("t"), Decimal(1), datetime.now(UTC), (), uuid4())
    store.save(second)
    first.move("elsewhere")
    store.save(first)
    fresh = _store(settings)
    assert fresh.repository.get(second.id).host == "h2"
    assert fresh.repository.get(first.id).host == "elsewhere"
    fresh.close()
    store.close()


@pytest.mark.postgres
def test_processes_opening_a_new_store_together_all_open_it(postgres_settings: Settings) -> None:
    """Every process creates (or replaces) the store's tables and functions when it opens the
    store; opened at the same moment, none of them may fail ("tuple concurrently updated")."""
    failures: list[BaseException] = []
    stores: list[EventStore] = []
    assert postgres_settings.postgres is not None
    with psycopg.connect(postgres_settings.postgres.conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{postgres_settings.postgres.schema}"')

    def open_one() -> None:
        try:
            stores.append(EventStore(postgres_settings))
        except BaseException as error:  # reported below, with the others
            failures.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert not failures, failures
    assert len(stores) == 6


def test_a_conflict_that_never_resolves_is_reported(sqlite_settings: Settings) -> None:
    store = _store(sqlite_settings)
    hv = Hypervisor("h", 1, Secret("s"), Decimal(0), datetime.now(UTC), (), uuid4())
    store.save(hv)

    def attempt() -> None:
        mine = store.repository.get(hv.id)
        theirs = store.repository.get(hv.id)
        theirs.move("theirs")
        store.save(theirs)  # another writer always gets there first
        mine.move("mine")
        store.save(mine)

    with pytest.raises(ConcurrencyConflict):
        store.run(attempt, attempts=3)
    assert store.repository.get(hv.id).host == "theirs"
    store.close()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"STRATUS_DATABASE_URL": "mysql://x/y"}, "STRATUS_DATABASE_URL"),
        ({"STRATUS_DATABASE_URL": "postgresql://h:notaport/db"}, "STRATUS_DATABASE_URL"),
        ({"STRATUS_NATS_URL": "http://x"}, "STRATUS_NATS_URL"),
        ({"STRATUS_SECRET_KEY": "not base64!"}, "STRATUS_SECRET_KEY"),
        ({"STRATUS_SECRET_KEY": "c2hvcnQ="}, "STRATUS_SECRET_KEY"),
        ({"POSTGRES_HOST": "db"}, "POSTGRES_DBNAME"),
        ({"STRATUS_COMMAND_RETRIES": "many"}, "STRATUS_COMMAND_RETRIES"),
        ({"STRATUS_CPUS": "first"}, "STRATUS_CPUS"),
        ({"STRATUS_CPUS": "3-1"}, "STRATUS_CPUS"),
        ({"STRATUS_CPUS": "100000"}, "STRATUS_CPUS: CPU 100000 is not among"),
    ],
)
def test_bad_settings_name_what_is_wrong(tmp_path, environ: dict, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        settings = Settings.from_env(dict(environ, STRATUS_DATA=str(tmp_path)))
        open_runtime(settings)


def test_an_unreachable_database_is_one_clear_line(tmp_path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secret_key=None,
        postgres=parse_database_url("postgresql://nobody@127.0.0.1:1/none"),
    )
    with pytest.raises(ConfigurationError, match="cannot connect to PostgreSQL"):
        open_runtime(settings)


def test_a_key_file_readable_by_others_is_refused(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    _store(settings).close()
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "secret.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="0600"):
        _store(settings)


def test_the_wrong_key_cannot_read_sealed_secrets(tmp_path) -> None:
    import base64

    first = Settings(data_dir=tmp_path, secret_key=base64.b64encode(b"a" * 32).decode())
    store = _store(first)
    hv = Hypervisor("h", 1, Secret("s"), Decimal(0), datetime.now(UTC), (), uuid4())
    store.save(hv)
    store.close()
    wrong = Settings(data_dir=tmp_path, secret_key=base64.b64encode(b"b" * 32).decode())
    with pytest.raises(ConfigurationError, match="sealed with key"):
        _store(wrong)  # refused when it opens the store, before it answers anything
    other = EventStore(wrong)  # a store opened without that check still cannot read them
    with pytest.raises(Exception, match=r"sealed with key .* which this process does not hold"):
        other.repository.get(hv.id)
    other.close()
