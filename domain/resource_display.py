"""ResourceDisplay: whether a resource's end users are shown it (4.3's display flag,
`fordisplay` or `displaynetwork`), as a root administrator set it on the resource.

One aggregate per resource, its id derived from the resource's id, started only when a root
administrator first sets the flag: a resource without one is shown. The flag lives beside the
resource rather than in it, so one rule serves every kind of resource that carries it (rules,
load balancers, ACLs, VPN gateways, VPCs, networks, ...) without changing their events.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = UUID("5b0f3f4e-7a2d-4c19-9e6b-2f8d1c4a7e53")


def display_id(resource_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, str(resource_id))


class ResourceDisplay(Aggregate):
    """Whether one resource is shown to its end users."""

    @staticmethod
    def create_id(resource_type: str, resource_id: UUID, display: bool) -> UUID:
        return display_id(resource_id)

    @event("Created")
    def __init__(self, resource_type: str, resource_id: UUID, display: bool) -> None:
        self.resource_type, self.resource_id, self.display = resource_type, resource_id, display

    def set(self, display: bool) -> None:
        """Show or hide the resource; saying what already holds records nothing."""
        if display != self.display:
            self._set(display=display)

    @event("Set")
    def _set(self, display: bool) -> None:
        self.display = display
