"""Router service monitoring (relay role): every `router.alerts.check.interval` seconds each
running router's host is asked to check its daemons and restart the stopped ones it may. The
same monitor, given another request builder, asks VPC routers about their site-to-site tunnels
(commands.site_to_site_vpn).

A check changes nothing by itself, so it is not an event: the monitor publishes the request
straight to the bus (as the heartbeat monitor does), and only what a check *finds* — a restart,
a failure, a recovery — becomes an event (commands.routers.on_router_check).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from commands.routers import give_up
from domain.errors import NotFound
from domain.host import Host, HostState
from stratus.messages import DEFAULT_PREFIX, WorkRequest, encode, seal_credentials
from stratus.store.audit import acting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckTarget:
    """A running router to check: where it runs, which daemons, which may be restarted."""

    router_id: str
    instance_name: str
    host_id: str
    services: tuple[str, ...]
    restart: tuple[str, ...]


class RouterMonitor:
    """Sends one `check_router` request per running router and period."""

    def __init__(
        self,
        store: Any,
        bus: Any,
        targets: Callable[[], list[Any]],
        interval: Callable[[], float],
        prefix: str = DEFAULT_PREFIX,
        abandoned: Callable[[], list[str]] = list,
        build: Callable[[Any, Any, Any, str], WorkRequest] | None = None,
    ) -> None:
        self.store, self.bus, self.targets, self.interval = store, bus, targets, interval
        self.build = build or _request  # the request of one target (a daemon check by default)
        self.abandoned = abandoned  # appliances waiting on a request whose job has ended
        self.prefix = prefix
        self._round = itertools.count(1)
        self._run = uuid4().hex[:12]  # a restarted monitor's ids must not look like duplicates

    def requests(self) -> list[WorkRequest]:
        """This period's requests (blocking: reads the read model and the hosts)."""
        tick = next(self._round)
        hosts: dict[str, Any] = {}
        made = []
        for target in self.targets():
            if target.host_id not in hosts:
                hosts[target.host_id] = self._host(target.host_id)
            host = hosts[target.host_id]
            if host is None:
                continue
            made.append(self.build(self.store.box, host, target, f"{self._run}:{tick}"))
        return made

    def _host(self, host_id: str) -> Any:
        try:
            host = self.store.get(Host, UUID(host_id), what="host")
        except NotFound:
            return None
        return host if host.state == HostState.UP and not host.removed else None

    def give_up_abandoned(self) -> int:
        """Requests no adapter answered fail as failed results would (blocking)."""
        given = 0
        for vm_id in self.abandoned():
            with acting(command="router-monitor"):
                given += bool(give_up(self.store, UUID(vm_id)).position)
        return given

    async def check(self) -> int:
        """One period: give up abandoned requests, then publish every check; returns how
        many checks were sent."""
        await asyncio.to_thread(self.give_up_abandoned)
        requests = await asyncio.to_thread(self.requests)
        for request in requests:
            await self.bus.publish(
                request.subject(self.prefix), encode(request), msg_id=request.request_id
            )
        return len(requests)

    async def run(self, stop: asyncio.Event, tick: float = 0.5) -> None:
        """Check whenever the configured interval has passed since the last check; the
        interval is read again every tick, so a changed setting applies at once (0: off)."""
        last = -float("inf")
        while not stop.is_set():
            try:
                interval = await asyncio.to_thread(self.interval)
                if interval > 0 and time.monotonic() - last >= interval:
                    last = time.monotonic()
                    await self.check()
            except Exception:  # a process boundary: keep monitoring
                log.exception("router service check failed")
            try:
                await asyncio.wait_for(stop.wait(), tick)
            except TimeoutError:
                continue


def _request(box: Any, host: Any, target: CheckTarget, tick: str) -> WorkRequest:
    return WorkRequest(
        request_id=f"check:{tick}:{target.router_id}",
        hypervisor=host.hypervisor.lower(),
        action="check_router",
        target_id=target.router_id,
        params={
            "host_id": target.host_id,
            "name": target.instance_name,
            "services": list(target.services),
            "restart": list(target.restart),
        },
        sealed_credentials=seal_credentials(box, host.url, host.username, host.password.reveal()),
    )
