"""AuditTrail: the archiving and deleting of one account's audit entries.

The log is never changed: hiding an entry from the audit view is itself a recorded fact.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter


class AuditTrail(Aggregate):
    """One per account whose entries were ever archived or deleted; its id derives from it."""

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"stratus:audit-trail:{account_id}")

    @event("Opened")
    def __init__(self, account_id: UUID) -> None:
        self.account_id = account_id

    def archive(self, entry_ids: tuple[str, ...]) -> None:
        self._archived(entry_ids=_checked(entry_ids))

    @event("EntriesArchived")
    def _archived(self, entry_ids: tuple[str, ...]) -> None:
        pass

    def delete(self, entry_ids: tuple[str, ...]) -> None:
        self._deleted(entry_ids=_checked(entry_ids))

    @event("EntriesDeleted")
    def _deleted(self, entry_ids: tuple[str, ...]) -> None:
        pass


def _checked(entry_ids: tuple[str, ...]) -> tuple[str, ...]:
    if not entry_ids:
        raise InvalidParameter("No events match the given criteria")
    return tuple(sorted(set(entry_ids)))
