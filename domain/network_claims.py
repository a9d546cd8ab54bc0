"""Claim: who holds one unique network resource now (a guest VLAN/VNI, a guest IP address).

A claim's id derives from what it claims, so two commands claiming the same VNI or IP write the
same aggregate version and the event store lets only one through: uniqueness needs no lock and
no read model. Each claim is tiny and touched only by those who want that one value, so a pool
of millions scales with how many are held, not with how many exist, and allocations of
different values never conflict.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InsufficientCapacity

_NAMESPACE = UUID("0b6f4f6e-7a53-4c1e-9d0c-3a5e2b8f71d4")


class ClaimKind:
    GUEST_VNET = "guest-vnet"  # scope: the physical network; value: the VLAN id or VNI
    GUEST_IP = "guest-ip"  # scope: the guest network; value: the IPv4 address


def claim_id(kind: str, scope: UUID, value: str) -> UUID:
    return uuid5(_NAMESPACE, f"{kind}\x00{scope}\x00{value}")


class Claim(Aggregate):
    """One value of a pool, held by one holder (a network, a VM) or by nobody."""

    @staticmethod
    def create_id(kind: str, scope: UUID, value: str, holder_id: UUID) -> UUID:
        return claim_id(kind, scope, value)

    @event("Claimed")
    def __init__(self, kind: str, scope: UUID, value: str, holder_id: UUID) -> None:
        self.kind, self.scope, self.value = kind, scope, value
        self.holder_id: UUID | None = holder_id

    @property
    def free(self) -> bool:
        return self.holder_id is None

    def take(self, holder_id: UUID) -> None:
        """Hold a free value; holding it again for the same holder changes nothing."""
        if self.holder_id == holder_id:
            return
        if self.holder_id is not None:
            raise InsufficientCapacity(f"{self.value} is already in use")
        self._taken(holder_id=holder_id)

    @event("Taken")
    def _taken(self, holder_id: UUID) -> None:
        self.holder_id = holder_id

    def release(self, holder_id: UUID) -> None:
        """Give the value back to the pool; only its holder can, and only once."""
        if self.holder_id == holder_id:
            self._released(holder_id=holder_id)

    @event("Released")
    def _released(self, holder_id: UUID) -> None:
        self.holder_id = None
