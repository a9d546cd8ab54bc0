"""Public addresses: the ranges an administrator gives a zone, and each address's owner.

A `PublicIp`'s id derives from its zone and address, so it is its own claim: two commands
associating one address write the same aggregate version and only one succeeds. Its events
carry what usage bills for IP addresses (account, domain, zone, address, source NAT or not,
system or not); the event times are the usage times.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InsufficientCapacity, InvalidParameter, InvalidState, ResourceInUse
from domain.network_addressing import MAX_RANGE_ADDRESSES, AddressRange, address, subnet

_NAMESPACE = UUID("9c2d7e1a-4b3f-4f8e-8a61-5d0e9b7c2f35")
UNTAGGED = "untagged"


def public_ip_id(zone_id: UUID, ip: str) -> UUID:
    return uuid5(_NAMESPACE, f"{zone_id}\x00{ip}")


def vlan_tag(text: str | None) -> str:
    """`untagged`, or a VLAN id 1-4094 (also written `vlan://N`)."""
    tag = (text or UNTAGGED).strip().lower().removeprefix("vlan://")
    if tag == UNTAGGED:
        return UNTAGGED
    if not tag.isdigit() or not 1 <= int(tag) <= 4094:
        raise InvalidParameter(f"Invalid vlan {text}: use untagged or an id from 1 to 4094")
    return str(int(tag))


class VlanIpRange(Aggregate):
    """A zone's range of public addresses on one VLAN, handed out one by one."""

    @event("Created")
    def __init__(
        self,
        zone_id: UUID,
        physical_network_id: UUID | None,
        vlan: str,
        gateway: str,
        netmask: str,
        start_ip: str,
        end_ip: str,
        for_virtual_network: bool,
        id: UUID,
        pod_id: UUID | None = None,
    ) -> None:
        span = public_range(gateway, netmask, start_ip, end_ip)
        self.zone_id, self.physical_network_id = zone_id, physical_network_id
        self.pod_id = pod_id  # a basic zone's guest range for one pod
        self.vlan = vlan_tag(vlan)
        self.gateway, self.netmask = gateway, netmask
        self.start_ip, self.end_ip = str(span.first), str(span.last)
        self.for_virtual_network = for_virtual_network
        self.removed = False
        self.account_id: UUID | None = None  # dedicated to (dedicatePublicIpRange)
        self.domain_id: UUID | None = None

    def dedicate(self, account_id: UUID, domain_id: UUID, allocated_to_others: int) -> None:
        """Dedicate the range to an account: only its addresses come from it from now on."""
        if self.removed:
            raise InvalidState("The ip range has been deleted")
        if self.account_id is not None:
            raise InvalidParameter("Public IP range has already been dedicated")
        if allocated_to_others:
            raise InvalidParameter(
                "Public IP address in range is already allocated to another account"
            )
        self._dedicated(account_id=account_id, domain_id=domain_id)

    @event("Dedicated")
    def _dedicated(self, account_id: UUID, domain_id: UUID) -> None:
        self.account_id, self.domain_id = account_id, domain_id

    def release_dedication(self) -> None:
        if self.account_id is None:
            raise InvalidParameter("Public IP range is not dedicated to any account")
        self._dedication_released()

    @event("DedicationReleased")
    def _dedication_released(self) -> None:
        self.account_id = self.domain_id = None

    def admits(self, account_id: UUID) -> bool:
        """Whether an address of this range may go to `account_id`."""
        owner = getattr(self, "account_id", None)
        return owner is None or owner == account_id

    def addresses(self) -> AddressRange:
        return AddressRange(address(self.start_ip), address(self.end_ip))

    def delete(self, allocated: int) -> None:
        if self.removed:
            raise InvalidState("The ip range has already been deleted")
        if allocated:
            raise ResourceInUse(
                f"The ip range has {allocated} allocated ip address(es); release them first"
            )
        self._deleted(zone_id=self.zone_id)

    @event("Deleted")
    def _deleted(self, zone_id: UUID) -> None:
        self.removed = True


def public_range(gateway: str, netmask: str, start_ip: str, end_ip: str) -> AddressRange:
    """A valid public range: inside the gateway's subnet, gateway excluded, at most a /16."""
    net = subnet(gateway, netmask)
    gate = address(gateway, "gateway")
    span = AddressRange.within(net, start_ip, end_ip or start_ip, frozenset())
    if gate in span:
        raise InvalidParameter(f"The gateway {gate} must not be inside the ip range")
    if span.size > MAX_RANGE_ADDRESSES:
        raise InvalidParameter(f"An ip range holds at most {MAX_RANGE_ADDRESSES} addresses")
    return span


class PublicIp(Aggregate):
    """One public address of a zone: free, or associated with an account (and a network)."""

    @staticmethod
    def create_id(zone_id: UUID, address: str, vlan_range_id: UUID) -> UUID:
        return public_ip_id(zone_id, address)

    @event("Opened")
    def __init__(self, zone_id: UUID, address: str, vlan_range_id: UUID) -> None:
        self.zone_id, self.address, self.vlan_range_id = zone_id, address, vlan_range_id
        self.account_id: UUID | None = None
        self.domain_id: UUID | None = None
        self.network_id: UUID | None = None
        self.source_nat = False
        self.is_system = False
        self.rule_count = 0  # network rules on the address (domain/network_rules.py)
        self.vpc_id: UUID | None = None  # an address of a VPC (its network: the tier it serves)

    @property
    def allocated(self) -> bool:
        return self.account_id is not None

    def facts(self) -> dict[str, Any]:
        """What usage bills an association for (usage type 3)."""
        return {
            "account_id": self.account_id,
            "domain_id": self.domain_id,
            "zone_id": self.zone_id,
            "address": self.address,
            "network_id": self.network_id,
            "source_nat": self.source_nat,
            "is_system": self.is_system,
            "vlan_range_id": self.vlan_range_id,
        }

    def associate(
        self,
        account_id: UUID,
        domain_id: UUID,
        network_id: UUID | None,
        *,
        vlan_range_id: UUID | None = None,
        source_nat: bool = False,
        is_system: bool = False,
    ) -> None:
        """Allocate to an account; `vlan_range_id` names the range it is handed out from now
        (an address outlives a range that was deleted and made again)."""
        if self.allocated:
            raise InsufficientCapacity(f"Public ip address {self.address} is already allocated")
        self._associated(
            account_id=account_id,
            domain_id=domain_id,
            zone_id=self.zone_id,
            address=self.address,
            network_id=network_id,
            source_nat=source_nat,
            is_system=is_system,
            vlan_range_id=vlan_range_id or self.vlan_range_id,
        )

    @event("Associated")
    def _associated(
        self,
        account_id: UUID,
        domain_id: UUID,
        zone_id: UUID,
        address: str,
        network_id: UUID | None,
        source_nat: bool,
        is_system: bool,
        vlan_range_id: UUID,
    ) -> None:
        self.account_id, self.domain_id, self.network_id = account_id, domain_id, network_id
        self.source_nat, self.is_system = source_nat, is_system
        self.vlan_range_id = vlan_range_id

    def join_vpc(self, vpc_id: UUID) -> None:
        """The address, just associated, belongs to a VPC (saved with its association); a rule
        places it on one of the VPC's tiers (`serve_tier`)."""
        self._vpc_joined(vpc_id=vpc_id)

    @event("VpcJoined")
    def _vpc_joined(self, vpc_id: UUID) -> None:
        self.vpc_id = vpc_id

    def leave_vpc(self) -> None:
        """A portable address of a VPC moved to a network outside it (`transfer`)."""
        if self.in_vpc is not None:
            self._vpc_left(vpc_id=self.in_vpc)

    @event("VpcLeft")
    def _vpc_left(self, vpc_id: UUID) -> None:
        self.vpc_id = None

    def serve_tier(self, network_id: UUID | None) -> None:
        """A VPC's address serves the tier its first rule is on, and goes back to the VPC
        (None) when its last rule is gone, as 4.3 associates and unassociates it."""
        vpc_id = self.in_vpc
        if vpc_id is None:
            raise InvalidParameter(f"Ip address {self.address} does not belong to a VPC")
        if network_id is not None and self.network_id not in (None, network_id):
            raise InvalidParameter(
                f"Ip address {self.address} is associated with another network of its VPC "
                f"({self.network_id}): delete its rules first"
            )
        if network_id != self.network_id:
            self._tier_served(network_id=network_id, vpc_id=vpc_id)

    @event("TierServed")
    def _tier_served(self, network_id: UUID | None, vpc_id: UUID) -> None:
        self.network_id = network_id

    @property
    def in_vpc(self) -> UUID | None:
        """The VPC the address belongs to (None for an isolated network's or a free one)."""
        found: UUID | None = getattr(self, "vpc_id", None)
        return found

    def disassociate(self, *, with_network: bool = False) -> None:
        """Give the address back; its network's (or VPC's) source-NAT address goes only with
        the network (or VPC)."""
        if not self.allocated:
            raise InvalidState(f"Public ip address {self.address} is not allocated")
        if self.source_nat and not with_network:
            owner = "VPC" if self.in_vpc else "network"
            raise InvalidParameter(
                f"Ip address {self.address} is the source nat ip of its {owner}; it is released "
                f"when the {owner} is deleted"
            )
        if self.rule_count and not with_network:
            raise ResourceInUse(
                f"Ip address {self.address} has {self.rule_count} network rule(s); delete them "
                "(and disable static nat) first"
            )
        self._disassociated(**self.facts())

    @property
    def portable_region(self) -> int | None:
        """The region of a portable address (domain/portable_ips.py); None for a zone's."""
        region: int | None = getattr(self, "portable_in", None)
        return region

    def place_portable(self, region_id: int, zone_id: UUID) -> None:
        """A free portable address is about to be associated in a zone of its region."""
        if self.allocated:
            raise InsufficientCapacity(f"Public ip address {self.address} is already allocated")
        self._portable_placed(region_id=region_id, zone_id=zone_id)

    @event("PortablePlaced")
    def _portable_placed(self, region_id: int, zone_id: UUID) -> None:
        self.portable_in = region_id
        self.zone_id = zone_id

    def transfer(self, zone_id: UUID, network_id: UUID) -> None:
        """Move an associated portable address to another network of its account (in any zone
        of its region), as 4.3 does when static NAT sends it to a VM there."""
        if self.portable_region is None:
            raise InvalidParameter(
                f"Ip address {self.address} is not portable: it stays with network "
                f"{self.network_id}"
            )
        if not self.allocated:
            raise InvalidState(f"Public ip address {self.address} is not allocated")
        if self.rule_count:
            raise ResourceInUse(
                f"Portable ip address {self.address} has {self.rule_count} network rule(s): "
                "it moves only without them"
            )
        self._transferred(
            zone_id=zone_id,
            network_id=network_id,
            from_zone_id=self.zone_id,
            from_network_id=self.network_id,
        )

    @event("Transferred")
    def _transferred(
        self,
        zone_id: UUID,
        network_id: UUID,
        from_zone_id: UUID,
        from_network_id: UUID | None,
    ) -> None:
        self.zone_id, self.network_id = zone_id, network_id

    def rules_changed(self, count: int) -> None:
        """Saved with every change of the address's rules, so a release racing a new rule
        writes the same version and one of them is checked again."""
        self._rules_changed(count=count)

    @event("RulesChanged")
    def _rules_changed(self, count: int) -> None:
        self.rule_count = count

    @event("Disassociated")
    def _disassociated(
        self,
        account_id: UUID,
        domain_id: UUID,
        zone_id: UUID,
        address: str,
        network_id: UUID | None,
        source_nat: bool,
        is_system: bool,
        vlan_range_id: UUID,
    ) -> None:
        self.account_id = self.domain_id = self.network_id = None
        self.source_nat = self.is_system = False
        self.rule_count = 0  # a network's rules go with it
        self.vpc_id = None
