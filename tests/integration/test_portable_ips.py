"""Portable addresses below the API, on SQLite and PostgreSQL: clients racing for a region's
last addresses get each once, and the read models follow ranges and addresses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from commands import portable_ips as cmd
from domain.errors import InsufficientCapacity, InvalidParameter
from domain.network_public_ip import PublicIp
from entrypoint.installation import open_runtime
from stratus.runtime import Runtime
from stratus.settings import Settings


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    opened = open_runtime(settings)
    try:
        yield opened
    finally:
        opened.close()


def _range(runtime: Runtime, start: str, end: str, **more: Any) -> Any:
    command = cmd.CreatePortableIpRange(1, "198.18.0.1", "255.255.255.0", start, end, **more)
    cmd.create_portable_ip_range(runtime.store, command)
    return command.range_id


def _acquire(runtime: Runtime) -> Any:
    request = cmd.AcquirePortable(1, uuid4(), uuid4(), uuid4(), None)
    return cmd.associate_portable_ip(runtime.store, request).id


def test_racing_associations_take_each_portable_address_once(runtime: Runtime) -> None:
    _range(runtime, "198.18.0.10", "198.18.0.11")
    gate, outcomes = threading.Barrier(4), []

    def take() -> None:
        gate.wait()
        try:
            outcomes.append(_acquire(runtime))
        except InsufficientCapacity as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [o for o in outcomes if not isinstance(o, InsufficientCapacity)]
    assert len(taken) == 2 and len(set(taken)) == 2 and len(outcomes) == 4
    addresses = {runtime.store.get(PublicIp, ip_id).address for ip_id in taken}
    assert addresses == {"198.18.0.10", "198.18.0.11"}
    runtime.runner.catch_up()
    with runtime.db.read() as cursor:
        rows = cursor.execute("SELECT state FROM portable_ips ORDER BY ordinal").fetchall()
        listed = cursor.execute("SELECT count(*) AS n FROM public_ips").fetchone()["n"]
        region = cursor.execute(
            "SELECT portable_ip_service_enabled AS on_ FROM regions WHERE id = 1"
        ).fetchone()
    assert [r["state"] for r in rows] == ["Allocated", "Allocated"] and listed == 2
    assert region["on_"] == 1


def test_ranges_overlapping_a_zones_range_or_an_unknown_region_are_refused(
    runtime: Runtime,
) -> None:
    with pytest.raises(InvalidParameter):
        _range(runtime, "198.18.0.10", "198.18.0.20", zone_ranges=[("198.18.0.15", "198.18.0.16")])
    with pytest.raises(InvalidParameter):
        cmd.create_portable_ip_range(
            runtime.store,
            cmd.CreatePortableIpRange(7, "198.18.0.1", "255.255.255.0", "198.18.0.5", "198.18.0.6"),
        )
    with pytest.raises(InvalidParameter):  # nothing was recorded: the region has no ranges
        _acquire(runtime)
