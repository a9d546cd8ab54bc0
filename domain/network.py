"""Network: a guest network, its addressing, the VLAN/VNI it rides on and its lifecycle.

Isolated networks belong to one account and get their VLAN/VNI from the zone's physical network
when created; the first VM (or a restart) implements them, which takes a source-NAT public IP
when the offering has SourceNat. Shared networks are made by administrators on a VLAN they name,
with an explicit IP range. Guest IPs are held by one `Claim` each, never by the network, so the
aggregate stays small however many VMs it serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    InvalidParameter,
    InvalidState,
    NotFound,
    PermissionDenied,
    ResourceInUse,
)
from domain.network_addressing import (
    AddressRange,
    address,
    check_not_broadcast,
    cidr,
    is_address,
    subnet,
)
from domain.network_ipv6 import Ipv6Plan, Ipv6Pool
from domain.network_public_ip import vlan_tag

DEFAULT_CIDR = "10.1.1.0/24"
RFC1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
_RANGE_NAMESPACE = UUID("5b0d7a52-8a0e-4f0c-9a57-3f1c2f6f0c41")
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
    def subnet_only(cls, gateway: str, netmask: str) -> Addressing:
        """A shared network made with its subnet but no range yet (4.3 allows it): ranges
        are added later (createVlanIpRange)."""
        net = subnet(gateway, netmask)
        check_not_broadcast(net, address(gateway, "gateway"), "gateway")
        return cls(str(net), str(address(gateway)), str(net.netmask), "", "")

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


def reservation_cidr(text: str) -> IPv4Network:
    """A guest VM CIDR as 4.3 takes it: a valid CIDR of a private (RFC 1918) network."""
    try:
        found = IPv4Network(text.strip(), strict=False)
    except ValueError:
        raise InvalidParameter("Invalid format of Guest VM CIDR.") from None
    if not any(found.subnet_of(IPv4Network(p)) for p in RFC1918):
        raise InvalidParameter(
            "Invalid format of Guest VM CIDR. Make sure it is RFC1918 compliant. "
        )
    return cidr(str(found))


def initial_range_id(network_id: UUID) -> UUID:
    """The id under which the IPv4 range a shared network was created with is listed."""
    return uuid5(_RANGE_NAMESPACE, f"{network_id}:ipv4")


@dataclass(frozen=True)
class Ipv4Range:
    """One IPv4 range of a shared network, with the subnet (gateway, netmask) it is in."""

    start_ip: str
    end_ip: str
    gateway: str
    netmask: str

    @property
    def subnet(self) -> IPv4Network:
        return subnet(self.gateway, self.netmask)

    @property
    def span(self) -> AddressRange:
        return AddressRange(
            IPv4Address(self.start_ip), IPv4Address(self.end_ip), frozenset({address(self.gateway)})
        )

    def overlaps(self, start: str, end: str) -> bool:
        return IPv4Address(start) <= IPv4Address(self.end_ip) and IPv4Address(
            self.start_ip
        ) <= IPv4Address(end)


@dataclass(frozen=True)
class ZoneRange:
    """Another IPv4 range of the zone (public, or of a network), as the read models show it:
    a new network range may overlap none of its addresses, nor its subnet on another VLAN."""

    start_ip: str
    end_ip: str
    gateway: str
    netmask: str
    vlan: str


@dataclass(frozen=True)
class Ipv4Pool:
    """Where a network's VMs get IPv4 addresses: every range it has, in order."""

    ranges: tuple[Ipv4Range, ...]

    def range_of(self, text: str) -> Ipv4Range | None:
        """The range `text` may be given from (never a gateway), if any."""
        point = address(text)
        for each in self.ranges:
            if point in each.span and point != address(each.gateway):
                return each
        return None

    def probe(self, start: int) -> Iterator[str]:
        """Every address of the ranges once, from position `start` on, wrapping; never a
        gateway."""
        spans = [each.span for each in self.ranges]
        total = sum(span.size for span in spans)
        for step in range(total):
            index = (start + step) % total
            for span in spans:
                if index < span.size:
                    point = span.first + index
                    if point not in span.excluded:
                        yield str(point)
                    break
                index -= span.size


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
        network_domain: str = "",
        subdomain_access: bool = True,
        isolated_pvlan: str = "",
    ) -> None:
        if not name:
            raise InvalidParameter("A network needs a name")
        self.network_domain = network_domain  # the DNS domain its router hands to VMs
        self.subdomain_access = subdomain_access  # a shared network: its subdomains' accounts too
        self.isolated_pvlan = isolated_pvlan  # a shared network's isolated private VLAN
        self.network_cidr = ""  # under IP reservation: the whole CIDR (the VMs' is narrower)
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
        self.ipv4_ranges: dict[str, tuple[str, str, str, str]] = {}  # added later, by range id
        self.devices: dict[str, str] = {}  # device provider -> the device the network is on

    @property
    def ipv4_pool(self) -> Ipv4Pool:
        """The network's IPv4 ranges: the one it was made with (while it has it) and those
        added later (start, end, gateway, netmask)."""
        plan = self.addressing
        first = [Ipv4Range(plan.start_ip, plan.end_ip, plan.gateway, plan.netmask)]
        added = [Ipv4Range(*facts) for facts in sorted(self.ipv4_ranges.values())]
        return Ipv4Pool(tuple((first if plan.start_ip else []) + added))

    def add_ipv4_range(
        self,
        range_id: UUID,
        start_ip: str,
        end_ip: str | None,
        gateway: str | None,
        netmask: str | None,
        vlan: str | None,
        zone_ranges: Sequence[ZoneRange] = (),
        dhcp_across_subnets: bool = True,
    ) -> None:
        """One more IPv4 range of a shared network (4.3's createVlanIpRange with networkid and
        startip): in a subnet the network has (gateway and netmask may then be left out; a
        subnet keeps its one gateway), or a new subnet on the network's VLAN, neither inside
        nor around one it has, when its DHCP provider serves several subnets
        (`dhcp_across_subnets`: 4.3's VirtualRouter does); overlapping no address of any range
        of the zone, nor another VLAN's subnet."""
        self._check_live()
        if self.guest_type != "Shared":
            raise InvalidParameter("IP ranges can be added only to shared guest networks")
        if vlan and f"vlan://{vlan_tag(vlan)}" != self.broadcast_uri:
            raise InvalidParameter(
                f"There is already one vlan {self.vnet} on network {self.name}, only one vlan "
                "is allowed on a guest network"
            )
        end_ip = end_ip or start_ip
        gateway, netmask = self._subnet_for(start_ip, end_ip, gateway, netmask, dhcp_across_subnets)
        net = subnet(gateway, netmask)
        span = AddressRange.within(net, start_ip, end_ip, frozenset())
        if address(gateway) in span:
            raise InvalidParameter(
                "The gateway ip should not be the part of the ip range being added"
            )
        start_ip, end_ip = str(span.first), str(span.last)
        if any(each.overlaps(start_ip, end_ip) for each in self.ipv4_pool.ranges):
            raise InvalidParameter(
                "The IP range already has IPs that overlap with the new range. Please specify "
                "a different start IP/end IP."
            )
        own = str(self.vnet) if self.vnet is not None else "untagged"
        for other in zone_ranges:
            if Ipv4Range(other.start_ip, other.end_ip, gateway, netmask).overlaps(start_ip, end_ip):
                raise InvalidParameter(
                    f"The IP range {start_ip}-{end_ip} overlaps the range "
                    f"{other.start_ip}-{other.end_ip} of the zone. Please specify a different "
                    "start IP/end IP."
                )
            if (
                other.vlan != own
                and other.gateway
                and net.overlaps(subnet(other.gateway, other.netmask))
            ):
                raise InvalidParameter(
                    f"The IP range with tag: {other.vlan} in the zone has overlapped with the "
                    "subnet. Please specify a different gateway/netmask."
                )
        self._ipv4_range_added(
            range_id=str(range_id),
            zone_id=self.zone_id,
            physical_network_id=self.physical_network_id,
            vlan=own,
            cidr=str(net),
            gateway=str(address(gateway)),
            netmask=str(net.netmask),
            start_ip=start_ip,
            end_ip=end_ip,
        )

    def _subnet_for(
        self,
        start_ip: str,
        end_ip: str,
        gateway: str | None,
        netmask: str | None,
        dhcp_across_subnets: bool,
    ) -> tuple[str, str]:
        """The gateway and netmask of the new range's subnet, checked against the network's
        subnets as 4.3 checks them."""
        if bool(gateway) != bool(netmask):
            raise InvalidParameter(
                "either both netmask and gateway should be passed or both should be omitted"
            )
        known = (
            {(self.addressing.gateway, self.addressing.netmask)} if self.addressing.cidr else set()
        )
        known |= {(each.gateway, each.netmask) for each in self.ipv4_pool.ranges}
        first, last = address(start_ip, "start ip"), address(end_ip, "end ip")
        for old_gateway, old_netmask in sorted(known):
            old = subnet(old_gateway, old_netmask)
            if not (gateway and netmask):
                if first in old and last in old:
                    return old_gateway, old_netmask
                continue
            new = subnet(gateway, netmask)
            if new == old:
                if address(gateway) != address(old_gateway):
                    raise InvalidParameter(
                        "The gateway of the subnet should be unique. The subnet already has a "
                        f"gateway {old_gateway}"
                    )
            elif new.supernet_of(old):
                raise InvalidParameter(
                    "The subnet you are trying to add is a superset of the existing subnet "
                    f"having gateway {old_gateway} and netmask {old_netmask}"
                )
            elif new.subnet_of(old):
                raise InvalidParameter(
                    "The subnet you are trying to add is a subset of the existing subnet "
                    f"having gateway {old_gateway} and netmask {old_netmask}"
                )
        if not (gateway and netmask):
            raise InvalidParameter(
                "The IP range does not belong to any of the existing subnets, provide the "
                "netmask and gateway if you want to add a new subnet"
            )
        for point, what in ((first, "start IP"), (last, "end IP")):
            if point not in subnet(gateway, netmask):
                raise InvalidParameter(f"The {what} and gateway do not belong to the same subnet")
        new = subnet(gateway, netmask)
        if known and all(subnet(*old) != new for old in known) and not dhcp_across_subnets:
            raise InvalidParameter(
                "The dhcp service provider for this network does not support dhcp across "
                "multiple subnets"
            )
        return gateway, netmask

    @event("Ipv4RangeAdded")
    def _ipv4_range_added(
        self,
        range_id: str,
        zone_id: UUID,
        physical_network_id: UUID | None,
        vlan: str,
        cidr: str,
        gateway: str,
        netmask: str,
        start_ip: str,
        end_ip: str,
    ) -> None:
        if not self.addressing.cidr:  # a network made with no IPv4 plan takes this one's
            self.addressing = replace(self.addressing, cidr=cidr, gateway=gateway, netmask=netmask)
        self.ipv4_ranges = {**self.ipv4_ranges, range_id: (start_ip, end_ip, gateway, netmask)}

    def remove_ipv4_range(self, range_id: UUID) -> Ipv4Range:
        """The range goes (refused by the caller while an address of it is held): one added
        later, or the one the network was made with."""
        self._check_live()
        if range_id == initial_range_id(self.id) and self.addressing.start_ip:
            plan = self.addressing
            gone = Ipv4Range(plan.start_ip, plan.end_ip, plan.gateway, plan.netmask)
        elif str(range_id) in self.ipv4_ranges:
            gone = Ipv4Range(*self.ipv4_ranges[str(range_id)])
        else:
            raise NotFound(f"Network {self.name} has no IP range {range_id}")
        self._ipv4_range_removed(range_id=str(range_id))
        return gone

    @event("Ipv4RangeRemoved")
    def _ipv4_range_removed(self, range_id: str) -> None:
        if range_id == str(initial_range_id(self.id)):
            self.addressing = replace(self.addressing, start_ip="", end_ip="")
        self.ipv4_ranges = {k: v for k, v in self.ipv4_ranges.items() if k != range_id}

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

    def change_network_domain(self, network_domain: str) -> None:
        """A new DNS domain (checked by the caller as 4.3 checks it); the router gets it."""
        self._check_live()
        if network_domain != self.network_domain:
            self._network_domain_changed(network_domain=network_domain)

    @event("NetworkDomainChanged")
    def _network_domain_changed(self, network_domain: str) -> None:
        self.network_domain = network_domain

    def reserve_ips(self, guest_vm_cidr: str, held: Iterable[str]) -> None:
        """4.3's IP reservation: VMs take addresses only from `guest_vm_cidr`, a part of the
        network's CIDR; the rest is left for other hosts. `held` are the addresses VMs hold
        now (read by the caller): none may fall outside. Giving the whole CIDR ends it."""
        self._check_live()
        if self.guest_type != "Isolated":
            raise InvalidParameter(
                "Can only allow IP Reservation in networks with guest type Isolated"
            )
        if self.state != NetworkState.IMPLEMENTED:
            raise InvalidParameter(
                "The network must be in Implemented state. IP Reservation cannot be applied in "
                f"{self.state} state"
            )
        wanted = reservation_cidr(guest_vm_cidr)
        whole = cidr(self.network_cidr or self.addressing.cidr)
        if not wanted.subnet_of(whole):
            raise InvalidParameter(
                "Invalid value of Guest VM CIDR. For IP Reservation, Guest VM CIDR  should be a "
                f"subset of network CIDR : {whole}"
            )
        outside = sorted(ip for ip in held if is_address(ip) and IPv4Address(ip) not in wanted)
        if outside:
            raise InvalidParameter(
                f"Active IPs like {', '.join(outside[:10])} exist outside the Guest VM CIDR. "
                "Cannot apply reservation "
            )
        if str(wanted) == self.addressing.cidr:
            return
        self._ips_reserved(
            guest_vm_cidr=str(wanted), network_cidr="" if wanted == whole else str(whole)
        )

    @event("IpsReserved")
    def _ips_reserved(self, guest_vm_cidr: str, network_cidr: str) -> None:
        hosts = AddressRange.hosts_of(cidr(guest_vm_cidr), frozenset())
        self.addressing = replace(
            self.addressing,
            cidr=guest_vm_cidr,
            start_ip=str(hosts.first),
            end_ip=str(hosts.last),
        )
        self.network_cidr = network_cidr

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

    def delete(self, vms_using: int, forced: bool = False) -> None:
        """Delete the network; refused while VMs have NICs on it. `forced` (a root admin's)
        deletes it even when cleaning up its router or devices fails."""
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
            forced=forced,
        )

    @event("Deleted")
    def _deleted(
        self,
        offering_id: UUID,
        account_id: UUID,
        zone_id: UUID,
        broadcast_uri: str | None,
        forced: bool = False,
    ) -> None:
        self.removed = True
