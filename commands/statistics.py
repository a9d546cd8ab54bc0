"""Usage statistics (relay role): every `router.stats.interval` seconds each running router's
host is asked for the router's network counters, every `vm.disk.stats.interval` seconds each
running VM's host for its disk counters (0 turns either off, as in CloudStack).

Asking changes nothing, so requests go straight to the bus, as router checks do; the time of
the asking travels with the request and comes back as the reading's time. What comes back
becomes a reading on the resource's statistics aggregate (domain/statistics.py) when a counter
moved; usage (domain/usage_statistics.py) turns readings into bytes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from commands import Outcome
from domain.errors import DomainError, NotFound
from domain.host import Host, HostState
from domain.statistics import DiskStatistics, NetworkStatistics, statistics_id
from domain.system_vm import State, SystemVm
from domain.vm import VirtualMachine, VmState
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, encode, seal_credentials
from stratus.store.audit import acting

log = logging.getLogger(__name__)

NETWORK_STATS, DISK_STATS = "network_stats", "disk_stats"
# A request answered this long after it was asked (an adapter that was down, a backlog on the
# bus) would charge today's counters to the time of asking: it is dropped, the next one counts.
STALE_AFTER_MS = 10 * 60 * 1000


@dataclass(frozen=True)
class StatsTarget:
    """A running router or VM to read: where it runs and what its reading must name."""

    resource_id: str
    instance_name: str
    host_id: str
    params: dict[str, Any] = field(default_factory=dict)  # network_id, or volumes by slot


@dataclass(frozen=True)
class Schedule:
    """One kind of reading: its action, its targets and its interval (seconds; 0 is off)."""

    action: str
    targets: Callable[[], list[StatsTarget]]
    interval: Callable[[], float]


class StatisticsCollector:
    """Sends one request per target and interval, for each schedule."""

    def __init__(
        self,
        store: Any,
        bus: Any,
        schedules: list[Schedule],
        prefix: str = DEFAULT_PREFIX,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.bus, self.schedules, self.prefix = store, bus, schedules, prefix
        self.now = now
        self._round = itertools.count(1)
        self._run = uuid4().hex[:12]  # a restarted collector's ids must not look like duplicates

    def requests(self, schedule: Schedule) -> list[WorkRequest]:
        """This round's requests of one schedule (blocking: reads read models and hosts)."""
        tick = f"{self._run}:{next(self._round)}"
        read_at_ms = int(self.now().timestamp() * 1000)
        hosts: dict[str, Any] = {}
        made = []
        for target in schedule.targets():
            if target.host_id not in hosts:
                hosts[target.host_id] = _up_host(self.store, target.host_id)
            host = hosts[target.host_id]
            if host is not None:
                made.append(
                    _request(self.store.box, host, schedule.action, target, tick, read_at_ms)
                )
        return made

    async def collect(self, schedule: Schedule) -> int:
        """One round of one schedule; returns how many requests were sent."""
        requests = await asyncio.to_thread(self.requests, schedule)
        for request in requests:
            await self.bus.publish(
                request.subject(self.prefix), encode(request), msg_id=request.request_id
            )
        return len(requests)

    async def run(self, stop: asyncio.Event, tick: float = 0.5) -> None:
        """Collect each schedule whenever its interval has passed; intervals are read again
        every tick, so a changed setting applies at once."""
        last = {schedule.action: -float("inf") for schedule in self.schedules}
        while not stop.is_set():
            for schedule in self.schedules:
                try:
                    interval = await asyncio.to_thread(schedule.interval)
                    if interval > 0 and time.monotonic() - last[schedule.action] >= interval:
                        last[schedule.action] = time.monotonic()
                        await self.collect(schedule)
                except Exception:  # a process boundary: keep collecting
                    log.exception("collecting %s failed", schedule.action)
            try:
                await asyncio.wait_for(stop.wait(), tick)
            except TimeoutError:
                continue


def _up_host(store: Any, host_id: str) -> Any:
    try:
        host = store.get(Host, UUID(host_id), what="host")
    except NotFound:
        return None
    return host if host.state == HostState.UP and not host.removed else None


def _request(
    box: Any, host: Any, action: str, target: StatsTarget, tick: str, read_at_ms: int
) -> WorkRequest:
    return WorkRequest(
        request_id=f"stats:{tick}:{target.resource_id}",
        hypervisor=host.hypervisor.lower(),
        action=action,
        target_id=target.resource_id,
        params={
            **target.params,
            "host_id": target.host_id,
            "name": target.instance_name,
            "read_at_ms": read_at_ms,
        },
        sealed_credentials=seal_credentials(box, host.url, host.username, host.password.reveal()),
    )


# Results ------------------------------------------------------------------------------------


def _statistics(store: Any, kind: type, resource_id: UUID, **created: Any) -> Any:
    """The resource's statistics aggregate, made at its first reading."""
    try:
        return store.get(kind, statistics_id(resource_id), what="statistics")
    except NotFound:
        return kind(id=statistics_id(resource_id), **created)


def _save(store: Any, stats: Any) -> Outcome:
    with acting(command="usage-statistics"):
        return Outcome(store.last_position(store.save(stats)), stats.id)


def on_network_stats(store: Any, result: WorkResult) -> Outcome:
    """A router's counters: recorded when it still runs on the host that read them."""
    if not result.ok:
        return Outcome(0)
    data = result.data

    def attempt() -> Outcome:
        router = store.get(SystemVm, UUID(result.target_id), what="router")
        if router.state != State.RUNNING or str(router.host_id) != str(data.get("host_id")):
            return Outcome(0, router.id)  # it stopped or moved since: the reading is stale
        stats = _statistics(store, NetworkStatistics, router.id, router_id=router.id)
        network_id = UUID(str(data["network_id"]))
        epoch, read_at_ms = str(data["epoch"]), int(data["read_at_ms"])
        if not stats.record(network_id, epoch, data["sent"], data["received"], read_at_ms):
            return Outcome(0, stats.id)
        return _save(store, stats)

    return _guarded(store, attempt, result)


def on_disk_stats(store: Any, result: WorkResult) -> Outcome:
    """A VM's disk counters, by volume: recorded when it still runs on the host that read them."""
    if not result.ok:
        return Outcome(0)
    data = result.data

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, UUID(result.target_id), what="virtual machine")
        if vm.state != VmState.RUNNING or str(vm.host_id) != str(data.get("host_id")):
            return Outcome(0, vm.id)
        stats = _statistics(store, DiskStatistics, vm.id, vm_id=vm.id)
        volumes = {str(k): list(v) for k, v in dict(data.get("volumes", {})).items()}
        if not stats.record(volumes, str(data["epoch"]), int(data["read_at_ms"])):
            return Outcome(0, stats.id)
        return _save(store, stats)

    return _guarded(store, attempt, result)


def _guarded(store: Any, attempt: Callable[[], Outcome], result: WorkResult) -> Outcome:
    """A malformed or stale reading is logged and dropped: the next one will tell the same
    counters."""
    try:
        late = time.time() * 1000 - int(result.data["read_at_ms"])
        if late > STALE_AFTER_MS:
            log.info(
                "%s of %s dropped: asked %.0f s ago", result.action, result.target_id, late / 1000
            )
            return Outcome(0)
        outcome: Outcome = store.run(attempt)
    except (DomainError, KeyError, TypeError, ValueError) as error:
        log.warning("%s of %s dropped: %s", result.action, result.target_id, error)
        return Outcome(0)
    return outcome


RESULT_HANDLERS: dict[str, Callable[[Any, WorkResult], Outcome]] = {
    NETWORK_STATS: on_network_stats,
    DISK_STATS: on_disk_stats,
}
