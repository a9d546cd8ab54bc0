"""Default offerings on both stores: seeded once, by however many starts, and never revived."""

from __future__ import annotations

from dataclasses import asdict

from commands.offerings import (
    DEFAULT_COMPUTE,
    DEFAULT_DISK,
    delete_offering,
    seed_id,
    seed_offerings,
)
from domain.offering import ComputeTerms, ServiceOffering
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


def test_a_custom_compute_offering_an_earlier_release_seeded_is_retired_once(
    settings: Settings,
) -> None:
    """4.3 seeds no custom compute offering: a store holding the one earlier releases seeded
    has it retired by an event at the next start, and the offering is never listed again."""
    runtime = open_runtime(settings)
    custom_id = seed_id("service", "Custom")
    try:
        legacy = ServiceOffering(
            asdict(ComputeTerms("Custom", "Custom: choose when deploying")), None, "", id=custom_id
        )
        runtime.store.save(legacy)
        assert "Custom" in _names(runtime, "service_offerings")
        seed_offerings(runtime.store)
        seed_offerings(runtime.store)
        assert "Custom" not in _names(runtime, "service_offerings")
        events = list(runtime.store.events.get(custom_id))
        assert [type(e).__name__ for e in events] == ["Created", "Retired"]
        assert runtime.store.get(ServiceOffering, custom_id).removed
    finally:
        runtime.close()


def test_every_seeded_compute_offering_fixes_cpu_speed_and_memory() -> None:
    assert all(not terms.custom for terms in DEFAULT_COMPUTE)
    names = {t.name for t in DEFAULT_COMPUTE}
    assert "Custom" not in names and {"Small Instance", "Medium Instance"} <= names
    system = [t for t in DEFAULT_COMPUTE if t.system_vm_type]
    assert {(t.system_vm_type, t.storage_type) for t in system} == {
        (kind, storage)
        for kind in ("domainrouter", "consoleproxy", "secondarystoragevm")
        for storage in ("shared", "local")
    }
    assert [d.name for d in DEFAULT_DISK] == ["Small", "Medium", "Large", "Custom"]
