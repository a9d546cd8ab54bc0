"""The server side of adapters: results become commands, heartbeats keep hosts Up.

Results arrive on `stratus.results.>` (one queue group for all server processes); each is handed
to the command registered for its action. The heartbeat monitor remembers when each host was last
reported alive and, past the timeouts, records it Disconnected, then Down; a heartbeat from such a
host brings it back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from stratus.bus import Definitive, Delivery
from stratus.messages import (
    DEFAULT_PREFIX,
    HEARTBEATS,
    RESULTS,
    decode_heartbeat,
    decode_result,
)
from stratus.store.audit import acting
from stratus.telemetry import Telemetry

log = logging.getLogger(__name__)


class ResultConsumer:
    """Turns adapter results into commands, in worker threads, attributed to the process.

    The commands' commits wake the read models (the store's commit listeners) with what they
    recorded; a wake-up of its own here would only make the runner read the log once more."""

    def __init__(
        self,
        store: Any,
        bus: Any,
        handlers: Mapping[str, Callable[..., Any]],
        prefix: str = DEFAULT_PREFIX,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.store, self.bus, self.handlers = store, bus, dict(handlers)
        self.prefix = prefix
        self.telemetry = telemetry
        self.subscription: Any = None

    async def start(self) -> None:
        self.subscription = await self.bus.subscribe(
            f"{self.prefix}.{RESULTS}.>", "stratus-results", self._handle
        )

    async def _handle(self, delivery: Delivery) -> None:
        try:
            result = decode_result(delivery.payload)
        except (TypeError, ValueError) as error:
            raise Definitive(f"undecodable result: {error}") from None
        if self.telemetry is not None and delivery.attempt == 1:
            self.telemetry.returned(result.request_id, result.action, result.ok)
        handler = self.handlers.get(result.action)
        if handler is None:
            log.warning("no handler for %s results; dropped", result.action)
            return
        await asyncio.to_thread(self._apply, handler, result)

    def _apply(self, handler: Callable[..., Any], result: Any) -> None:
        # The result's events name the job and the API request that asked for the work (when
        # the request carried them; an older one did not), besides this process.
        with acting(
            command=f"result:{result.action}",
            job_id=result.job_id,
            request_id=result.origin_request_id or result.request_id,
        ):
            handler(self.store, result)

    async def stop(self) -> None:
        if self.subscription is not None:
            await self.subscription.stop()


class HeartbeatMonitor:
    """Moves hosts that stop beating to Disconnected, then Down, and back Up when they beat."""

    def __init__(
        self,
        store: Any,
        bus: Any,
        up_hosts: Callable[[], list[tuple[str, str]]],
        commands: Any,
        *,
        disconnect_after: float,
        down_after: float,
        wake: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        self.prefix = prefix
        self.store, self.bus, self.up_hosts, self.commands = store, bus, up_hosts, commands
        self.disconnect_after, self.down_after = disconnect_after, down_after
        self.wake, self.clock = wake, clock
        self.last_seen: dict[str, float] = {}
        self.kinds_seen: dict[str, float] = {}  # hypervisor kind (lower case) -> last beat
        self.started = clock()
        self.subscription: Any = None

    async def start(self) -> None:
        self.subscription = await self.bus.subscribe(
            f"{self.prefix}.{HEARTBEATS}.>", f"stratus-heartbeats-{id(self)}", self._beat
        )

    async def _beat(self, delivery: Delivery) -> None:
        beat = decode_heartbeat(delivery.payload)
        now = self.clock()
        self.kinds_seen[beat.hypervisor.lower()] = now
        for host_id in beat.host_ids:
            previous = self.last_seen.get(host_id)
            self.last_seen[host_id] = now
            if previous is None or now - previous > self.disconnect_after:
                await asyncio.to_thread(self._apply, self.commands.on_heartbeat, host_id)

    def _apply(self, command: Callable[..., Any], host_id: str, **options: Any) -> None:
        with acting(command="heartbeat-monitor"):
            outcome = command(self.store, UUID(host_id), **options)
        if outcome.position:
            self.wake()

    def silence(self, host_id: str | None, kind: str) -> float:
        """Seconds since an adapter last reported `host_id` alive (busy counts as alive); for
        work bound to no host, since an adapter of `kind` last beat. Counted from this
        monitor's start when never: a restarted server gives every host a fresh grace period."""
        seen = self.last_seen.get(host_id) if host_id else self.kinds_seen.get(kind.lower())
        return self.clock() - (self.started if seen is None else seen)

    async def check(self) -> None:
        """Record hosts whose heartbeats stopped; one pass."""
        now = self.clock()
        for host_id, state in await asyncio.to_thread(self.up_hosts):
            silent = now - self.last_seen.get(host_id, self.started)
            if state == "Up" and silent > self.disconnect_after:
                await asyncio.to_thread(
                    self._apply, self.commands.on_heartbeat_lost, host_id, down=False
                )
            elif state == "Disconnected" and silent > self.down_after:
                await asyncio.to_thread(
                    self._apply, self.commands.on_heartbeat_lost, host_id, down=True
                )

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # a process boundary: keep monitoring
                log.exception("heartbeat check failed")
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                continue

    async def stop(self) -> None:
        if self.subscription is not None:
            await self.subscription.stop()
