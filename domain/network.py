"""Network: a guest network, its addressing, the VLAN/VNI it rides on and its lifecycle.

Isolated networks belong to one account and get their VLAN/VNI from the zone's physical network
when created; the first VM (or a restart) implements them, which takes a source-NAT public IP
when the offering has SourceNat. Shared networks are made by administrators on a VLAN they name,
with an explicit IP range. Guest IPs are held by one `Claim` each, never by the network, so the
aggregate stays small however many VMs it serves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from ipaddress import IPv4Address
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    InvalidParameter,
    InvalidState,
    NotFound,
    PermissionDenied,
    ResourceInUse,
)
from domain.network_addressing import AddressRange, address, cidr, subnet
from domain.network_ipv6 import Ipv6Plan, Ipv6Pool
from domain.network_public_ip import vlan_tag

DEFAULT_CIDR = "10.1.1.0/24"
UPDATABLE = frozenset({"name", "display_text"})


class NetworkState:
    ALLOCATED = "Allocated"  # an isolated network no VM has used yet
    IMPLEMENTED = "Implemented"
    SETUP = "Setup"  # a shared network: ready from the start


@dataclass(frozen=True)
class Addressing:
    """A guest network's IPv4 plan: its CIDR, gateway, and the range handed to VMs; and a
    shared network's IPv6 plan beside it ("" where it has none)."""

    cidr: str
    gateway: str
    netmask: str
    start_ip: str
    end_ip: str
    ip6_cidr: str = ""
    ip6_gateway: str = ""
    start_ipv6: str = ""
    end_ipv6: str = ""

    @classmethod
    def isolated(cls, network_cidr: str | None, gateway: str | None) -> Addressing:
        """An isolated network's plan: the CIDR given (10.1.1.0/24 by default), gateway .1."""
        net = cidr(network_cidr or DEFAULT_CIDR)
        gate = address(gateway, "gateway") if gateway else net.network_address + 1
        return cls.of(str(net), str(gate), None, None)

    @classmethod
    def shared(cls, gateway: str, netmask: str, start_ip: str, end_ip: str | None) -> Addressing:
        net = subnet(gateway, netmask)
        return cls.of(str(net), gateway, start_ip, end_ip or start_ip)

    @classmethod
    def of(cls, network_cidr: str, gateway: str, start: str | None, end: str | None) -> Addressing:
        net = cidr(network_cidr)
        gate = address(gateway, "gateway")
        if gate not in net or gate in (net.network_address, net.broadcast_address):
            raise InvalidParameter(f"The gateway {gate} is not a host address of {net}")
        hosts = AddressRange.hosts_of(net, frozenset())
        first, last = start or str(hosts.first), end or str(hosts.last)
        span = AddressRange.within(net, first, last, frozenset({gate}))
        if span.size == 1 and gate in span:
            raise InvalidParameter("The ip range holds only the gateway")
        return cls(str(net), str(gate), str(net.netmask), str(span.first), str(span.last))

    def with_ipv6(self, plan: Ipv6Plan) -> Addressing:
        return replace(self, **plan.facts())

    @classmethod
    def ipv6_only(cls, plan: Ipv6Plan) -> Addressing:
        """A shared network with no IPv4 range (4.3 allows one): its VMs get IPv6 alone."""
        return cls("", "", "", "", "", **plan.facts())

    @property
    def has_ipv4(self) -> bool:
        return bool(self.cidr)

    @property
    def ipv6(self) -> Ipv6Plan | None:
        if not self.ip6_cidr:
            return None
        return Ipv6Plan(self.ip6_cidr, self.ip6_gateway, self.start_ipv6, self.end_ipv6)

    def pool(self) -> AddressRange:
        """The addresses VMs may be given: the range, never the gateway."""
        if not self.has_ipv4:
            raise InvalidParameter("The network has no IPv4 address range")
        return AddressRange(
            IPv4Address(self.start_ip), IPv4Address(self.end_ip), frozenset({address(self.gateway)})
        )

    def facts(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Nic:
    """A VM's interface on a guest network, as recorded on the VM."""

    network_id: UUID
    ip_address: str
    mac_address: str
    gateway: str
    netmask: str
    is_default: bool
    broadcast_uri: str
    network_offering_id: UUID
    ip6_address: str = ""  # on a network with IPv6: the VM's address there, its gateway, CIDR
    ip6_gateway: str = ""
    ip6_cidr: str = ""

    def facts(self) -> dict[str, Any]:
        return asdict(self)


class Network(Aggregate):
    """A guest network of a zone, owned by an account (isolated) or offered to many (shared)."""

    @event("Created")
    def __init__(
        self,
        name: str,
        display_text: str,
        zone_id: UUID,
        physical_network_id: UUID | None,
        offering_id: UUID,
        guest_type: str,
        owner_account_id: UUID,
        owner_domain_id: UUID,
        addressing: dict[str, str],
        broadcast_uri: str | None,
        state: str,
        id: UUID,
    ) -> None:
        if not name:
            raise InvalidParameter("A network needs a name")
        self.name, self.display_text = name, display_text
        self.zone_id, self.physical_network_id = zone_id, physical_network_id
        self.offering_id, self.guest_type = offering_id, guest_type
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self.addressing = Addressing(**addressing)
        self.broadcast_uri = broadcast_uri
        self.state = state
        self.source_nat_ip: str | None = None
        self.removed = False
        self.vpc_id: UUID | None = None  # a VPC's tier
        self.acl_id: UUID | None = None  # the tier's network ACL list
        self.ipv6_ranges: dict[str, tuple[str, str]] = {}  # added later, by range id
        self.devices: dict[str, str] = {}  # device provider -> the device the network is on

    @property
    def ipv6_pool(self) -> Ipv6Pool | None:
        """The network's IPv6 addresses: the range it was made with and those added."""
        plan = self.addressing
        if not plan.ip6_cidr:
            return None
        spans = [(plan.start_ipv6, plan.end_ipv6)] if plan.start_ipv6 else []
        spans += sorted(self.ipv6_ranges.values())
        return Ipv6Pool(plan.ip6_cidr, plan.ip6_gateway, tuple(spans))

    def add_ipv6_range(self, range_id: UUID, plan: Ipv6Plan, vlan: str | None) -> None:
        """One more IPv6 range of a shared network (4.3's createVlanIpRange with startipv6):
        in the network's /64 with its gateway (the network takes them when it had none), on
        its VLAN, overlapping none of its ranges."""
        self._check_live()
        if self.guest_type != "Shared":
            raise InvalidParameter("IPv6 ranges can be added only to shared networks")
        if vlan and f"vlan://{vlan_tag(vlan)}" != self.broadcast_uri:
            raise InvalidParameter(
                f"The vlan {vlan} of the range is not the vlan of network {self.name}"
            )
        pool = self.ipv6_pool
        if pool is not None and pool.ip6_gateway != plan.ip6_gateway:
            raise InvalidParameter(
                f"The input gateway {plan.ip6_gateway} is not same as network gateway "
                f"{pool.ip6_gateway}"
            )
        if pool is not None and pool.ip6_cidr != plan.ip6_cidr:
            raise InvalidParameter(
                f"The input cidr {plan.ip6_cidr} is not same as network cidr {pool.ip6_cidr}"
            )
        if pool is not None and pool.overlaps(*plan.span):
            raise InvalidParameter(
                f"The IPv6 range {plan.start_ipv6}-{plan.end_ipv6} overlaps a range of "
                f"network {self.name}"
            )
        self._ipv6_range_added(
            range_id=str(range_id),
            zone_id=self.zone_id,
            physical_network_id=self.physical_network_id,
            vlan=str(self.vnet) if self.vnet is not None else "untagged",
            **plan.facts(),
        )

    @event("Ipv6RangeAdded")
    def _ipv6_range_added(
        self,
        range_id: str,
        zone_id: UUID,
        physical_network_id: UUID | None,
        vlan: str,
        ip6_cidr: str,
        ip6_gateway: str,
        start_ipv6: str,
        end_ipv6: str,
    ) -> None:
        if not self.addressing.ip6_cidr:
            self.addressing = replace(self.addressing, ip6_cidr=ip6_cidr, ip6_gateway=ip6_gateway)
        self.ipv6_ranges = {**self.ipv6_ranges, range_id: (start_ipv6, end_ipv6)}

    def remove_ipv6_range(self, range_id: UUID) -> tuple[str, str]:
        """The range goes (refused by the caller while an address of it is held)."""
        self._check_live()
        span = self.ipv6_ranges.get(str(range_id))
        if span is None:
            raise NotFound(f"Network {self.name} has no IPv6 range {range_id}")
        self._ipv6_range_removed(range_id=str(range_id))
        return span

    @event("Ipv6RangeRemoved")
    def _ipv6_range_removed(self, range_id: str) -> None:
        self.ipv6_ranges = {k: v for k, v in self.ipv6_ranges.items() if k != range_id}

    def place_on_devices(self, devices: dict[str, UUID]) -> None:
        """The external devices (one per device provider of its offering) that implement the
        network's services, recorded in the save that placed it on them."""
        if devices:
            self._devices_assigned(devices={p: str(d) for p, d in sorted(devices.items())})

    @event("DevicesAssigned")
    def _devices_assigned(self, devices: dict[str, str]) -> None:
        self.devices = dict(devices)

    def join_vpc(self, vpc_id: UUID, acl_id: UUID) -> None:
        """The network is a tier of `vpc_id` (recorded in the save that creates it)."""
        self._vpc_joined(vpc_id=vpc_id, acl_id=acl_id)

    @event("VpcJoined")
    def _vpc_joined(self, vpc_id: UUID, acl_id: UUID) -> None:
        self.vpc_id, self.acl_id = vpc_id, acl_id

    def replace_acl(self, acl_id: UUID) -> None:
        self._check_live()
        if self.vpc_id is None:
            raise InvalidParameter(f"Network {self.name} is not part of a VPC")
        self._acl_replaced(acl_id=acl_id)

    @event("AclReplaced")
    def _acl_replaced(self, acl_id: UUID) -> None:
        self.acl_id = acl_id

    @property
    def vnet(self) -> int | None:
        """The VLAN id or VNI the network rides on (from `vlan://N` / `vxlan://N`)."""
        if not self.broadcast_uri or "://" not in self.broadcast_uri:
            return None
        tail = self.broadcast_uri.split("://", 1)[1]
        return int(tail) if tail.isdigit() else None

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"Network {self.name} has been deleted")

    def check_usable_by(self, account_id: UUID) -> None:
        """A VM of `account_id` may join: isolated networks take their owner's VMs only."""
        self._check_live()
        if self.guest_type == "Isolated" and account_id != self.account_id:
            raise PermissionDenied(f"Network {self.name} belongs to another account")

    @property
    def needs_implementing(self) -> bool:
        return not self.removed and self.state == NetworkState.ALLOCATED

    def implement(self, source_nat_ip: str | None) -> None:
        """Make the network ready for VMs; `source_nat_ip` when its offering has SourceNat."""
        self._check_live()
        if self.needs_implementing:
            self._implemented(source_nat_ip=source_nat_ip)

    @event("Implemented")
    def _implemented(self, source_nat_ip: str | None) -> None:
        self.state, self.source_nat_ip = NetworkState.IMPLEMENTED, source_nat_ip

    def update(self, changes: dict[str, Any]) -> None:
        self._check_live()
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidParameter(f"Cannot update {', '.join(sorted(unknown))} of a network")
        if changes:
            self._updated(changes=dict(changes))

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def change_offering(self, offering_id: UUID, guest_type: str) -> None:
        """Move to another offering of the same guest type (usage bills from this event)."""
        self._check_live()
        if guest_type != self.guest_type:
            raise InvalidParameter(
                f"Network {self.name} is {self.guest_type}: choose a {self.guest_type} offering"
            )
        if offering_id == self.offering_id:
            return
        self._offering_changed(
            previous_offering_id=self.offering_id,
            offering_id=offering_id,
            account_id=self.account_id,
            zone_id=self.zone_id,
        )

    @event("OfferingChanged")
    def _offering_changed(
        self, previous_offering_id: UUID, offering_id: UUID, account_id: UUID, zone_id: UUID
    ) -> None:
        self.offering_id = offering_id

    def restart(self, cleanup: bool) -> None:
        self._check_live()
        self._restarted(cleanup=cleanup)

    @event("Restarted")
    def _restarted(self, cleanup: bool) -> None:
        pass

    def delete(self, vms_using: int) -> None:
        """Delete the network; refused while VMs have NICs on it."""
        self._check_live()
        if vms_using:
            raise ResourceInUse(
                f"Network {self.name} is in use by {vms_using} virtual machine(s); "
                "expunge them first"
            )
        self._deleted(
            offering_id=self.offering_id,
            account_id=self.account_id,
            zone_id=self.zone_id,
            broadcast_uri=self.broadcast_uri,
        )

    @event("Deleted")
    def _deleted(
        self, offering_id: UUID, account_id: UUID, zone_id: UUID, broadcast_uri: str | None
    ) -> None:
        self.removed = True
