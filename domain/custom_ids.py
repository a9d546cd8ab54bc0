"""Custom ids: the id a root administrator gives a resource after it exists (4.3's `customid`).

An aggregate's id never changes, so a custom id is an aggregate of its own whose id IS the custom
id: the log then holds it like any other id, and a second claim of the same id (by another
resource, or as a new resource's given id) finds it taken. It names the resource it stands for;
the newest custom id of a resource is the one the API answers.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event


class CustomId(Aggregate):
    """The id `resource_id` (a `resource_type`, as the API names it) answers to from now on."""

    @event("Created")
    def __init__(self, resource_id: UUID, resource_type: str) -> None:
        self.resource_id = resource_id
        self.resource_type = resource_type
