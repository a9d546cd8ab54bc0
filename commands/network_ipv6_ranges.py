"""IPv6 ranges added to a shared network after it was made (4.3's createVlanIpRange with
`networkid` and `startipv6`), and their deletion (deleteVlanIpRange). The range is recorded
on the network, whose VMs' addresses then come from any of its ranges through the same guest-IP
claims (`commands.networks.claim_guest_ipv6`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.errors import ResourceInUse
from domain.network import Network
from domain.network_ipv6 import Ipv6Plan


@dataclass(frozen=True)
class AddIpv6Range:
    network_id: UUID
    range_id: UUID
    plan: Ipv6Plan
    vlan: str | None = None  # when given, the network's own VLAN


def add_ipv6_range(store: Any, command: AddIpv6Range) -> Outcome:
    def attempt() -> Outcome:
        network: Network = store.get(Network, command.network_id, what="network")
        network.add_ipv6_range(command.range_id, command.plan, command.vlan)
        return Outcome(store.last_position(store.save(network)), command.range_id)

    outcome: Outcome = store.run(attempt)
    return outcome


def remove_ipv6_range(store: Any, network_id: UUID, range_id: UUID, held: int) -> Outcome:
    """Refused (536) while `held` addresses of the range are given to NICs (the caller counts
    them in the read models, as for a zone's public range)."""
    if held:
        raise ResourceInUse(
            f"The IPv6 range {range_id} can't be deleted: {held} of its addresses are in use"
        )

    def attempt() -> Outcome:
        network: Network = store.get(Network, network_id, what="network")
        network.remove_ipv6_range(range_id)
        return Outcome(store.last_position(store.save(network)), range_id)

    outcome: Outcome = store.run(attempt)
    return outcome
