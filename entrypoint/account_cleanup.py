"""Account cleanup (relay role): takes away what removed accounts and deleted projects still
own, as CloudStack's account cleanup does: their VMs destroyed and expunged, then their data
disks, snapshots and public addresses, then their networks, VPCs, templates and ISOs.

Each leftover is removed through the API command an administrator would use
(`projections.account_leftovers` names it), run as the cloud's system administrator
(`admin` of ROOT) inside this process, so everything those commands do (routers destroyed,
addresses and room given back, usage closed, events recorded) happens the same way. Those
calls may name the removed account (`account` and `domainid`, as SSH key pairs and VPN users
are named), and no other call can. The account's default security group, which no API
command removes, is taken away by the domain command made for it, last. An
account's steps go in order: a network is tried only once its VMs are gone. A leftover is
tried as soon as it is its turn, and, if it is still there later (refused, or its host did
not answer), again every `account.cleanup.interval` seconds. A disabled account whose VMs could
not all be stopped (marked as needing cleanup) is disabled again the same way, as 4.3's
cleanup does, first one interval after it was found marked. The clock is injected (`now`),
so tests drive it; several processes may run it, as a second removal is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from projections.account_leftovers import Leftover, first_steps

log = logging.getLogger(__name__)
TICK = 5.0  # seconds between two looks for leftovers


class AccountCleanup:
    """`pass_once` runs the commands whose turn it is and returns the leftovers it tried."""

    def __init__(
        self,
        interval: Callable[[], int],
        leftovers: Callable[[], list[Leftover]],
        remove: Callable[[Leftover], None],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        tick: float = TICK,
    ) -> None:
        self.interval, self.leftovers, self.remove = interval, leftovers, remove
        self.now, self.tick = now, tick
        self.tried: dict[str, datetime] = {}  # leftover → when it was last tried

    def pass_once(self) -> list[Leftover]:
        now, retry = self.now(), timedelta(seconds=self.interval())
        due = []
        for leftover in first_steps(self.leftovers()):
            if leftover.key not in self.tried and leftover.deferred:
                self.tried[leftover.key] = now  # its first try comes after an interval
            elif leftover.key not in self.tried or now - self.tried[leftover.key] >= retry:
                due.append(leftover)
        for leftover in due:
            self.tried[leftover.key] = now
            try:
                self.remove(leftover)
            except Exception as error:  # refused or failed: tried again after the interval
                log.info(
                    "account cleanup: %s %s not done: %s",
                    leftover.command,
                    dict(leftover.params),
                    error,
                )
        return due

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.pass_once)
            except Exception:  # a process boundary: keep cleaning
                log.exception("account cleanup pass failed")
            try:
                await asyncio.wait_for(stop.wait(), self.tick)
            except TimeoutError:
                continue


def make_account_cleanup(runtime: Any) -> AccountCleanup:
    """The cleanup over the runtime's store and read models, running API commands as the
    system administrator."""
    from api.app import api_services, system_caller
    from api.dispatch import Call
    from commands.security_groups import remove_owners_group
    from domain.configuration import DEFINITIONS
    from projections.account_leftovers import (
        REMOVE_OWNERS_GROUP,
        disablings_to_retry,
        leftovers,
    )
    from projections.configuration import global_value
    from stratus.store.audit import acting

    services = api_services(runtime)

    def interval() -> int:
        name = "account.cleanup.interval"
        with runtime.db.read() as cursor:
            return int(global_value(cursor, name, DEFINITIONS[name].default))

    def found() -> list[Leftover]:
        with runtime.db.read() as cursor:
            return leftovers(cursor) + disablings_to_retry(cursor)

    def remove(leftover: Leftover) -> None:
        if leftover.command == REMOVE_OWNERS_GROUP:
            with acting(command=REMOVE_OWNERS_GROUP, remote_address="account-cleanup"):
                remove_owners_group(runtime.store, UUID(dict(leftover.params)["id"]))
            return
        command = services.dispatcher.find(leftover.command)
        raw = {"command": command.name, **dict(leftover.params)}
        call = Call(
            runtime,
            services,
            system_caller(runtime),
            command,
            raw,
            "account-cleanup",
            removed_owner=leftover.account_id,
        )
        services.dispatcher.run(call)

    return AccountCleanup(interval, found, remove)
