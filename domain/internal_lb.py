"""InternalBalancers: the source addresses of a VPC tier that have internal load balancers.

Each address's rules are a rule set of their own (domain.network_rules.internal_rule_set_id),
whose id needs the address; this index, one per tier, is how what follows the tier (its VMs
expunged, the tier deleted) finds those sets. It is saved with the set it names, so an address
is listed exactly while its set has rules.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = UUID("6f1d2b8e-4a7c-4e19-9b53-0c8e7d1a2f64")


def balancers_id(network_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"internal-balancers:{network_id}")


class InternalBalancers(Aggregate):
    """The addresses of one tier that have an internal load balancer set in use."""

    @staticmethod
    def create_id(network_id: UUID) -> UUID:
        return balancers_id(network_id)

    @event("Opened")
    def __init__(self, network_id: UUID) -> None:
        self.network_id = network_id
        self.addresses: set[str] = set()

    def open(self, address: str) -> None:
        if address not in self.addresses:
            self._address_opened(address=address)

    @event("AddressOpened")
    def _address_opened(self, address: str) -> None:
        self.addresses.add(address)

    def close(self, address: str) -> None:
        if address in self.addresses:
            self._address_closed(address=address)

    @event("AddressClosed")
    def _address_closed(self, address: str) -> None:
        self.addresses.discard(address)
