"""Commands on portable public addresses: a region's ranges, and associating an address of them
with a network of any zone of the region (domain/portable_ips.py).

An address is looked for among the free ones the read model shows first, then through every
range of the region; its `PublicIp` is its own claim, so two associations wanting one address
write the same aggregate and the store lets one through.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome
from commands.network_claims import ALLOCATION_ATTEMPTS, PROBE_LIMIT
from domain.errors import InsufficientCapacity, InvalidParameter, NotFound
from domain.network_addressing import AddressRange, address
from domain.network_public_ip import PublicIp
from domain.portable_ips import (
    PortableIpRanges,
    checked_range,
    portable_ip_id,
    portable_ranges_id,
    portable_scope,
)
from domain.regions import Regions
from domain.vpc import Vpc


@dataclass(frozen=True)
class CreatePortableIpRange:
    region_id: int
    gateway: str
    netmask: str
    start_ip: str
    end_ip: str
    vlan: str | None = None
    zone_ranges: Sequence[tuple[str, str]] = ()  # the zones' public ranges, not to overlap
    range_id: UUID = field(default_factory=uuid.uuid4)


def _ranges(store: Any, region_id: int) -> PortableIpRanges:
    try:
        found: PortableIpRanges = store.repository.get(portable_ranges_id(region_id))
    except AggregateNotFoundError:
        return PortableIpRanges.for_region(region_id)
    return found


def _check_region(store: Any, region_id: int) -> None:
    try:
        regions: Regions = store.get(Regions, Regions.create_id(), what="regions")
    except NotFound:
        regions = Regions()
    if str(region_id) not in regions.regions:
        raise InvalidParameter(f"Region with id: {region_id} does not exist")


def create_portable_ip_range(store: Any, command: CreatePortableIpRange) -> Outcome:
    terms = checked_range(
        command.gateway, command.netmask, command.start_ip, command.end_ip, command.vlan
    )
    span = AddressRange(address(terms["start_ip"]), address(terms["end_ip"]))
    for start, end in command.zone_ranges:
        if span.overlaps(AddressRange(address(start), address(end))):
            raise InvalidParameter(
                f"Ip range: {span.first}-{span.last} overlaps with the public ip range "
                f"{start}-{end} of a zone"
            )
    _check_region(store, command.region_id)

    def attempt() -> Outcome:
        ranges = _ranges(store, command.region_id)
        ranges.add(command.range_id, terms)
        return Outcome(store.last_position(store.save(ranges)), command.range_id)

    outcome: Outcome = store.run(attempt)
    return outcome


def delete_portable_ip_range(store: Any, region_id: int, range_id: UUID, allocated: int) -> Outcome:
    def attempt() -> Outcome:
        ranges = _ranges(store, region_id)
        ranges.remove(range_id, allocated)
        return Outcome(store.last_position(store.save(ranges)), range_id)

    outcome: Outcome = store.run(attempt)
    return outcome


@dataclass(frozen=True)
class AcquirePortable:
    """A portable address of the region for an account, in a zone (and network) of it."""

    region_id: int
    zone_id: UUID
    account_id: UUID
    domain_id: UUID
    network_id: UUID | None
    preferred: tuple[str, ...] = ()  # addresses the read model shows free, lowest first
    vpc_id: UUID | None = None  # an address of a VPC (no tier until a rule places it)


def _candidates(ranges: PortableIpRanges, command: AcquirePortable) -> Iterator[str]:
    yield from command.preferred
    seed = (command.network_id or command.account_id).int
    for terms in ranges.ranges.values():
        span = AddressRange(address(terms["start_ip"]), address(terms["end_ip"]))
        for point in span.probe(seed):
            yield str(point)


def associate_portable_ip(store: Any, command: AcquirePortable) -> Outcome:
    """The first free portable address of the region, associated (533 when none is free),
    with the VPC it is asked for, if any."""

    def attempt() -> Outcome:
        if command.vpc_id is not None:
            vpc: Vpc = store.get(Vpc, command.vpc_id, what="vpc")
            vpc.check_live()
        ranges = _ranges(store, command.region_id)
        if not ranges.ranges:
            raise InvalidParameter(
                f"Region {command.region_id} has no portable ip ranges: create one first"
            )
        for ip in islice(_candidates(ranges, command), PROBE_LIMIT):
            range_id = ranges.range_of(ip)
            if range_id is None:
                continue
            public = _load(store, command.region_id, ip)
            if public is None:
                public = PublicIp(portable_scope(command.region_id), ip, range_id)
            elif public.allocated:
                continue
            public.place_portable(command.region_id, command.zone_id)
            public.associate(
                command.account_id, command.domain_id, command.network_id, vlan_range_id=range_id
            )
            if command.vpc_id is not None:
                public.join_vpc(command.vpc_id)
            return Outcome(store.last_position(store.save(public)), public.id)
        raise InsufficientCapacity(
            f"Insufficient address capacity: no free portable ip address in region "
            f"{command.region_id}"
        )

    outcome: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return outcome


def _load(store: Any, region_id: int, ip: str) -> PublicIp | None:
    try:
        public: PublicIp = store.repository.get(portable_ip_id(region_id, ip))
    except AggregateNotFoundError:
        return None
    return public
