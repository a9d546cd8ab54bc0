"""The fault campaign, short: a few faults under concurrent deploys through the HTTP API, each
on a fresh cloud, and every invariant held once the cloud has recovered (`bench/faults.py` runs
every fault with more clients and deploys, and prints the figures)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults.campaign import FAULTS, Fault, Settings, run_fault, table
from tests.support.faults.servers import Nats, Postgres

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

SHORT = Settings(clients=4, deploys=24, hold=60.0, job_timeout=8.0)
# A few minutes of faults; the bench adds the relay, NATS and the embedded slow host.
CHOSEN = (
    "kill -9 embedded server",
    "kill -9 api",
    "kill -9 projections",
    "kill -9 adapter",
    "restart PostgreSQL",
    "slow host (distributed)",
)


def _servers_available() -> bool:
    return bool(shutil.which("nats-server") or Path("/usr/sbin/nats-server").exists()) and any(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")
    )


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Postgres, Nats]]:
    """A PostgreSQL and a NATS of this module's own: the faults restart them."""
    if not _servers_available():
        pytest.skip("needs the PostgreSQL binaries and nats-server installed")
    postgres, nats = Postgres(), Nats()
    try:
        yield postgres.start(), nats.start()
    finally:
        nats.stop()
        postgres.stop()


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.name in CHOSEN], ids=lambda f: f.name)
def test_every_accepted_deploy_ends_consistent_after_the_fault(
    fault: Fault, servers: tuple[Postgres, Nats]
) -> None:
    figures = run_fault(fault, SHORT, servers if fault.mode == "distributed" else None)
    report = "\n".join(
        [
            table([figures]),
            *figures.world.notes,
            *figures.other_answers[:5],
            *(f"{name}: {where}" for name, where in figures.read_models_differing.items()),
        ]
    )
    assert figures.jobs.accepted > 0, report
    assert figures.failures() == [], report
