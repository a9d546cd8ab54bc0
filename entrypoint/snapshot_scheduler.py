"""The snapshot scheduler (relay role): takes the snapshots that policies have due, and prunes
each policy's oldest beyond its `maxsnaps`.

Each pass reads the policies in force, works out for each the latest time its schedule fell due
(`domain.snapshot_schedule`), and for a time later than the one it last took asks
`commands.snapshot_policies.take_due_snapshot` to take it. That command is the one decision: it
commits the due time on the policy with the snapshot, so several server processes running this
scheduler take one snapshot per policy and due time. A time missed while no scheduler ran is not
made up: the next pass takes the latest one due, as CloudStack schedules the next run from now.
The clock is injected (`now`), so tests drive it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.snapshot_schedule import parse_schedule
from stratus.store.audit import acting

log = logging.getLogger(__name__)
PASS_INTERVAL = 30.0  # seconds: schedules are to the minute


class SnapshotScheduler:
    """One pass at a time over the policies in force; `pass_once` returns what it took, as
    (policy id, snapshot id) pairs."""

    def __init__(
        self,
        policies: Callable[[], list[dict[str, Any]]],
        take: Callable[[UUID, datetime], UUID | None],
        prune: Callable[[UUID], None],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        interval: float = PASS_INTERVAL,
    ) -> None:
        self.policies, self.take, self.prune = policies, take, prune
        self.now, self.interval = now, interval

    def pass_once(self) -> list[tuple[UUID, UUID]]:
        now = self.now()
        taken: list[tuple[UUID, UUID]] = []
        for policy in self.policies():
            with acting(command="snapshot-scheduler"):
                try:
                    taken += self._visit(policy, now)
                except DomainError as error:  # the volume or policy went meanwhile
                    log.info("snapshot policy %s: %s", policy["id"], error.message)
        return taken

    def _visit(self, policy: dict[str, Any], now: datetime) -> list[tuple[UUID, UUID]]:
        plan = parse_schedule(policy["interval_type"], policy["schedule"], policy["timezone"])
        due = plan.latest_due(now)
        last = policy["last_due"]
        if due > datetime.fromisoformat(policy["defined_at"]) and (
            last is None or due > datetime.fromisoformat(last)
        ):
            snapshot_id = self.take(UUID(policy["id"]), due)
            return [(UUID(policy["id"]), snapshot_id)] if snapshot_id else []
        if int(policy["held"]) > int(policy["max_snaps"]):
            self.prune(UUID(policy["id"]))  # what the pass that took it could not prune yet
        return []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.pass_once)
            except Exception:  # a process boundary: keep scheduling
                log.exception("snapshot scheduler pass failed")
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                continue


def make_scheduler(runtime: Any, now: Callable[[], datetime] | None = None) -> SnapshotScheduler:
    """The scheduler over the runtime's store and read models (the real clock by default)."""
    from commands.snapshot_policies import prune, take_due_snapshot
    from commands.templates import StoreChoice, store_choice
    from projections.snapshot_policies import live_policies
    from projections.storage import image_destination

    store = runtime.store

    def policies() -> list[dict[str, Any]]:
        with runtime.db.read() as cursor:
            return live_policies(cursor)

    def destination(zone_id: UUID) -> StoreChoice | None:
        """The zone's image store a scheduled snapshot's copy is written to, as a manual one's."""
        with runtime.db.read() as cursor:
            return store_choice(image_destination(cursor, str(zone_id)))

    def take(policy_id: UUID, due: datetime) -> UUID | None:
        return take_due_snapshot(store, policy_id, due, destination).id

    def prune_policy(policy_id: UUID) -> None:
        prune(store, policy_id)

    if now is None:
        return SnapshotScheduler(policies, take, prune_policy)
    return SnapshotScheduler(policies, take, prune_policy, now=now)
