"""The usage statistics collector over the runtime's read models and settings (relay role)."""

from __future__ import annotations

from typing import Any

from commands.statistics import (
    DISK_STATS,
    NETWORK_STATS,
    Schedule,
    StatisticsCollector,
    StatsTarget,
)

ROUTER_INTERVAL, DISK_INTERVAL = "router.stats.interval", "vm.disk.stats.interval"


def make_collector(runtime: Any, bus: Any) -> StatisticsCollector:
    """Router network counters every `router.stats.interval` seconds, VM disk counters every
    `vm.disk.stats.interval` seconds (both read again every tick; 0 turns one off)."""
    from domain.configuration import DEFINITIONS
    from projections.configuration import global_value
    from projections.statistics import disk_stats_targets, router_stats_targets

    def interval(name: str) -> Any:
        def read() -> float:
            with runtime.db.read() as cursor:
                return float(global_value(cursor, name, DEFINITIONS[name].default))

        return read

    def routers() -> list[StatsTarget]:
        with runtime.db.read() as cursor:
            rows = router_stats_targets(cursor)
        return [
            StatsTarget(
                r["id"], r["instance_name"], r["host_id"], {"network_id": r["guest_network_id"]}
            )
            for r in rows
        ]

    def vms() -> list[StatsTarget]:
        with runtime.db.read() as cursor:
            rows = disk_stats_targets(cursor)
        return [
            StatsTarget(r["id"], r["instance_name"], r["host_id"], {"volumes": r["volumes"]})
            for r in rows
        ]

    schedules = [
        Schedule(NETWORK_STATS, routers, interval(ROUTER_INTERVAL)),
        Schedule(DISK_STATS, vms, interval(DISK_INTERVAL)),
    ]
    return StatisticsCollector(runtime.store, bus, schedules, runtime.settings.bus_prefix)
