"""Default offerings on both stores: seeded once, by however many starts, and never revived."""

from __future__ import annotations

from commands.offerings import (
    DEFAULT_COMPUTE,
    DEFAULT_DISK,
    delete_offering,
    seed_id,
    seed_offerings,
)
from domain.offering import ServiceOffering
from entrypoint.installation import open_runtime
from stratus.settings import Settings


def _names(runtime, table: str) -> list[str]:
    runtime.runner.catch_up()
    with runtime.db.read() as cursor:
        rows = cursor.execute(f"SELECT name FROM {table} WHERE removed = 0 ORDER BY name")
        return [row["name"] for row in rows.fetchall()]


def test_seeding_twice_creates_the_defaults_once_and_keeps_deleted_ones_deleted(
    settings: Settings,
) -> None:
    runtime = open_runtime(settings)
    try:
        assert seed_offerings(runtime.store) == len(DEFAULT_COMPUTE) + len(DEFAULT_DISK)
        assert seed_offerings(runtime.store) == 0
        assert _names(runtime, "service_offerings") == sorted(t.name for t in DEFAULT_COMPUTE)
        assert _names(runtime, "disk_offerings") == sorted(t.name for t in DEFAULT_DISK)
        delete_offering(runtime.store, ServiceOffering, seed_id("service", "Small Instance"))
        assert seed_offerings(runtime.store) == 0
        assert "Small Instance" not in _names(runtime, "service_offerings")
    finally:
        runtime.close()
