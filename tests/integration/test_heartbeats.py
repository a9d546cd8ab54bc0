"""Heartbeats keep hosts Up; silence makes them Disconnected then Down; their return, Up again."""

from __future__ import annotations

import asyncio
from uuid import UUID

from commands import hosts
from commands.infrastructure import (
    AddCluster,
    CreatePod,
    CreateZone,
    add_cluster,
    create_pod,
    create_zone,
)
from domain.alert import Alert
from domain.host import Host
from entrypoint.installation import open_runtime
from stratus.bus.memory import InProcessBus
from stratus.messages import Heartbeat, WorkResult, encode
from stratus.results import HeartbeatMonitor
from stratus.settings import Settings
from tests.support.waiting import eventually


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _up_host(store) -> UUID:
    zone = create_zone(store, CreateZone("z", "Advanced", {"dns1": "8.8.8.8"})).id
    pod = create_pod(store, CreatePod(zone, "p", "10.0.0.1", "255.255.255.0", "10.0.0.5")).id
    cluster = add_cluster(store, AddCluster(zone, pod, "c", "Simulator")).id
    host_id = hosts.add_host(
        store, hosts.AddHost(zone, pod, cluster, "Simulator", "simulator://h1", "root", "pw")
    ).id
    host = store.repository.get(host_id)
    hosts.on_connect_result(
        store,
        WorkResult(
            host.request_id, "simulator", "connect_host", str(host_id), True, {"cpu_sockets": 2}
        ),
    )
    return host_id


def _alerts(store) -> list[str]:
    texts = []
    for notification in store.recorder.select_notifications(1, 1000):
        event = store.mapper.to_domain_event(notification)
        if isinstance(event, Alert.Raised):
            texts.append(event.description)
    return texts


def test_silence_then_return(sqlite_settings: Settings) -> None:
    runtime = open_runtime(sqlite_settings, projections=[])
    store = runtime.store
    host_id = _up_host(store)
    clock = Clock()

    def watched() -> list[tuple[str, str]]:
        return [(str(host_id), store.repository.get(host_id).state)]

    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        monitor = HeartbeatMonitor(
            store,
            bus,
            watched,
            hosts,
            disconnect_after=30,
            down_after=60,
            wake=lambda: None,
            clock=clock,
        )
        await monitor.start()
        beat = Heartbeat("w1", "simulator", (str(host_id),))
        await bus.publish(beat.subject(), encode(beat), msg_id="b1")
        await eventually(lambda: str(host_id) in monitor.last_seen, what="the first beat heard")
        clock.now += 20
        await monitor.check()
        assert store.repository.get(host_id).state == "Up"
        clock.now += 20
        await monitor.check()
        assert store.repository.get(host_id).state == "Disconnected"
        clock.now += 45
        await monitor.check()
        assert store.repository.get(host_id).state == "Down"
        clock.now += 1
        await bus.publish(beat.subject(), encode(beat), msg_id="b2")
        up = lambda: store.repository.get(host_id).state == "Up"  # noqa: E731
        await eventually(up, what="the host back Up")
        assert store.repository.get(host_id).state == "Up"
        await monitor.stop()
        await bus.close()

    try:
        asyncio.run(scenario())
        alerts = _alerts(store)
        assert len(alerts) == 2
        assert "disconnected" in alerts[0] and "down" in alerts[1]
        host = store.repository.get(host_id)
        assert isinstance(host, Host) and host.request_id is not None  # the probe is pending
    finally:
        runtime.close()


def test_a_probe_answered_by_a_new_adapter_brings_a_down_host_back(sqlite_settings) -> None:
    runtime = open_runtime(sqlite_settings, projections=[])
    store = runtime.store
    try:
        host_id = _up_host(store)
        hosts.on_heartbeat_lost(store, host_id, down=False)
        hosts.on_heartbeat_lost(store, host_id, down=True)
        probe = store.repository.get(host_id).request_id
        assert store.repository.get(host_id).state == "Down"
        hosts.on_connect_result(
            store,
            WorkResult(probe, "simulator", "connect_host", str(host_id), True, {"cpu_sockets": 2}),
        )
        assert store.repository.get(host_id).state == "Up"
        hosts.on_connect_result(
            store,
            WorkResult(probe, "simulator", "connect_host", str(host_id), False, {}, "late failure"),
        )
        assert store.repository.get(host_id).state == "Up"
    finally:
        runtime.close()
