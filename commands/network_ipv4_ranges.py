"""IPv4 ranges added to a shared network (4.3's createVlanIpRange with `networkid` and
`startip`), and the deletion of a network's range (deleteVlanIpRange), the one it was made with
included. The network's VMs then get addresses from any of its ranges through the guest-IP
claims (`commands.networks.claim_guest_ip`), so no address is ever given twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.errors import ResourceInUse
from domain.network import Network, ZoneRange
from domain.network_offering import NetworkOffering


@dataclass(frozen=True)
class AddIpv4Range:
    network_id: UUID
    range_id: UUID
    start_ip: str
    end_ip: str | None
    gateway: str | None
    netmask: str | None
    vlan: str | None = None  # when given, the network's own VLAN
    zone_ranges: tuple[ZoneRange, ...] = ()  # the zone's other ranges, as the read model shows


def add_ipv4_range(store: Any, command: AddIpv4Range) -> Outcome:
    def attempt() -> Outcome:
        network: Network = store.get(Network, command.network_id, what="network")
        offering = store.get(NetworkOffering, network.offering_id, what="network offering")
        network.add_ipv4_range(
            command.range_id,
            command.start_ip,
            command.end_ip,
            command.gateway,
            command.netmask,
            command.vlan,
            command.zone_ranges,
            dhcp_across_subnets="VirtualRouter" in offering.services.get("Dhcp", ()),
        )
        return Outcome(store.last_position(store.save(network)), command.range_id)

    outcome: Outcome = store.run(attempt)
    return outcome


def remove_ipv4_range(store: Any, network_id: UUID, range_id: UUID, held: int) -> Outcome:
    """Refused (536) while `held` addresses of the range are given to NICs (the caller counts
    them in the read models, as for a zone's public range)."""
    if held:
        raise ResourceInUse(
            f"The IP range {range_id} can't be deleted: {held} of its addresses are in use"
        )

    def attempt() -> Outcome:
        network: Network = store.get(Network, network_id, what="network")
        network.remove_ipv4_range(range_id)
        return Outcome(store.last_position(store.save(network)), range_id)

    outcome: Outcome = store.run(attempt)
    return outcome
