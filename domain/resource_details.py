"""ResourceDetails: the free key/value details an administrator keeps on one resource (4.3's
resource metadata: `addResourceDetail`), each shown to users or not (`fordisplay`).

One aggregate per resource, its id derived from the resource's type and id, so two commands
detailing one resource write the same aggregate and neither loses the other's keys.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

_NAMESPACE = UUID("0e4c2b8a-51d3-4f7e-9a61-7c3d2e8b4f90")


def details_id(resource_type: str, resource_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"{resource_type}:{resource_id}")


def check_details(details: dict[str, str]) -> dict[str, str]:
    if not details:
        raise InvalidParameter("Details must hold at least one key and value")
    for key, value in details.items():
        if not key:
            raise InvalidParameter("A detail needs a key")
        if not value:
            raise InvalidParameter(f"Value for the key {key} is either null or empty")
    return dict(details)


class ResourceDetails(Aggregate):
    """The details of one resource: key → (value, shown to its users or not)."""

    @staticmethod
    def create_id(resource_type: str, resource_id: UUID, account_id: UUID, domain_id: UUID) -> UUID:
        return details_id(resource_type, resource_id)

    @event("Created")
    def __init__(
        self, resource_type: str, resource_id: UUID, account_id: UUID, domain_id: UUID
    ) -> None:
        self.resource_type, self.resource_id = resource_type, resource_id
        self.account_id, self.domain_id = account_id, domain_id
        self.values: dict[str, str] = {}
        self.shown: dict[str, bool] = {}

    def add(self, details: dict[str, str], display: bool) -> None:
        """Set these keys (a key already there takes the new value)."""
        self._added(details=check_details(details), display=display)

    @event("Added")
    def _added(self, details: dict[str, str], display: bool) -> None:
        for key, value in details.items():
            self.values[key], self.shown[key] = value, display

    def remove(self, key: str | None) -> None:
        """Remove one key, or every key when none is named; a key not there is no error."""
        keys = sorted(self.values) if key is None else [k for k in self.values if k == key]
        if keys:
            self._removed(keys=keys)

    @event("Removed")
    def _removed(self, keys: list[str]) -> None:
        for key in keys:
            del self.values[key], self.shown[key]
