"""ResourceTags: the key/value tags an account keeps on one of its resources (4.3's
`createTags`), each with the free `customer` text it was given.

One aggregate per resource and lifetime of that resource (its id derived from the resource's
type, id and when it came to be), so two commands tagging one resource write the same
aggregate, a key is on a resource once, and a public address that is released and taken again
starts without the tags of its earlier owner.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

_NAMESPACE = UUID("4d1f8a36-93c2-4b7e-a5d0-2c6e9b1f7a43")
MAX_LENGTH = 255  # 4.3 keeps keys and values in 255 characters


def tags_id(resource_type: str, resource_id: UUID, since: str) -> UUID:
    return uuid5(_NAMESPACE, f"{resource_type}:{resource_id}:{since}")


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags to add: at least one, each with a key and a value of at most 255 characters."""
    if not tags:
        raise InvalidParameter("At least one tag (tags[0].key and tags[0].value) is required")
    for key, value in tags.items():
        if not key:
            raise InvalidParameter("A tag needs a key")
        if not value:
            raise InvalidParameter(f"Value for the key {key} is either null or empty")
        if len(key) > MAX_LENGTH or len(value) > MAX_LENGTH:
            raise InvalidParameter(f"A tag's key and value are at most {MAX_LENGTH} characters")
    return dict(tags)


class ResourceTags(Aggregate):
    """The tags of one resource: key → value, with the customer text each was given."""

    @staticmethod
    def create_id(
        resource_type: str,
        resource_id: UUID,
        since: str,
        account_id: UUID,
        domain_id: UUID,
        parent_id: UUID | None = None,
    ) -> UUID:
        return tags_id(resource_type, resource_id, since)

    @event("Created")
    def __init__(
        self,
        resource_type: str,
        resource_id: UUID,
        since: str,
        account_id: UUID,
        domain_id: UUID,
        parent_id: UUID | None = None,  # what the resource goes with (a NIC's VM); older: none
    ) -> None:
        self.resource_type, self.resource_id, self.since = resource_type, resource_id, since
        self.account_id, self.domain_id = account_id, domain_id
        self.parent_id = parent_id
        self.values: dict[str, str] = {}

    def tag(self, tags: dict[str, str], customer: str) -> None:
        """Add these keys; a key the resource already has is refused, and nothing is added."""
        for key in check_tags(tags):
            if key in self.values:
                raise InvalidParameter(
                    f"A tag with key {key} already exists on {self.resource_type} "
                    f"{self.resource_id}"
                )
        self._tagged(tags=dict(tags), customer=customer)

    @event("Tagged")
    def _tagged(self, tags: dict[str, str], customer: str) -> None:
        self.values.update(tags)

    def matching(self, wanted: dict[str, str | None] | None) -> list[str]:
        """The keys that `wanted` names (with the value, when one is given); all without it."""
        if not wanted:
            return sorted(self.values)
        return sorted(
            key
            for key, value in self.values.items()
            if key in wanted and wanted[key] in (None, value)
        )

    def untag(self, wanted: dict[str, str | None] | None) -> int:
        """Remove the tags `wanted` names (every tag when none); how many went."""
        keys = self.matching(wanted)
        if keys:
            self._untagged(keys=keys)
        return len(keys)

    @event("Untagged")
    def _untagged(self, keys: list[str]) -> None:
        for key in keys:
            del self.values[key]
