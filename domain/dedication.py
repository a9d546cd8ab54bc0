"""Dedication: a zone, pod, cluster or host set aside for one domain or one account.

Each resource has one `Dedication` aggregate, its id derived from the resource, so it is its
own claim: two requests dedicating one host write the same aggregate and the second finds it
dedicated. A dedication names its explicit dedication affinity group (type
`ExplicitDedication`): VMs in that group land only on what is dedicated to it, and VMs outside
every such group never land on a dedicated pod, cluster or host (4.3's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter
from domain.network_addressing import VnetRanges

_NAMESPACE = UUID("6a2d94e1-0b3c-47f8-a5d6-2c81e9f07b35")
KINDS = ("Zone", "Pod", "Cluster", "Host")
EXPLICIT_DEDICATION = "ExplicitDedication"


def dedication_id(kind: str, resource_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"{kind}:{resource_id}")


def group_name(domain_name: str, account_name: str | None) -> str:
    """4.3's name of an owner's explicit dedication group."""
    return f"DedicatedGrp-{account_name}" if account_name else f"DedicatedGrp-domain-{domain_name}"


@dataclass(frozen=True)
class Owner:
    """Whom a resource is dedicated to: a domain, or one account of it."""

    domain_id: UUID
    account_id: UUID | None = None


class Dedication(Aggregate):
    """Whether one resource is dedicated, to whom, and through which affinity group."""

    @staticmethod
    def create_id(kind: str, resource_id: UUID, name: str) -> UUID:
        return dedication_id(kind, resource_id)

    @event("Opened")
    def __init__(self, kind: str, resource_id: UUID, name: str) -> None:
        if kind not in KINDS:
            raise InvalidParameter(f"Unknown kind of resource to dedicate: {kind}")
        self.kind, self.resource_id, self.name = kind, resource_id, name
        self.domain_id: UUID | None = None
        self.account_id: UUID | None = None
        self.group_id: UUID | None = None

    @property
    def dedicated(self) -> bool:
        return self.domain_id is not None

    def dedicate(self, owner: Owner, group_id: UUID, where: dict[str, UUID | None]) -> None:
        """Dedicate it; `where` names the zone, pod and cluster it is in (for the read model)."""
        if self.dedicated:
            raise InvalidParameter(f"{self.kind} {self.name} is already dedicated")
        self._dedicated(
            domain_id=owner.domain_id,
            account_id=owner.account_id,
            group_id=group_id,
            zone_id=where.get("zone_id"),
            pod_id=where.get("pod_id"),
            cluster_id=where.get("cluster_id"),
        )

    @event("Dedicated")
    def _dedicated(
        self,
        domain_id: UUID,
        account_id: UUID | None,
        group_id: UUID,
        zone_id: UUID | None,
        pod_id: UUID | None,
        cluster_id: UUID | None,
    ) -> None:
        self.domain_id, self.account_id, self.group_id = domain_id, account_id, group_id

    def release(self) -> None:
        if not self.dedicated:
            raise InvalidParameter(f"No Dedicated Resource available to release: {self.name}")
        self._released(group_id=self.group_id)

    @event("Released")
    def _released(self, group_id: UUID | None) -> None:
        self.domain_id = self.account_id = self.group_id = None


def guest_vlan_dedications_id(physical_network_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"guest-vlans:{physical_network_id}")


class GuestVlanDedications(Aggregate):
    """The guest VLAN (or VNI) ranges of one physical network dedicated to accounts: one
    aggregate per physical network, so two dedications can never overlap."""

    @staticmethod
    def create_id(physical_network_id: UUID) -> UUID:
        return guest_vlan_dedications_id(physical_network_id)

    @event("Opened")
    def __init__(self, physical_network_id: UUID) -> None:
        self.physical_network_id = physical_network_id
        self.ranges: dict[str, dict[str, Any]] = {}

    def dedicate(
        self, range_id: UUID, owner: Owner, first: int, last: int, pool: VnetRanges
    ) -> None:
        """Dedicate `first`-`last` (inside the physical network's `pool`) to an account."""
        if not any(a <= first and last <= b for a, b in pool.ranges):
            raise InvalidParameter(
                f"Unable to dedicate vlan range {first}-{last}: it is not within the guest "
                f"vlan ranges of the physical network ({pool.text or 'none'})"
            )
        for other in self.ranges.values():
            if first <= other["last"] and other["first"] <= last:
                raise InvalidParameter(
                    f"Vlan range {first}-{last} overlaps the range {other['first']}-"
                    f"{other['last']}, which is already dedicated"
                )
        self._dedicated(
            range_id=range_id,
            physical_network_id=self.physical_network_id,
            account_id=owner.account_id,
            domain_id=owner.domain_id,
            first=first,
            last=last,
        )

    @event("Dedicated")
    def _dedicated(
        self,
        range_id: UUID,
        physical_network_id: UUID,
        account_id: UUID | None,
        domain_id: UUID,
        first: int,
        last: int,
    ) -> None:
        self.ranges[str(range_id)] = {
            "account_id": account_id,
            "domain_id": domain_id,
            "first": first,
            "last": last,
        }

    def release(self, range_id: UUID) -> None:
        if str(range_id) not in self.ranges:
            raise InvalidParameter(f"Unable to find dedicated guest vlan range by id {range_id}")
        self._released(range_id=range_id)

    @event("Released")
    def _released(self, range_id: UUID) -> None:
        del self.ranges[str(range_id)]

    def owner_of(self, vnet: int) -> UUID | None:
        """The account a guest id is dedicated to, if any."""
        for dedicated in self.ranges.values():
            if dedicated["first"] <= vnet <= dedicated["last"]:
                return dedicated["account_id"]  # type: ignore[no-any-return]
        return None

    def spans(self) -> list[tuple[int, int]]:
        return [(r["first"], r["last"]) for r in self.ranges.values()]

    def of_account(self, account_id: UUID) -> list[tuple[int, int]]:
        return [
            (r["first"], r["last"]) for r in self.ranges.values() if r["account_id"] == account_id
        ]


def parse_vlan_range(text: str, isolation: str) -> tuple[int, int]:
    """`start-end` (or one id), as dedicateGuestVlanRange takes it."""
    ranges = VnetRanges.parse(text, isolation)
    if len(ranges.ranges) != 1 or "," in text:
        raise InvalidParameter("Please specify a valid vlan range: <start>-<end>")
    return ranges.ranges[0]
