"""Commands on public addresses: zone ranges, associating and releasing addresses, source NAT."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome, change
from commands.network_claims import ALLOCATION_ATTEMPTS, PROBE_LIMIT
from commands.network_rules import dropped_with_address
from domain.errors import InsufficientCapacity, InvalidParameter, InvalidState
from domain.infrastructure import Pod, Zone
from domain.network_addressing import AddressRange, address
from domain.network_public_ip import PublicIp, VlanIpRange, public_ip_id, public_range
from domain.vpc import Vpc


@dataclass(frozen=True)
class RangeRef:
    """A live public range of a zone, as the caller read it."""

    range_id: UUID
    start_ip: str
    end_ip: str


@dataclass(frozen=True)
class PublicPool:
    """Where to look for a free public address: hints (range id, address) first, then ranges."""

    preferred: tuple[tuple[UUID, str], ...] = ()
    ranges: tuple[RangeRef, ...] = ()

    def candidates(self, seed: UUID) -> Iterator[tuple[UUID, str]]:
        yield from self.preferred
        for ref in self.ranges:
            span = AddressRange(address(ref.start_ip), address(ref.end_ip))
            for point in span.probe(seed.int):
                yield ref.range_id, str(point)


# Ranges -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateVlanIpRange:
    zone_id: UUID
    vlan: str | None
    gateway: str
    netmask: str
    start_ip: str
    end_ip: str
    for_virtual_network: bool = True
    physical_network_id: UUID | None = None
    existing: Sequence[RangeRef] = ()  # the zone's live ranges, which the new one must not overlap
    range_id: UUID = field(default_factory=uuid.uuid4)
    dedicated_to: tuple[UUID, UUID] | None = None  # (account, domain) the range is for
    pod_id: UUID | None = None  # a basic zone's guest range for one pod


def create_vlan_ip_range(store: Any, command: CreateVlanIpRange) -> Outcome:
    zone = store.get(Zone, command.zone_id, what="zone")
    if zone.removed:
        raise InvalidState(f"Zone {zone.name} has been removed")
    span = public_range(command.gateway, command.netmask, command.start_ip, command.end_ip)
    if command.pod_id is not None:
        _check_pod_range(store, zone, command, span)
    for ref in command.existing:
        if span.overlaps(AddressRange(address(ref.start_ip), address(ref.end_ip))):
            raise InvalidParameter(
                f"The ip range {span.first}-{span.last} overlaps the range "
                f"{ref.start_ip}-{ref.end_ip} of the zone"
            )
    ip_range = VlanIpRange(
        command.zone_id,
        command.physical_network_id,
        command.vlan or "untagged",
        command.gateway,
        command.netmask,
        str(span.first),
        str(span.last),
        command.for_virtual_network,
        id=command.range_id,
        pod_id=command.pod_id,
    )
    if command.dedicated_to is not None:
        ip_range.dedicate(*command.dedicated_to, allocated_to_others=0)
    return Outcome(store.last_position(store.save(ip_range)), ip_range.id)


def _check_pod_range(
    store: Any, zone: Zone, command: CreateVlanIpRange, span: AddressRange
) -> None:
    """A pod's range, as 4.3 allows one: a guest (not virtual) range of a basic zone's pod,
    clear of the pod's management addresses."""
    pod = store.get(Pod, command.pod_id, what="pod")
    if pod.removed or pod.zone_id != zone.id:
        raise InvalidParameter(f"Pod id={command.pod_id} doesn't belong to zone id={zone.id}")
    if zone.network_type != "Basic" or command.for_virtual_network:
        raise InvalidParameter(
            "Pod id can be specified only for the networks of type Guest in zone of type Basic"
        )
    if command.dedicated_to is not None:
        raise InvalidParameter("A pod's guest range is not dedicated to an account")
    management = AddressRange(address(pod.start_ip), address(pod.end_ip or pod.start_ip))
    if pod.start_ip and span.overlaps(management):
        raise InvalidParameter(
            f"The ip range {span.first}-{span.last} overlaps the private ip range "
            f"{pod.start_ip}-{pod.end_ip} of pod {pod.name}"
        )


def delete_vlan_ip_range(store: Any, range_id: UUID, allocated: int) -> Outcome:
    return change(store, VlanIpRange, range_id, lambda r: r.delete(allocated), what="ip range")


def dedicate_vlan_ip_range(
    store: Any, range_id: UUID, account_id: UUID, domain_id: UUID, allocated_to_others: int
) -> Outcome:
    """dedicatePublicIpRange; `allocated_to_others` is read from the read model."""
    return change(
        store,
        VlanIpRange,
        range_id,
        lambda r: r.dedicate(account_id, domain_id, allocated_to_others),
        what="ip range",
    )


def release_vlan_ip_range(store: Any, range_id: UUID) -> Outcome:
    return change(store, VlanIpRange, range_id, lambda r: r.release_dedication(), what="ip range")


# Addresses ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acquire:
    """Who gets a public address of a zone, for which network, and where to look for one."""

    zone_id: UUID
    account_id: UUID
    domain_id: UUID
    network_id: UUID | None
    pool: PublicPool
    source_nat: bool = False
    is_system: bool = False
    vpc_id: UUID | None = None  # an address of a VPC (`network_id` None until a rule places it)


def acquire_public_ip(store: Any, request: Acquire, seed: UUID | None = None) -> PublicIp:
    """The first free address of the pool, associated (not yet saved); 533 when none is free.
    `seed` spreads racing acquisitions over the pool (the network's, or account's, id)."""
    seed = seed or request.network_id or request.account_id
    admitted: dict[UUID, bool] = {}  # by range: dedicated ranges give only their account's
    for range_id, ip in islice(request.pool.candidates(seed), PROBE_LIMIT):
        if range_id not in admitted:
            admitted[range_id] = _range_admits(store, range_id, request.account_id)
        if not admitted[range_id]:
            continue
        public = _load(store, request.zone_id, ip)
        if public is None:
            public = PublicIp(request.zone_id, ip, range_id)
        elif public.allocated:
            continue
        public.associate(
            request.account_id,
            request.domain_id,
            request.network_id,
            vlan_range_id=range_id,
            source_nat=request.source_nat,
            is_system=request.is_system,
        )
        if request.vpc_id is not None:
            public.join_vpc(request.vpc_id)
        return public
    raise InsufficientCapacity(
        "Insufficient address capacity: no free public ip address in the zone"
    )


def _range_admits(store: Any, range_id: UUID, account_id: UUID) -> bool:
    try:
        ip_range: VlanIpRange = store.repository.get(range_id)
    except AggregateNotFoundError:
        return True
    return ip_range.admits(account_id)


def _load(store: Any, zone_id: UUID, ip: str) -> PublicIp | None:
    try:
        public: PublicIp = store.repository.get(public_ip_id(zone_id, ip))
    except AggregateNotFoundError:
        return None
    return public


def associate_ip_address(store: Any, request: Acquire) -> Outcome:
    def attempt() -> Outcome:
        if request.vpc_id is not None:
            _live_vpc(store, request.vpc_id)
        public = acquire_public_ip(store, request)
        return Outcome(store.last_position(store.save(public)), public.id)

    result: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return result


def _live_vpc(store: Any, vpc_id: UUID) -> None:
    vpc: Vpc = store.get(Vpc, vpc_id, what="vpc")
    vpc.check_live()


def disassociate_ip_address(store: Any, public_ip: UUID) -> Outcome:
    """Give an address back with the rules it holds (`network_rules.dropped_with_address`),
    in one save."""

    def attempt() -> Outcome:
        public = store.get(PublicIp, public_ip, what="public ip address")
        dropped = dropped_with_address(store, public)
        public.disassociate()
        others = [a for a in dropped if a is not public]
        return Outcome(store.last_position(store.save(public, *others)), public.id)

    result: Outcome = store.run(attempt)
    return result


def released_with_network(
    store: Any, public_ips: Sequence[UUID], *, vpc: bool = False
) -> list[PublicIp]:
    """The addresses of a network (`vpc`: of a VPC) being deleted, source NAT included, their
    release pending. A VPC's address serving a deleted tier stays with its VPC."""
    found: list[PublicIp] = []
    for public_id in public_ips:
        public = store.get(PublicIp, public_id, what="public ip address")
        if public.allocated and (vpc or public.in_vpc is None):
            public.disassociate(with_network=True)
            found.append(public)
    return found
