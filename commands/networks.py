"""Commands on physical and guest networks, and the guest NICs a VM gets when it is deployed.

Guest VLANs/VNIs and guest IPs are allocated through claims (commands.network_claims): one
small aggregate per value, saved in the same transaction as what holds it, so no value is handed
out twice whatever runs at the same time, and deleting the holder gives the value back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from ipaddress import IPv6Address
from itertools import chain
from typing import Any
from uuid import UUID, uuid5

from commands import Outcome, change
from commands.dedication import check_dedicated_vlans_kept, guest_vnet_candidates
from commands.network_claims import (
    ALLOCATION_ATTEMPTS,
    claim_exact,
    claim_first_free,
    released,
)
from commands.network_devices import DeviceCandidates, place_on_devices, released_devices
from commands.network_public_ips import (
    Acquire,
    PublicPool,
    acquire_public_ip,
    released_with_network,
)
from commands.network_rules import dropped_with_network
from commands.vpcs import TierRequest, join_vpc, leave_vpc
from domain.errors import InsufficientCapacity, InvalidParameter, InvalidState
from domain.infrastructure import Zone
from domain.network import Addressing, Network, NetworkState, Nic
from domain.network_addressing import is_address
from domain.network_claims import Claim, ClaimKind
from domain.network_ipv6 import Ipv6Plan, Ipv6Pool
from domain.network_offering import SOURCE_NAT, NetworkOffering
from domain.network_physical import PhysicalNetwork, PhysicalOptions, broadcast_domain_range
from domain.network_public_ip import PublicIp, public_ip_id, vlan_tag
from domain.vm import VirtualMachine

_MAC_NAMESPACE = UUID("7e3a1c5f-2b9d-4e80-a6f1-0d4c8b2e9a73")

# Physical networks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatePhysicalNetwork:
    zone_id: UUID
    name: str
    isolation: str = "VLAN"
    vlan: str | None = None  # guest ranges, "500-1000,2000-2100"
    physical_network_id: UUID = field(default_factory=uuid.uuid4)
    options: PhysicalOptions = field(default_factory=PhysicalOptions)  # speed, tag, domain, range
    broadcast_domain_range: str | None = None  # as given: checked against the zone's type


def create_physical_network(store: Any, command: CreatePhysicalNetwork) -> Outcome:
    zone = store.get(Zone, command.zone_id, what="zone")
    if zone.removed:
        raise InvalidState(f"Zone {zone.name} has been removed")
    scope = broadcast_domain_range(command.broadcast_domain_range, zone.network_type)
    physical = PhysicalNetwork.create(
        command.physical_network_id,
        zone.id,
        command.name,
        command.isolation,
        command.vlan,
        replace(command.options, broadcast_domain_range=scope),
    )
    return Outcome(store.last_position(store.save(physical)), physical.id)


@dataclass(frozen=True)
class UpdatePhysicalNetwork:
    physical_network_id: UUID
    vlan: str | None = None
    state: str | None = None
    in_use: frozenset[int] = frozenset()  # guest ids networks hold, read by the caller
    speed: str | None = None
    tags: list[str] | None = None


def update_physical_network(store: Any, command: UpdatePhysicalNetwork) -> Outcome:
    def update(physical: PhysicalNetwork) -> None:
        physical.update(command.vlan, command.state, command.in_use, command.speed, command.tags)
        check_dedicated_vlans_kept(store, physical)  # no dedicated range left outside

    return change(
        store, PhysicalNetwork, command.physical_network_id, update, what="physical network"
    )


def delete_physical_network(store: Any, physical_network_id: UUID, networks_using: int) -> Outcome:
    return change(
        store,
        PhysicalNetwork,
        physical_network_id,
        lambda p: p.delete(networks_using),
        what="physical network",
    )


# Guest networks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateNetwork:
    """A guest network; isolated ones take a VLAN/VNI of `physical_network_id`."""

    name: str
    display_text: str
    zone_id: UUID
    offering_id: UUID
    account_id: UUID
    domain_id: UUID
    physical_network_id: UUID | None
    cidr: str | None = None
    gateway: str | None = None
    netmask: str | None = None
    start_ip: str | None = None
    end_ip: str | None = None
    vlan: str | None = None  # a shared network's VLAN, named by the administrator
    ip6_cidr: str | None = None  # a shared network's IPv6 plan (advanced zones only, as 4.3)
    ip6_gateway: str | None = None
    start_ipv6: str | None = None
    end_ipv6: str | None = None
    preferred_vnets: tuple[int, ...] = ()  # ids the caller read as free, lowest first
    tier: TierRequest | None = None  # a VPC's tier
    network_id: UUID = field(default_factory=uuid.uuid4)
    # The devices of each device provider of the offering, as the caller read them.
    device_candidates: tuple[DeviceCandidates, ...] = ()
    network_domain: str = ""  # its DNS domain, as given or the default the caller chose
    subdomain_access: bool = True  # a shared network: its domain's subdomains may use it
    isolated_pvlan: str | None = None  # a shared network's isolated private VLAN


def create_network(store: Any, command: CreateNetwork) -> Outcome:
    """Record the network with the claim on its VLAN/VNI, in one save (retried on a race)."""

    def attempt() -> Outcome:
        offering = store.get(NetworkOffering, command.offering_id, what="network offering")
        offering.check_usable()
        if offering.for_vpc and command.tier is None:
            raise InvalidParameter(
                f"Network offering {offering.name} is for VPC tiers: create the network with "
                "a vpcid"
            )
        ipv6 = _ipv6_plan(store, command, offering.guest_type)
        if offering.guest_type == "Isolated":
            network, claim = _isolated(store, command)
        else:
            network, claim = _shared(store, command, ipv6)
        vpc = [join_vpc(store, network, command.tier)] if command.tier else []
        devices = _on_devices(store, network, offering, command)
        saved = store.save(network, claim, *vpc, *devices)
        return Outcome(store.last_position(saved), network.id)

    result: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return result


def _on_devices(
    store: Any, network: Network, offering: NetworkOffering, command: CreateNetwork
) -> list[Any]:
    if not offering.device_providers():
        return []
    if command.physical_network_id is None:
        raise InvalidParameter("The zone has no physical network with the offering's devices")
    physical = store.get(PhysicalNetwork, command.physical_network_id, what="physical network")
    return place_on_devices(store, network, offering, physical, command.device_candidates)


def _ipv6_plan(store: Any, command: CreateNetwork, guest_type: str) -> Ipv6Plan | None:
    given = (command.ip6_cidr, command.ip6_gateway, command.start_ipv6, command.end_ipv6)
    if not any(given):
        return None
    zone = store.get(Zone, command.zone_id, what="zone")
    if guest_type != "Shared" or zone.network_type != "Advanced":
        raise InvalidParameter("Can only support create IPv6 network with advance shared network!")
    return Ipv6Plan.checked(*given)


def _isolated(store: Any, command: CreateNetwork) -> tuple[Network, Claim]:
    if command.physical_network_id is None:
        raise InvalidParameter("The zone has no physical network with a guest vlan range")
    physical = store.get(PhysicalNetwork, command.physical_network_id, what="physical network")
    physical.check_allocatable()
    candidates = guest_vnet_candidates(  # the account's dedicated ranges first
        store, physical, command.account_id, command.preferred_vnets, command.network_id.int
    )
    claim = claim_first_free(
        store, ClaimKind.GUEST_VNET, physical.id, candidates, command.network_id, "a guest vlan"
    )
    addressing = Addressing.isolated(command.cidr, command.gateway)
    uri = physical.broadcast_uri(int(claim.value))
    network = _network(command, "Isolated", physical.id, addressing, uri)
    return network, claim


def _shared(store: Any, command: CreateNetwork, ipv6: Ipv6Plan | None) -> tuple[Network, Claim]:
    """A shared network on the VLAN the administrator names, with its IPv4 subnet and range,
    its IPv6 plan, both, or neither yet (4.3 allows ranges to be added later)."""
    if not command.vlan:
        raise InvalidParameter("A shared network needs the vlan it rides on")
    if bool(command.gateway) != bool(command.netmask):
        raise InvalidParameter(
            "Please specify both gateway and netmask of the network's IPv4 subnet, or neither "
            "for a network with IPv6 alone or with its ranges added later"
        )
    if (command.start_ip or command.end_ip) and not command.gateway:
        raise InvalidParameter("Please specify gateway and netmask with the ip range")
    if command.end_ip and not command.start_ip:
        raise InvalidParameter("Please specify the startip of the ip range")
    if command.physical_network_id is None:
        raise InvalidParameter("The zone has no physical network to carry the shared network")
    physical = store.get(PhysicalNetwork, command.physical_network_id, what="physical network")
    tag = vlan_tag(command.vlan)
    _check_pvlan(store, command, tag, ipv6)
    claim = claim_exact(  # on the fabric, so no isolated network is ever given this VLAN too
        store, ClaimKind.GUEST_VNET, physical.id, tag, command.network_id, "vlan"
    )
    if command.start_ip:
        addressing = Addressing.shared(
            str(command.gateway), str(command.netmask), command.start_ip, command.end_ip
        )
    elif command.gateway:
        addressing = Addressing.subnet_only(str(command.gateway), str(command.netmask))
    else:
        addressing = Addressing("", "", "", "", "")
    if ipv6 is not None:
        addressing = addressing.with_ipv6(ipv6)
    uri = f"vlan://{tag}"
    network = _network(command, "Shared", physical.id, addressing, uri)
    return network, claim


def _check_pvlan(store: Any, command: CreateNetwork, tag: str, ipv6: Ipv6Plan | None) -> None:
    """A private VLAN, as 4.3 allows one: on a shared network of an advanced zone, with IPv4
    only, its isolated id a VLAN id other than the primary one."""
    if not command.isolated_pvlan:
        return
    zone = store.get(Zone, command.zone_id, what="zone")
    if zone.network_type != "Advanced":
        raise InvalidParameter(
            "Can only support create Private VLAN network with advance shared network!"
        )
    if ipv6 is not None:
        raise InvalidParameter("Can only support create Private VLAN network with IPv4!")
    if vlan_tag(command.isolated_pvlan) == tag or tag == "untagged":
        raise InvalidParameter("Cannot support pvlan with same isolated or primary vlan!")


def _network(
    command: CreateNetwork,
    guest_type: str,
    physical_network_id: UUID | None,
    addressing: Addressing,
    broadcast_uri: str,
) -> Network:
    """Isolated networks wait for their first VM to be implemented; shared ones are ready."""
    state = NetworkState.ALLOCATED if guest_type == "Isolated" else NetworkState.SETUP
    return Network(
        command.name,
        command.display_text or command.name,
        command.zone_id,
        physical_network_id,
        command.offering_id,
        guest_type,
        command.account_id,
        command.domain_id,
        addressing.facts(),
        broadcast_uri,
        state,
        id=command.network_id,
        network_domain=command.network_domain,
        subdomain_access=command.subdomain_access,
        isolated_pvlan=vlan_tag(command.isolated_pvlan) if command.isolated_pvlan else "",
    )


@dataclass(frozen=True)
class UpdateNetwork:
    network_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)
    offering_id: UUID | None = None
    network_domain: str | None = None  # checked by the caller
    guest_vm_cidr: str | None = None  # 4.3's IP reservation
    held_ips: frozenset[str] = frozenset()  # guest addresses in use, read by the caller


def update_network(store: Any, command: UpdateNetwork) -> Outcome:
    def attempt() -> Outcome:
        network = store.get(Network, command.network_id, what="network")
        network.update(command.changes)
        if command.guest_vm_cidr is not None:
            if command.offering_id is not None:
                raise InvalidParameter(
                    "Cannot specify this nework offering change and guestVmCidr at same time. "
                    "Specify only one."
                )
            network.reserve_ips(command.guest_vm_cidr, command.held_ips)
        if command.network_domain is not None:
            network.change_network_domain(command.network_domain)
        if command.offering_id is not None:
            offering = store.get(NetworkOffering, command.offering_id, what="network offering")
            offering.check_usable()
            network.change_offering(offering.id, offering.guest_type)
        return Outcome(store.last_position(store.save(network)), network.id)

    result: Outcome = store.run(attempt)
    return result


def _implemented(store: Any, network: Network, public: PublicPool) -> list[PublicIp]:
    """Implement the network if no VM has used it yet: with SourceNat it takes a public IP."""
    if not network.needs_implementing:
        return []
    offering = store.get(NetworkOffering, network.offering_id, what="network offering")
    if network.physical_network_id is not None:
        physical = store.get(PhysicalNetwork, network.physical_network_id, what="physical network")
        physical.check_providers_ready(offering.services)
    if not offering.offers(SOURCE_NAT) or network.vpc_id is not None:
        network.implement(None)  # a VPC's tiers reach out through the VPC's router
        return []
    request = Acquire(
        network.zone_id, network.account_id, network.domain_id, network.id, public, True
    )
    source_nat = acquire_public_ip(store, request)
    network.implement(source_nat.address)
    return [source_nat]


@dataclass(frozen=True)
class RestartNetwork:
    network_id: UUID
    cleanup: bool = False
    public: PublicPool = field(default_factory=PublicPool)


def restart_network(store: Any, command: RestartNetwork) -> Outcome:
    """Restart (implementing a network never used, so it gets its source NAT address)."""

    def attempt() -> Outcome:
        network = store.get(Network, command.network_id, what="network")
        addresses = _implemented(store, network, command.public)
        network.restart(command.cleanup)
        return Outcome(store.last_position(store.save(network, *addresses)), network.id)

    result: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return result


@dataclass(frozen=True)
class DeleteNetwork:
    network_id: UUID
    vms_using: int = 0  # VMs with a NIC on the network, read by the caller
    public_ips: Sequence[UUID] = ()  # addresses associated with the network, besides source NAT
    forced: bool = False  # deleted even though cleaning up its router or devices failed


def delete_network(store: Any, command: DeleteNetwork) -> Outcome:
    """Delete the network, giving back its VLAN/VNI and its public addresses in the same save."""

    def attempt() -> Outcome:
        network = store.get(Network, command.network_id, what="network")
        network.delete(command.vms_using, command.forced)
        others: list[Any] = released_with_network(store, _addresses_of(network, command))
        others.extend(dropped_with_network(store, network.id, network))
        others.extend(leave_vpc(store, network))
        others.extend(released_devices(store, network))
        vnet = _vnet_released(store, network)
        if vnet is not None:
            others.append(vnet)
        return Outcome(store.last_position(store.save(network, *others)), network.id)

    result: Outcome = store.run(attempt)
    return result


def _addresses_of(network: Network, command: DeleteNetwork) -> list[UUID]:
    found = list(dict.fromkeys(command.public_ips))
    if network.source_nat_ip:
        source = public_ip_id(network.zone_id, network.source_nat_ip)
        if source not in found:
            found.append(source)
    return found


def _vnet_released(store: Any, network: Network) -> Claim | None:
    uri = network.broadcast_uri or ""
    if "://" not in uri or network.physical_network_id is None:
        return None
    vnet = uri.split("://", 1)[1]
    return released(store, ClaimKind.GUEST_VNET, network.physical_network_id, vnet, network.id)


# Guest NICs of VMs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NicRequest:
    """A NIC a new VM asks for on a guest network."""

    network_id: UUID
    ip_address: str | None = None  # the address asked for; else the first free one
    preferred: tuple[str, ...] = ()  # addresses the caller read as free, lowest first
    ip6_address: str | None = None  # the IPv6 address asked for, on a network with IPv6
    public: PublicPool = field(default_factory=PublicPool)  # where a source NAT may come from


@dataclass(frozen=True)
class PrepareGuestNics:
    vm_id: UUID
    account_id: UUID
    zone_id: UUID
    requests: Sequence[NicRequest] = ()


def implement_network(store: Any, network_id: UUID, public: PublicPool) -> Outcome:
    """Implement a network no VM used yet (with SourceNat it takes its public address): the
    network's own change, made before a deploy records the VM that joins it."""

    def attempt() -> Outcome:
        network = store.get(Network, network_id, what="network")
        addresses = _implemented(store, network, public)
        if not network.pending_events:
            return Outcome(0, network.id)
        return Outcome(store.last_position(store.save(network, *addresses)), network.id)

    result: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return result


def guest_nics(store: Any, command: PrepareGuestNics) -> tuple[list[Nic], list[Any]]:
    """The network side of deploying a VM: its NICs, the first one its default, and what to
    save with the VM (each guest IP claimed for it; a network not implemented yet, with its
    source NAT address). Nothing is saved here: the VM's deploy records all of it in its
    own commit, so no address is ever held for a VM that was not recorded."""
    nics: list[Nic] = []
    changed: list[Any] = []
    for index, request in enumerate(command.requests):
        nic, aggregates = _nic(store, command, request, is_default=index == 0)
        nics.append(nic)
        changed += aggregates
    return nics, changed


def _nic(
    store: Any, command: PrepareGuestNics, request: NicRequest, *, is_default: bool
) -> tuple[Nic, list[Any]]:
    network = store.get(Network, request.network_id, what="network")
    network.check_usable_by(command.account_id)
    if network.zone_id != command.zone_id:
        raise InvalidParameter(f"Network {network.name} is not in the VM's zone")
    addresses = _implemented(store, network, request.public)
    if not network.addressing.has_ipv4 and network.ipv6_pool is None:
        raise InsufficientCapacity(
            f"Unable to allocate an ip address in network {network.name}: it has no ip range"
        )
    claims = []
    if network.addressing.has_ipv4:
        claims.append(
            claim_guest_ip(store, network, request.ip_address, request.preferred, command.vm_id)
        )
    elif request.ip_address:
        raise InvalidParameter(f"Network {network.name} has no IPv4 address range")
    ipv6 = network.ipv6_pool
    if ipv6 is not None:
        claims.append(claim_guest_ipv6(store, network, ipv6, request.ip6_address, command.vm_id))
    elif request.ip6_address:
        raise InvalidParameter(f"Network {network.name} has no IPv6 address range")
    ipv4 = claims[0].value if network.addressing.has_ipv4 else ""
    subnet_of = network.ipv4_pool.range_of(ipv4) if ipv4 else None  # its range's own subnet
    nic = Nic(
        network.id,
        ipv4,
        mac_address(command.vm_id, network.id),
        subnet_of.gateway if subnet_of else network.addressing.gateway,
        subnet_of.netmask if subnet_of else network.addressing.netmask,
        is_default,
        network.broadcast_uri or "",
        network.offering_id,
        ip6_address=claims[-1].value if ipv6 else "",
        ip6_gateway=ipv6.ip6_gateway if ipv6 else "",
        ip6_cidr=ipv6.ip6_cidr if ipv6 else "",
    )
    changed = [network] if network.pending_events else []
    return nic, [*changed, *claims, *addresses]


def claim_guest_ip(
    store: Any, network: Network, wanted: str | None, preferred: Sequence[str], holder: UUID
) -> Claim:
    """A guest address of the network claimed for `holder` (not saved): `wanted`, checked to be
    in one of the network's ranges, or the first free one of any (`preferred` looked at first);
    533 when every range is full, or the network has none."""
    pool = network.ipv4_pool
    if wanted:
        wanted = wanted.strip()
        if pool.range_of(wanted) is None:
            raise InvalidParameter(
                f"Ip address {wanted} is not in the range of network {network.name}"
            )
        return claim_exact(store, ClaimKind.GUEST_IP, network.id, wanted, holder, "ip address")
    hints = (ip for ip in preferred if is_address(ip) and pool.range_of(ip) is not None)
    candidates = chain(hints, pool.probe(holder.int))
    return claim_first_free(
        store,
        ClaimKind.GUEST_IP,
        network.id,
        candidates,
        holder,
        f"an ip address in network {network.name}",
    )


def claim_guest_ipv6(
    store: Any, network: Network, plan: Ipv6Pool, wanted: str | None, holder: UUID
) -> Claim:
    """An IPv6 address of the network claimed for `holder` (not saved): `wanted`, checked to be
    in the network's IPv6 range, or a free one probed from where the holder's id points."""
    if wanted:
        if not plan.holds(wanted):
            raise InvalidParameter(
                f"Ip address {wanted} is not in the IPv6 range of network {network.name}"
            )
        value = str(IPv6Address(wanted.strip()))
        return claim_exact(store, ClaimKind.GUEST_IP, network.id, value, holder, "ip6 address")
    return claim_first_free(
        store,
        ClaimKind.GUEST_IP,
        network.id,
        plan.probe(holder.int),  # looked at up to the claims' probe limit
        holder,
        f"an IPv6 address in network {network.name}",
    )


def mac_address(vm_id: UUID, network_id: UUID) -> str:
    """A locally administered MAC (02:00:…) fixed by the VM and the network."""
    tail = uuid5(_MAC_NAMESPACE, f"{vm_id}:{network_id}").bytes[:4]
    return "02:00:" + ":".join(f"{byte:02x}" for byte in tail)


Holders = list[tuple[UUID, str, UUID]]  # (network, address, holder) of a VM's guest addresses


def guest_addresses(vm: VirtualMachine) -> Holders:
    """Every guest address the VM holds: its NICs' (held by the VM) and their secondary ones
    (each held by its own id)."""
    nics = getattr(vm, "nics", ())
    held = [
        (UUID(str(n["network_id"])), str(n["ip_address"]), vm.id) for n in nics if n["ip_address"]
    ]
    held += [
        (UUID(str(n["network_id"])), n["ip6_address"], vm.id) for n in nics if n.get("ip6_address")
    ]
    held += [(i["network_id"], i["ip_address"], ip_id) for ip_id, i in vm.secondary_ips.items()]
    return held


def follow_vm_nics(store: Any, aggregates: Sequence[Any]) -> list[Claim]:
    """The guest IP claims to release beside an expunged VM (saved in the same transaction):
    its NICs' addresses and their secondary ones."""
    vm = aggregates[0] if aggregates else None
    if not isinstance(vm, VirtualMachine) or not vm.removed:
        return []
    claims = []
    for network_id, ip, holder in guest_addresses(vm):
        claim = released(store, ClaimKind.GUEST_IP, network_id, ip, holder)
        if claim is not None:
            claims.append(claim)
    return claims
