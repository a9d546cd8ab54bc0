"""NameClaim: how a unique name (a username, an account in a domain) stays unique in an event log.

A claim's id is derived from the name, so two commands claiming one name write the same aggregate
and the event store lets only one of them through.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

_NAMESPACE = UUID("3c0f6a52-6f1e-4bb0-9a53-2d7c9e0f6b11")


def claim_id(kind: str, key: str) -> UUID:
    return uuid5(_NAMESPACE, f"{kind}\x00{key.lower()}")


class NameClaim(Aggregate):
    """Who holds a unique name now, if anyone."""

    @staticmethod
    def create_id(kind: str, key: str, owner_id: UUID) -> UUID:
        return claim_id(kind, key)

    @event("Claimed")
    def __init__(self, kind: str, key: str, owner_id: UUID) -> None:
        self.kind = kind
        self.key = key
        self.owner_id: UUID | None = owner_id

    def take(self, owner_id: UUID, what: str) -> None:
        if self.owner_id is not None and self.owner_id != owner_id:
            raise InvalidParameter(f"{what} already exists")
        self._taken(owner_id=owner_id)

    @event("Taken")
    def _taken(self, owner_id: UUID) -> None:
        self.owner_id = owner_id

    @event("Released")
    def release(self) -> None:
        self.owner_id = None
