"""A scripted statistics scenario: a router and a VM read now and then, with chosen times, and
the bytes they must give per day.

Times are Berlin wall-clock times (the usage zone of `settings_events`). The router's
counters drop once within an epoch (a reset: all of the lower reading is new), and a reading
taken before its reboot is recorded after it; after the reboot they count in a new epoch
(all of the first reading is new). The VM's disk counters start a new epoch when it starts
again.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid5

from domain.statistics import DiskStatistics, NetworkStatistics, statistics_id
from domain.system_vm import Role, SystemVm
from domain.usage_periods import to_ms
from domain.vm import VirtualMachine
from domain.volume import Volume, root_volume_id
from tests.support.usage_scenario import (
    ACCOUNT,
    DB_SMALL,
    DOMAIN,
    NS,
    SMALL,
    TEMPLATE,
    ZONE,
    VmScript,
    berlin,
    settings_events,
    timed,
)

ROUTER, NETWORK = uuid5(NS, "router"), uuid5(NS, "guest-network")
APP = uuid5(NS, "app")
APP_ROOT = root_volume_id(APP)


def ms(at: str) -> int:
    return to_ms(berlin(at))


def router_events() -> list[Any]:
    router = SystemVm(
        id=ROUTER,
        role=Role.ROUTER,
        instance_name="r-7-VM",
        zone_id=ZONE,
        owner_account_id=ACCOUNT,
        owner_domain_id=DOMAIN,
        compute=DB_SMALL,
        network_ids=(NETWORK,),
    )
    created = timed(router.collect_events(), "2026-01-10 23:00")
    started = SystemVm.Started(
        originator_id=ROUTER,
        originator_version=2,
        timestamp=berlin("2026-01-10 23:00"),
        request_id="r",
        host_id=None,
        release="4.3.0",
    )
    return [*created, started]


def network_readings(
    *readings: tuple[str, str, int, int], recorded: tuple[str, ...] = ()
) -> list[Any]:
    """Readings (time, epoch, sent, received) of the router, each recorded when it was read
    unless `recorded` says later."""
    stats = NetworkStatistics(id=statistics_id(ROUTER), router_id=ROUTER)
    for at, epoch, sent, received in readings:
        assert stats.record(NETWORK, epoch, sent, received, ms(at))
    times = recorded or tuple(reading[0] for reading in readings)
    return timed(stats.collect_events(), times[0], *times)


NETWORK_READINGS = (
    ("2026-01-11 01:00", "boot-1", 1000, 5000),
    ("2026-01-11 13:00", "boot-1", 3000, 9000),
    ("2026-01-11 23:30", "boot-1", 500, 600),  # lower: reset, all of it is new
    ("2026-01-12 01:30", "boot-1", 900, 900),  # read before the reboot, recorded after it
    ("2026-01-12 03:00", "boot-2", 1500, 1600),  # after the reboot: all of it is new
)
NETWORK_RECORDED = (
    "2026-01-11 01:00",
    "2026-01-11 13:00",
    "2026-01-11 23:30",
    "2026-01-12 02:10",
    "2026-01-12 03:00",
)


def vm_events() -> list[Any]:
    app = (
        VmScript("app")
        .deploy("2026-01-11 08:00", DB_SMALL)
        .then(VirtualMachine.Started, "2026-01-11 08:00", DB_SMALL, host_id=None)
        .then(VirtualMachine.Stopped, "2026-01-11 22:00", DB_SMALL)
        .then(VirtualMachine.Started, "2026-01-12 06:00", DB_SMALL, host_id=None)
    )
    assert app.vm_id == APP
    root = Volume(APP_ROOT, "ROOT-app", "ROOT", ACCOUNT, DOMAIN, ZONE, 20, SMALL, TEMPLATE, APP)
    return app.events + timed(root.collect_events(), "2026-01-11 08:00")


def disk_readings() -> list[Any]:
    stats = DiskStatistics(id=statistics_id(APP), vm_id=APP)
    readings = (
        ("2026-01-11 10:00", "run-1", [10, 5, 1000, 500]),
        ("2026-01-11 20:00", "run-1", [30, 15, 4000, 1500]),
        ("2026-01-12 08:00", "run-2", [7, 3, 700, 300]),  # started again at 06:00
        ("2026-01-12 09:00", "run-2", [9, 3, 900, 300]),
    )
    for at, epoch, counters in readings:
        assert stats.record({str(APP_ROOT): counters}, epoch, ms(at))
    times = [at for at, _, _ in readings]
    return timed(stats.collect_events(), times[0], *times)


def statistics_scenario() -> list[Any]:
    """Every event of the scenario, in time order."""
    events = (
        settings_events()
        + router_events()
        + network_readings(*NETWORK_READINGS, recorded=NETWORK_RECORDED)
        + vm_events()
        + disk_readings()
    )
    return sorted(events, key=lambda e: e.timestamp)


# (day, usage type, usage id): raw usage in bytes (or I/O operations), worked out by hand.
BYTES_EXPECTED = {
    ("2026-01-11", 4, str(ROUTER)): "3500",
    ("2026-01-11", 5, str(ROUTER)): "9600",
    ("2026-01-12", 4, str(ROUTER)): "1900",
    ("2026-01-12", 5, str(ROUTER)): "1900",
    ("2026-01-11", 21, str(APP_ROOT)): "30",
    ("2026-01-11", 22, str(APP_ROOT)): "15",
    ("2026-01-11", 23, str(APP_ROOT)): "4000",
    ("2026-01-11", 24, str(APP_ROOT)): "1500",
    ("2026-01-12", 21, str(APP_ROOT)): "9",
    ("2026-01-12", 22, str(APP_ROOT)): "3",
    ("2026-01-12", 23, str(APP_ROOT)): "900",
    ("2026-01-12", 24, str(APP_ROOT)): "300",
}


def observed_bytes(items: list[dict[str, Any]]) -> dict[tuple[str, int, str], str]:
    """The same keys, read from the byte records as CloudStack prints them."""
    found = {}
    for item in items:
        if item["usagetype"] in (4, 5, 21, 22, 23, 24):
            key = (item["startdate"][:10], item["usagetype"], item["usageid"])
            assert key not in found, f"two records for {key}"
            found[key] = item["rawusage"]
    return found
