"""Commits whose answer is lost with the connection: done once, known as done, never twice."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import OperationalError

from stratus.settings import Settings, parse_database_url
from stratus.store import recommit
from stratus.store.application import EventStore
from tests.support.app import running_app
from tests.support.cutting_proxy import CuttingProxy

if not os.environ.get("STRATUS_TEST_POSTGRES_URL"):
    pytest.skip("STRATUS_TEST_POSTGRES_URL is not set", allow_module_level=True)

pytestmark = pytest.mark.postgres

TEST_KEY = base64.b64encode(b"c" * 32).decode()


class Order(Aggregate):
    """A test aggregate: an order and its lines."""

    @event("Placed")
    def __init__(self, item: str) -> None:
        self.lines = [item]

    @event("LineAdded")
    def add(self, item: str) -> None:
        self.lines.append(item)


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[CuttingProxy]:
    target = parse_database_url(postgres_url)
    running = CuttingProxy(target.host, target.port)
    yield running
    running.close()


@pytest.fixture(params=["group commit", "one commit per command"])
def settings(
    request: pytest.FixtureRequest, fresh_schema_url: str, proxy: CuttingProxy, tmp_path: Path
) -> Settings:
    direct = parse_database_url(fresh_schema_url)
    return Settings(
        data_dir=tmp_path,
        postgres=replace(direct, host="127.0.0.1", port=proxy.port),
        secret_key=TEST_KEY,
        group_commit=request.param == "group commit",
    )


def _stored_rows(settings: Settings, order: Order) -> list[tuple[int, int]]:
    pg = settings.postgres
    assert pg is not None
    with psycopg.connect(parse_database_url(os.environ["STRATUS_TEST_POSTGRES_URL"]).conninfo) as c:
        return c.execute(
            f'SELECT originator_version, notification_id FROM "{pg.schema}".stratus_events '
            "WHERE originator_id = %s ORDER BY originator_version",
            (order.id,),
        ).fetchall()


def _insert_marker(store: EventStore) -> bytes:
    """Bytes only the statement that records events sends."""
    return b"_append" if store.settings.group_commit else b"INSERT INTO"


def test_a_commit_whose_answer_was_lost_is_known_as_done_and_stored_once(
    settings: Settings, proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    store = EventStore(settings)
    try:
        order = Order("tea")
        order.add("milk")
        proxy.cut_after(_insert_marker(store))
        with caplog.at_level(logging.WARNING, logger=recommit.__name__):
            recordings = store.save(order)
        assert proxy.cuts == 1
        assert "had landed" in caplog.text  # the retry met the first try's commit
        ids = [r.notification.id for r in recordings]
        assert _stored_rows(settings, order) == [(1, ids[0]), (2, ids[1])]
        assert store.repository.get(order.id).lines == ["tea", "milk"]
    finally:
        store.close()


def test_an_outage_fails_the_commit_with_a_connection_error_and_records_nothing(
    settings: Settings, proxy: CuttingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recommit, "ATTEMPTS", 3)
    monkeypatch.setattr(recommit, "FIRST_WAIT", 0.01)
    store = EventStore(settings)
    try:
        store.save(Order("warm-up"))
        proxy.refuse()
        order = Order("tea")
        with pytest.raises(OperationalError):
            store.save(order)
        assert _stored_rows(settings, order) == []
    finally:
        store.close()


def test_a_request_during_an_outage_is_answered_503_with_a_time_to_retry(
    settings: Settings, proxy: CuttingProxy
) -> None:
    with running_app(settings) as app:
        proxy.refuse()
        answer = app.http.get("/client/api", params=app.signed({"command": "listZones"}))
        proxy.allow()
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    body = orjson.loads(answer.content)
    assert next(iter(body.values()))["errorcode"] == 503
