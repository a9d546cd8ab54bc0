"""PhysicalNetwork: a zone's network fabric, its isolation method and its pool of guest ids.

The aggregate keeps only its terms (name, isolation, ranges, state): which ids are taken lives in
one `Claim` per id (domain.network_claims), so it never grows with the networks it carries and
concurrent allocations do not contend on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.network_addressing import VnetRanges, check_isolation

PHYSICAL_STATES = ("Enabled", "Disabled")


def _check_state(state: str) -> str:
    for known in PHYSICAL_STATES:
        if known.lower() == state.strip().lower():
            return known
    raise InvalidParameter(f"Invalid state {state}: use Enabled or Disabled")


class PhysicalNetwork(Aggregate):
    """A zone's physical network; guest networks take their VLAN or VNI from its ranges."""

    @event("Created")
    def __init__(
        self,
        zone_id: UUID,
        name: str,
        isolation: str,
        vnet_ranges: list[list[int]],
        speed: str,
        tags: str,
        id: UUID,
    ) -> None:
        if not name:
            raise InvalidParameter("A physical network needs a name")
        self.zone_id, self.name = zone_id, name
        self.isolation = check_isolation(isolation)
        self.vnets = VnetRanges(tuple((a, b) for a, b in vnet_ranges))
        self.speed, self.tags = speed, tags
        self.state = "Disabled"  # as CloudStack: enabled once the operator has set it up
        self.removed = False

    @classmethod
    def create(
        cls, physical_network_id: UUID, zone_id: UUID, name: str, isolation: str, vlan: str | None
    ) -> PhysicalNetwork:
        """A new physical network; `vlan` is CloudStack's range text ("500-1000,2000-2100")."""
        method = check_isolation(isolation)
        ranges = VnetRanges.parse(vlan, method).ranges if vlan else ()
        pairs = [list(pair) for pair in ranges]
        return cls(zone_id, name, method, pairs, "1G", "", id=physical_network_id)

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"Physical network {self.name} has been deleted")

    def check_allocatable(self) -> None:
        """Guest ids are handed out only from an enabled network that has some."""
        self._check_live()
        if self.state != "Enabled":
            raise InvalidState(f"Physical network {self.name} is {self.state}; enable it first")
        if not self.vnets.size:
            raise InvalidState(f"Physical network {self.name} has no vlan range for guests")

    def broadcast_uri(self, vnet: int) -> str:
        scheme = "vxlan" if self.isolation == "VXLAN" else "vlan"
        return f"{scheme}://{vnet}"

    def update(self, vlan: str | None, state: str | None, in_use: Iterable[int]) -> None:
        """Change the guest ranges and/or the state; ids held by networks must stay in range."""
        self._check_live()
        changes: dict[str, Any] = {}
        if vlan is not None:
            ranges = VnetRanges.parse(vlan, self.isolation)
            stranded = sorted(v for v in in_use if v not in ranges)
            if stranded:
                raise ResourceInUse(
                    f"Unable to remove vlan range: ids {', '.join(map(str, stranded[:10]))} are "
                    "in use by guest networks"
                )
            changes["vnet_ranges"] = [list(pair) for pair in ranges.ranges]
        if state is not None:
            changes["state"] = _check_state(state)
        if changes:
            self._updated(changes=changes)

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        if "vnet_ranges" in changes:
            self.vnets = VnetRanges(tuple((a, b) for a, b in changes["vnet_ranges"]))
        self.state = changes.get("state", self.state)

    def delete(self, networks_using: int) -> None:
        self._check_live()
        if networks_using:
            raise ResourceInUse(
                f"Physical network {self.name} still carries {networks_using} guest network(s); "
                "delete them first"
            )
        self._deleted(zone_id=self.zone_id)

    @event("Deleted")
    def _deleted(self, zone_id: UUID) -> None:
        self.removed = True
