"""Writes accepted while the read models lag behind the log still answer what they made.

The read models are held back by locking their positions from outside (as a long transaction
or a slow disk would), on the production store, PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from cs import CloudStackApiException

from stratus.settings import parse_database_url
from tests.conftest import postgres_url
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.factories import make_tenant
from tests.e2e.test_routers import wait_for
from tests.e2e.test_vms import _host, _place, _vm

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A server on PostgreSQL that waits only briefly for its read models."""
    url = postgres_url()
    if not url:
        pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    env = {
        "STRATUS_DATABASE_URL": f"{url}?schema={schema}",
        "STRATUS_READ_YOUR_WRITES_TIMEOUT": "0.3",
        "STRATUS_WRITE_VISIBLE_TIMEOUT": "0.5",
    }
    running = start_server(tmp_path / "data", env)
    conninfo = parse_database_url(url).conninfo
    try:
        yield running, schema
    finally:
        stop_server(running)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def read_models_held(schema: str) -> Iterator[None]:
    """Hold every read model where it is: its position rows stay locked until the block ends."""
    conninfo = parse_database_url(postgres_url() or "").conninfo
    with psycopg.connect(conninfo) as connection:
        connection.execute(f'SELECT * FROM "{schema}".projection_positions FOR UPDATE')
        yield
        connection.rollback()


def test_a_deploy_while_the_read_models_lag_answers_its_job_and_vm(
    pg_server: tuple[Server, str],
) -> None:
    server, schema = pg_server
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    stranger = make_tenant(server, admin).client
    with read_models_held(schema):
        answer = admin.deployVirtualMachine(
            zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template
        )
        assert answer["id"] and answer["jobid"]
        polled = admin.queryAsyncJobResult(jobid=answer["jobid"])
        assert (polled["jobstatus"], polled["jobid"]) == (0, answer["jobid"])
        assert polled["jobinstanceid"] == answer["id"]
        with pytest.raises(CloudStackApiException) as hidden:
            stranger.queryAsyncJobResult(jobid=answer["jobid"])
        assert hidden.value.error["errorcode"] == 531
    for _ in range(500):  # each poll is held a moment while the job is pending
        done = admin.queryAsyncJobResult(jobid=answer["jobid"])
        if done["jobstatus"] != 0:
            break
    assert done["jobstatus"] == 1, done
    assert done["jobresult"]["virtualmachine"]["id"] == answer["id"]
    assert _vm(admin, answer["id"])["state"] == "Running"
    assert len(admin.listVirtualMachines(listall=True)["virtualmachine"]) == 1


def test_a_synchronous_create_that_stays_invisible_names_what_it_saved(
    pg_server: tuple[Server, str],
) -> None:
    server, schema = pg_server
    admin = server.client()
    with read_models_held(schema), pytest.raises(CloudStackApiException) as refused:
        admin.createServiceOffering(name="lagged", displaytext="lagged", cpunumber=1,
                                    cpuspeed=500, memory=512)  # fmt: skip
    error = refused.value.error
    assert (error["errorcode"], len(error["uuidList"])) == (534, 1)
    saved = error["uuidList"][0]["uuid"]
    # As its text says: query again in a moment, once the read models caught up.
    assert wait_for(lambda: admin.listServiceOfferings(id=saved).get("serviceoffering"))
    listed = admin.listServiceOfferings(id=saved)["serviceoffering"]
    assert [o["name"] for o in listed] == ["lagged"]
