"""Commands on resource tags: tag resources, take tags off them. Every resource of one request
is changed in one commit, or none is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.errors import InvalidParameter, NotFound
from domain.resource_tags import ResourceTags, tags_id


@dataclass(frozen=True)
class TagTarget:
    """One resource to tag, with its owner (whose tags they are) and when it came to be."""

    resource_type: str
    resource_id: UUID
    since: str
    account_id: UUID
    domain_id: UUID
    parent_id: UUID | None = None  # what the resource goes with: a NIC's VM

    @property
    def tags_id(self) -> UUID:
        return tags_id(self.resource_type, self.resource_id, self.since)


@dataclass(frozen=True)
class CreateTags:
    targets: tuple[TagTarget, ...]
    tags: dict[str, str]
    customer: str = ""


def create_tags(store: Any, command: CreateTags) -> Outcome:
    def attempt() -> Outcome:
        changed = []
        for target in command.targets:
            try:
                tags = store.get(ResourceTags, target.tags_id)
            except NotFound:  # the resource's first tags
                tags = ResourceTags(
                    target.resource_type,
                    target.resource_id,
                    target.since,
                    target.account_id,
                    target.domain_id,
                    target.parent_id,
                )
            tags.tag(command.tags, command.customer)
            changed.append(tags)
        return Outcome(store.last_position(store.save(*changed)))

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class DeleteTags:
    targets: tuple[TagTarget, ...]
    wanted: dict[str, str | None] | None = None  # key → value (None: any value); None: all


def delete_tags(store: Any, command: DeleteTags) -> Outcome:
    def attempt() -> Outcome:
        changed = []
        for target in command.targets:
            try:
                tags = store.get(ResourceTags, target.tags_id)
            except NotFound:  # never tagged
                continue
            if tags.untag(command.wanted):
                changed.append(tags)
        if not changed:
            raise InvalidParameter("Unable to find any tag of the given resources to delete")
        return Outcome(store.last_position(store.save(*changed)))

    result: Outcome = store.run(attempt)
    return result
