"""Byte usage (network 4, 5; disk I/O 21-24) through the billing run with a controlled clock,
a late reading amending the period it was read in, and replay and verify agreeing with it;
and what the server makes of the readings adapters send back."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from typing import Any
from uuid import uuid5

import orjson

from commands.statistics import on_network_stats
from domain.statistics import NetworkStatistics, statistics_id
from domain.system_vm import Placement, Role, SystemVm
from domain.values import Secret
from domain.vm import HostAccess
from entrypoint import usage_cli as cli
from entrypoint.cli import _parser
from stratus.messages import WorkResult
from stratus.settings import Settings
from tests.integration.test_usage_billing import JANUARY, Clock, billing, listed, verified
from tests.integration.test_usage_replay import write_scenario
from tests.support.app import running_app
from tests.support.statistics_scenario import (
    BYTES_EXPECTED,
    NETWORK,
    NETWORK_READINGS,
    ROUTER,
    network_readings,
    observed_bytes,
    statistics_scenario,
)
from tests.support.usage_scenario import ACCOUNT, DB_SMALL, DOMAIN, NS, ZONE, berlin

NOW = berlin("2026-01-13 00:30")


def replayed(settings: Settings) -> list[dict[str, Any]]:
    out = io.StringIO()
    args = _parser().parse_args(["usage", "replay"])
    assert cli.run(args, settings, out, now=NOW) == 0
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def late_reading() -> list[Any]:
    """One more reading of the router, read on the evening of the 12th but recorded after
    billing closed that day (the router's aggregate holds the earlier ones)."""
    events = network_readings(
        *NETWORK_READINGS,
        ("2026-01-12 20:00", "boot-2", 2000, 2000),
        recorded=(*(reading[0] for reading in NETWORK_READINGS), "2026-01-13 00:20"),
    )
    return events[-1:]


def test_billing_gives_the_hand_computed_bytes_and_replay_and_verify_agree(
    settings: Settings,
) -> None:
    with running_app(settings) as app:
        write_scenario(app, statistics_scenario())
        clock = Clock(berlin("2026-01-12 12:00"))
        run = billing(app, clock)
        run.run_once()
        early = observed_bytes(listed(app, **JANUARY))
        clock.at = NOW
        run.run_once()
        run.run_once()  # nothing new: nothing written twice
        items = listed(app, **JANUARY)
        code, report = verified(settings)
        replay = replayed(settings)
    assert early == {k: v for k, v in BYTES_EXPECTED.items() if k[0] == "2026-01-11"}
    assert observed_bytes(items) == BYTES_EXPECTED
    assert observed_bytes(replay) == BYTES_EXPECTED
    sent = next(i for i in items if i["usagetype"] == 4 and i["startdate"][:10] == "2026-01-11")
    assert (sent["rawusage"], sent["usage"], sent["type"]) == ("3500", "3500", "DomainRouter")
    assert code == 0, report


def test_a_late_reading_amends_the_closed_period_it_was_read_in(settings: Settings) -> None:
    with running_app(settings) as app:
        write_scenario(app, statistics_scenario())
        run = billing(app, Clock(NOW))
        run.run_once()
        before = observed_bytes(listed(app, **JANUARY))
        write_scenario(app, late_reading())
        result = run.run_once()
        after = observed_bytes(listed(app, **JANUARY))
        code, report = verified(settings)
        replay = observed_bytes(replayed(settings))
    assert before == BYTES_EXPECTED
    assert result.reopened == 1
    # 2000 sent and received at 20:00, after 1500 and 1600 at 03:00: +500 and +400 on the 12th.
    expected = {
        **BYTES_EXPECTED,
        ("2026-01-12", 4, str(ROUTER)): "2400",
        ("2026-01-12", 5, str(ROUTER)): "2300",
    }
    assert after == expected == replay
    assert code == 0, report


HOST, OTHER_HOST = uuid5(NS, "host-1"), uuid5(NS, "host-2")


def running_router(store: Any) -> SystemVm:
    router = SystemVm(
        id=uuid5(NS, "handled-router"),
        role=Role.ROUTER,
        instance_name="r-9-VM",
        zone_id=ZONE,
        owner_account_id=ACCOUNT,
        owner_domain_id=DOMAIN,
        compute=DB_SMALL,
        network_ids=(NETWORK,),
    )
    access = HostAccess(HOST, "simulator://h1", "root", Secret("sim-password"), "Simulator")
    router.request_start("start-1", None, Placement(access, None, None), "room-1")
    router.confirm("start-1", "4.3.0")
    store.save(router)
    return router


def reading(router: SystemVm, now_ms: int, **data: Any) -> WorkResult:
    """A reading asked for at `now_ms` (the test's start: the handler drops stale ones)."""
    found = {
        "host_id": str(HOST),
        "network_id": str(NETWORK),
        "epoch": "h1/1",
        "sent": 10,
        "received": 20,
        "read_at_ms": now_ms,
    }
    return WorkResult("stats:1", "simulator", "network_stats", str(router.id), True, found | data)


def test_a_reading_is_recorded_once_and_only_from_the_host_the_router_runs_on(
    settings: Settings,
) -> None:
    now = int(time.time() * 1000)
    with running_app(settings) as app:
        store = app.runtime.store
        router = running_router(store)
        # Asked an hour ago (an adapter that was down): today's counters at that time, dropped.
        stale = on_network_stats(store, reading(router, now, sent=70, read_at_ms=now - 3_600_000))
        first = on_network_stats(store, reading(router, now))
        again = on_network_stats(store, reading(router, now, read_at_ms=now + 1))  # nothing moved
        moved = reading(router, now, host_id=str(OTHER_HOST), sent=99, read_at_ms=now + 3)
        elsewhere = on_network_stats(store, moved)  # not the router's host: not its counters
        malformed = on_network_stats(store, reading(router, now, sent="lots", read_at_ms=now + 2))
        failed = on_network_stats(store, replace(reading(router, now, sent=50), ok=False))
        later = on_network_stats(store, reading(router, now, sent=50, read_at_ms=now + 4))
        stats = store.get(NetworkStatistics, statistics_id(router.id))
    assert first.position > 0 and later.position > first.position
    assert again.position == elsewhere.position == malformed.position == 0
    assert failed.position == stale.position == 0
    assert stats.last == (str(NETWORK), "h1/1", 50, 20)
    assert stats.read_at_ms == now + 4
