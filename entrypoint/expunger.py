"""The expunger (relay role): expunges the VMs destroyed longer ago than `expunge.delay`,
a pass every `expunge.interval` seconds, as CloudStack's expunge thread does.

A destroyed VM can be recovered until then; afterwards it is expunged as `expungeVirtualMachine`
does it (its disk removed on its last host through the adapters, its addresses, rules and room
given back), with no job, as 4.3's thread runs none. The settings are read at every pass, so a
change takes effect without a restart; the loop looks every few seconds whether a pass is due.
Several server processes may run it: `expunge_vm` refuses a VM already being expunged, so each
VM is expunged once. The clock is injected (`now`), so tests drive it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from stratus.store.audit import acting

log = logging.getLogger(__name__)
TICK = 5.0  # seconds between two looks at whether a pass is due


class Expunger:
    """One pass at a time; `pass_once` returns the VMs it expunged."""

    def __init__(
        self,
        settings: Callable[[], tuple[int, int]],
        destroyed_before: Callable[[datetime], list[str]],
        expunge: Callable[[UUID], None],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        tick: float = TICK,
    ) -> None:
        self.settings, self.destroyed_before, self.expunge = settings, destroyed_before, expunge
        self.now, self.tick = now, tick
        self.last_pass: datetime | None = None

    def due(self) -> bool:
        _, interval = self.settings()
        return self.last_pass is None or self.now() - self.last_pass >= timedelta(seconds=interval)

    def pass_once(self) -> list[UUID]:
        delay, _ = self.settings()
        now = self.now()
        self.last_pass = now
        expunged = []
        for vm_id in self.destroyed_before(now - timedelta(seconds=delay)):
            with acting(command="expunger"):
                try:
                    self.expunge(UUID(vm_id))
                except DomainError as error:  # recovered, or being expunged, meanwhile
                    log.info("VM %s not expunged: %s", vm_id, error.message)
                    continue
            expunged.append(UUID(vm_id))
        return expunged

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if await asyncio.to_thread(self.due):
                    await asyncio.to_thread(self.pass_once)
            except Exception:  # a process boundary: keep expunging
                log.exception("expunger pass failed")
            try:
                await asyncio.wait_for(stop.wait(), self.tick)
            except TimeoutError:
                continue


def make_expunger(runtime: Any, now: Callable[[], datetime] | None = None) -> Expunger:
    """The expunger over the runtime's store and read models (the real clock by default)."""
    from commands.vms import expunge_vm
    from domain.configuration import DEFINITIONS
    from projections.configuration import global_value
    from projections.vms import destroyed_before

    def settings() -> tuple[int, int]:
        with runtime.db.read() as cursor:
            delay, interval = (
                int(global_value(cursor, name, DEFINITIONS[name].default))
                for name in ("expunge.delay", "expunge.interval")
            )
        return delay, interval

    def destroyed(moment: datetime) -> list[str]:
        with runtime.db.read() as cursor:
            return destroyed_before(cursor, moment)

    def expunge(vm_id: UUID) -> None:
        expunge_vm(runtime.store, vm_id, None)

    if now is None:
        return Expunger(settings, destroyed, expunge)
    return Expunger(settings, destroyed, expunge, now=now)
