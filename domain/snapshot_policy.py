"""SnapshotPolicy: a volume's recurring snapshots of one interval type, and the ones it took.

A volume has at most one policy per interval type: the id is derived from the volume and the
type, so defining a second replaces the first (it keeps its id), as 4.3 does, and two racing
definitions write the same aggregate. Taking the snapshot due at a given time is recorded here
(`SnapshotTaken`, with that time): two schedulers that decide on the same due time write the
same version of the same aggregate, so the event store lets only one of them through. The policy
keeps the snapshots it took, oldest first, to prune those beyond `max_snaps`.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.snapshot_schedule import Schedule, parse_schedule

_NAMESPACE = UUID("6b2d84f1-0c3e-4e57-a9d1-5f8e27c3b460")
MAX_SNAPS = 8  # 4.3's snapshot.max.hourly, .daily, .weekly and .monthly


def policy_id(volume_id: UUID, interval: str) -> UUID:
    return uuid5(_NAMESPACE, f"{volume_id}/{interval.upper()}")


def scheduled_snapshot_id(policy: UUID, due: datetime) -> UUID:
    """The snapshot a policy takes at `due`: one id per (policy, due time)."""
    return uuid5(_NAMESPACE, f"{policy}@{due.isoformat()}")


def check_max_snaps(max_snaps: int, interval: str) -> int:
    if max_snaps < 1:
        raise InvalidParameter("maxsnaps must be greater than 0")
    if max_snaps > MAX_SNAPS:
        raise InvalidParameter(
            f"maxSnaps exceeds limit: {MAX_SNAPS} for interval type: {interval.lower()}"
        )
    return max_snaps


class SnapshotPolicy(Aggregate):
    """Recurring snapshots of one volume at one interval type."""

    @event("Defined")
    def __init__(
        self,
        id: UUID,
        volume_id: UUID,
        owner_account_id: UUID,
        owner_domain_id: UUID,
        interval: str,
        schedule: str,
        timezone: str,
        max_snaps: int,
        defined_at: datetime,
    ) -> None:
        self.volume_id, self.interval = volume_id, interval
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self._set(schedule, timezone, max_snaps, defined_at)
        self.taken: list[UUID] = []
        self.last_due: datetime | None = None
        self.removed = False

    def _set(self, schedule: str, timezone: str, max_snaps: int, defined_at: datetime) -> None:
        self.schedule, self.timezone = schedule, timezone
        self.max_snaps, self.defined_at = max_snaps, defined_at

    @property
    def plan(self) -> Schedule:
        return parse_schedule(self.interval, self.schedule, self.timezone)

    def redefine(self, schedule: str, timezone: str, max_snaps: int, defined_at: datetime) -> None:
        """A new schedule for the volume's interval type (also bringing a deleted policy back)."""
        self._redefined(
            schedule=schedule, timezone=timezone, max_snaps=max_snaps, defined_at=defined_at
        )

    @event("Redefined")
    def _redefined(
        self, schedule: str, timezone: str, max_snaps: int, defined_at: datetime
    ) -> None:
        self._set(schedule, timezone, max_snaps, defined_at)
        self.removed = False

    def is_due(self, due: datetime) -> bool:
        """Whether the snapshot due at `due` is still to be taken: after the policy was
        defined, and after the last one it took."""
        after = self.defined_at if self.last_due is None else max(self.defined_at, self.last_due)
        return not self.removed and due > after

    def record_taken(self, due: datetime, snapshot_id: UUID) -> None:
        if not self.is_due(due):
            raise InvalidState(f"The snapshot due at {due.isoformat()} was taken already")
        self._snapshot_taken(due=due, snapshot_id=snapshot_id)

    @event("SnapshotTaken")
    def _snapshot_taken(self, due: datetime, snapshot_id: UUID) -> None:
        self.last_due = due
        self.taken.append(snapshot_id)

    def beyond_max(self) -> list[UUID]:
        """The oldest snapshots past `max_snaps`, to prune."""
        return self.taken[: max(len(self.taken) - self.max_snaps, 0)]

    def let_go(self, snapshot_ids: list[UUID]) -> None:
        """These snapshots are no longer the policy's to count (pruned, or deleted by hand)."""
        if snapshot_ids:
            self._released(snapshot_ids=list(snapshot_ids))

    @event("Released")
    def _released(self, snapshot_ids: list[UUID]) -> None:
        self.taken = [s for s in self.taken if s not in snapshot_ids]

    def delete(self) -> None:
        """The policy goes; the snapshots it took stay, and no later policy prunes them."""
        if self.removed:
            raise InvalidState("The snapshot policy has been deleted")
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed, self.taken = True, []
