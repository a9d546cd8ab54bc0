"""The end-to-end fixtures: servers on SQLite, PostgreSQL and NATS for real CloudStack clients.

Scenario modules share one server per leg (`leg`, module scope) and give each test a tenant of
its own (`sandbox`): a fresh domain in which the test's accounts are made. A test that needs a
pristine or specially configured server asks for `server` (a fresh one, per test) instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from stratus.settings import parse_database_url
from tests.conftest import postgres_url
from tests.e2e.legs import LEGS, Deployment, deployed
from tests.e2e.sandbox import Sandbox
from tests.e2e.servers import Server, free_port, start_server, stop_server

__all__ = ["Server", "free_port", "start_server", "stop_server"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A fresh server on a fresh store, for a test that needs the whole server to itself."""
    env: dict[str, str] = {}
    schema = None
    if request.param == "postgres":
        url = postgres_url()
        if not url:
            pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
        schema = f"e2e_{uuid.uuid4().hex[:12]}"
        env["STRATUS_DATABASE_URL"] = f"{url}?schema={schema}"
    running = start_server(tmp_path / "data", env)
    try:
        yield running
    finally:
        stop_server(running)
        if schema:
            with psycopg.connect(
                parse_database_url(postgres_url() or "").conninfo, autocommit=True
            ) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=LEGS)
def leg(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One running cloud per leg of the matrix, shared by the tests of a module."""
    # On the NATS leg the adapters run beside the server: a module names the kinds it needs.
    kinds = getattr(request.module, "NATS_ADAPTERS", ("simulator",))
    with deployed(request.param, tmp_path_factory.mktemp(request.param), kinds) as deployment:
        yield deployment


@pytest.fixture
def sandbox(leg: Deployment) -> Sandbox:
    """The module's shared server, seen through a fresh domain of this test's own."""
    return Sandbox.open(leg)
