"""Dedication: a zone, pod, cluster or host set aside for one domain or one account.

Each resource has one `Dedication` aggregate, its id derived from the resource, so it is its
own claim: two requests dedicating one host write the same aggregate and the second finds it
dedicated. A dedication names its explicit dedication affinity group (type
`ExplicitDedication`): VMs in that group land only on what is dedicated to it, and VMs outside
every such group never land on a dedicated pod, cluster or host (4.3's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

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
