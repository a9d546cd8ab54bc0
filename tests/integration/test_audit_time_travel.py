"""`audit at` rebuilds a host, and a zone with its hosts, as they were at past instants."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import orjson

from audit.timetravel import describe
from commands import hosts
from commands.infrastructure import (
    AddCluster,
    CreatePod,
    CreateZone,
    add_cluster,
    create_pod,
    create_zone,
)
from domain.host import Host
from domain.infrastructure import Zone
from entrypoint.audit_cli import run
from entrypoint.cli import _parser
from entrypoint.installation import open_runtime
from stratus.messages import WorkResult
from stratus.settings import Settings
from tests.support.waiting import wait_until


def _audit_at(settings: Settings, *argv: str) -> Any:
    out = io.StringIO()
    assert run(_parser().parse_args(["audit", "at", *argv]), settings, out) == 0
    return orjson.loads(out.getvalue())


def _snapshot(store: Any, zone_id: Any, host_ids: list[Any]) -> tuple[datetime, dict[str, Any]]:
    _clock_past(datetime.now(UTC))  # the last event's timestamp comes before this instant
    at = datetime.now(UTC)
    recorded = {
        "zone": describe(store.get(Zone, zone_id), at),
        "hosts": [describe(store.get(Host, host_id), at) for host_id in host_ids],
    }
    _clock_past(at)  # the next event's timestamp comes after it
    return at, orjson.loads(orjson.dumps(recorded))


def _clock_past(instant: datetime) -> None:
    wait_until(lambda: datetime.now(UTC) > instant, 1, "the clock moving on", interval=0.0005)


def _connect(store: Any, host_id: Any, ok: bool) -> None:
    request = store.get(Host, host_id).request_id
    data = {"cpu_sockets": 2, "memory": 8192} if ok else {}
    hosts.on_connect_result(
        store, WorkResult(request, "simulator", "connect_host", str(host_id), ok, data, None)
    )


def test_a_host_and_its_zone_at_three_instants(settings: Settings) -> None:
    runtime = open_runtime(settings, projections=[])
    store = runtime.store
    try:
        zone = create_zone(store, CreateZone("z", "Advanced", {"dns1": "8.8.8.8"})).id
        pod = create_pod(store, CreatePod(zone, "p", "10.0.0.1", "255.255.255.0", "10.0.0.5")).id
        cluster = add_cluster(store, AddCluster(zone, pod, "c", "Simulator")).id
        first = hosts.add_host(
            store, hosts.AddHost(zone, pod, cluster, "Simulator", "simulator://h1", "root", "pw1")
        ).id
        first_at, first_state = _snapshot(store, zone, [first])
        _connect(store, first, ok=True)
        second = hosts.add_host(
            store, hosts.AddHost(zone, pod, cluster, "Simulator", "simulator://h2", "root", "pw2")
        ).id
        second_at, second_state = _snapshot(store, zone, [first, second])
        _connect(store, second, ok=False)
        hosts.prepare_for_maintenance(store, first)
        third_at, third_state = _snapshot(store, zone, [first, second])
    finally:
        runtime.close()

    for at, recorded in (
        (first_at, first_state),
        (second_at, second_state),
        (third_at, third_state),
    ):
        assert _audit_at(settings, at.isoformat(), str(first)) == recorded["hosts"][0]
        zone_state = _audit_at(settings, at.isoformat(), "--zone", str(zone))
        assert {key: zone_state[key] for key in recorded} == recorded
        assert all(zone_state[k] == [] for k in zone_state.keys() - recorded.keys())  # no others
    states = [s["hosts"][0]["state"] for s in (first_state, second_state, third_state)]
    assert [(s["state"], s["resource_state"]) for s in states] == [
        ("Connecting", "Enabled"),
        ("Up", "Enabled"),
        ("Up", "Maintenance"),
    ]
    assert third_state["hosts"][1]["state"]["state"] == "Alert"
    assert first_state["hosts"][0]["state"]["password"] == "********"
