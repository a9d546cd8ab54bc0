"""Resource limits: the twelve kinds of resource an account or domain may be limited in, the
ledger of what an owner holds, and the arithmetic that refuses a change beyond a limit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, ResourceAllocationFailed
from domain.network import Network
from domain.network_public_ip import PublicIp
from domain.project import Project
from domain.snapshot import Snapshot, SnapshotState
from domain.template import Template
from domain.vm import VirtualMachine, VmState
from domain.volume import Volume, VolumeState
from domain.vpc import Vpc

_NAMESPACE = UUID("5b0f3c2e-8a41-4f7d-9c1e-3d2a6b7e9f10")
UNLIMITED = -1
GIB = 1024**3


class ResourceType(IntEnum):
    """4.3's resource types, by the number its API speaks."""

    INSTANCE = 0
    IP = 1
    VOLUME = 2
    SNAPSHOT = 3
    TEMPLATE = 4
    PROJECT = 5
    NETWORK = 6
    VPC = 7
    CPU = 8
    MEMORY = 9
    PRIMARY_STORAGE = 10
    SECONDARY_STORAGE = 11


# The words of the settings that give each type's default limit (`max.account.<word>`,
# `max.domain.<word>`), with 4.3's defaults for an account and for a domain. Memory is in MiB,
# storage in GiB (a count of storage is in bytes).
@dataclass(frozen=True)
class Kind:
    word: str
    account_default: int
    domain_default: int


KINDS: dict[ResourceType, Kind] = {
    ResourceType.INSTANCE: Kind("user.vms", 20, 40),
    ResourceType.IP: Kind("public.ips", 20, 40),
    ResourceType.VOLUME: Kind("volumes", 20, 40),
    ResourceType.SNAPSHOT: Kind("snapshots", 20, 40),
    ResourceType.TEMPLATE: Kind("templates", 20, 40),
    ResourceType.PROJECT: Kind("projects", 10, 50),
    ResourceType.NETWORK: Kind("networks", 20, 40),
    ResourceType.VPC: Kind("vpcs", 20, 40),
    ResourceType.CPU: Kind("cpus", 40, 80),
    ResourceType.MEMORY: Kind("memory", 40960, 81920),
    ResourceType.PRIMARY_STORAGE: Kind("primary.storage", 200, 400),
    ResourceType.SECONDARY_STORAGE: Kind("secondary.storage", 400, 800),
}
IN_GIB = (ResourceType.PRIMARY_STORAGE, ResourceType.SECONDARY_STORAGE)


def resource_type(number: int) -> ResourceType:
    try:
        return ResourceType(number)
    except ValueError:
        raise InvalidParameter(
            f"Invalid resource type {number}; valid types are 0 to {len(ResourceType) - 1}"
        ) from None


def setting_name(owner_kind: str, kind: ResourceType) -> str:
    """The global setting of a type's default limit: `max.account.user.vms`, `max.domain.cpus`."""
    return f"max.{owner_kind}.{KINDS[kind].word}"


def check_max(value: int) -> int:
    if value < UNLIMITED:
        raise InvalidParameter("A resource limit is -1 (unlimited) or a number of 0 or more")
    return value


def count_limit(kind: ResourceType, limit: int) -> int:
    """A limit as counts are kept: storage limits are given in GiB, counted in bytes."""
    if limit == UNLIMITED or kind not in IN_GIB:
        return limit
    return limit * GIB


def exceeds(count: int, more: int, limit: int, kind: ResourceType) -> bool:
    """Whether holding `more` beyond `count` passes `limit` (-1: never)."""
    return more > 0 and limit != UNLIMITED and count + more > count_limit(kind, limit)


# What a resource holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """What one resource takes of its owner's limits, by type (empty once it is gone)."""

    account_id: UUID
    domain_id: UUID
    amounts: dict[str, int]  # by type number (as text: events keep their keys as text)


# The events after which a resource may hold something else (a save without one changes no
# count, and reads no ledger).
CHANGING: dict[type, frozenset[str]] = {
    VirtualMachine: frozenset(
        ("Deployed", "Destroyed", "Expunged", "Recovered", "Scaled", "OwnerChanged")
    ),
    Volume: frozenset(
        ("Created", "Destroyed", "Resized", "OwnerChanged", "Uploaded", "UploadFailed", "Attached")
    ),
    PublicIp: frozenset(("Associated", "Disassociated")),
    Snapshot: frozenset(("Allocated", "BackedUp", "Failed", "Destroyed")),
    Template: frozenset(("Registered", "Deleted")),
    Network: frozenset(("Created", "Deleted")),
    Project: frozenset(("Created", "OwnerChanged", "Deleted")),
    Vpc: frozenset(("Created", "Deleted")),
}


def holding(aggregate: Any) -> Holding | None:
    """What `aggregate` holds now, or None when it is not a counted kind of resource."""
    if isinstance(aggregate, VirtualMachine):
        gone = aggregate.removed or aggregate.state in (VmState.DESTROYED, VmState.EXPUNGING)
        compute = aggregate.compute
        amounts = (
            {} if gone else _amounts(INSTANCE=1, CPU=compute.cpu_number, MEMORY=compute.memory)
        )
        return Holding(aggregate.account_id, aggregate.domain_id, amounts)
    if isinstance(aggregate, Volume):
        return Holding(aggregate.account_id, aggregate.domain_id, _volume_amounts(aggregate))
    return _network_holding(aggregate) or _image_holding(aggregate)


def _volume_amounts(volume: Volume) -> dict[str, int]:
    """A volume counts once; its bytes on secondary storage while an upload keeps it there,
    on primary storage otherwise (nothing once deleted, or once its upload failed)."""
    if volume.removed or volume.state == VolumeState.UPLOAD_ERROR:
        return {}
    if volume.on_secondary:
        return _amounts(VOLUME=1, SECONDARY_STORAGE=volume.size_gb * GIB)
    return _amounts(VOLUME=1, PRIMARY_STORAGE=volume.size_gb * GIB)


def _network_holding(aggregate: Any) -> Holding | None:
    if isinstance(aggregate, PublicIp):
        if aggregate.account_id is None or aggregate.domain_id is None:
            return None  # released: `former_owners` names whose it was
        amounts = {} if aggregate.is_system else _amounts(IP=1)
        return Holding(aggregate.account_id, aggregate.domain_id, amounts)
    if isinstance(aggregate, Project):  # a project counts against its owner's limit
        amounts = {} if aggregate.is_deleted else _amounts(PROJECT=1)
        return Holding(aggregate.owner_id, aggregate.owner_domain_id, amounts)
    if isinstance(aggregate, Network):
        isolated = aggregate.guest_type == "Isolated" and not aggregate.removed
        return Holding(
            aggregate.account_id, aggregate.domain_id, _amounts(NETWORK=1) if isolated else {}
        )
    if isinstance(aggregate, Vpc):
        amounts = {} if aggregate.removed else _amounts(VPC=1)
        return Holding(aggregate.account_id, aggregate.domain_id, amounts)
    return None


def _image_holding(aggregate: Any) -> Holding | None:
    if isinstance(aggregate, Snapshot):
        gone = aggregate.removed or aggregate.state == SnapshotState.ERROR
        amounts = {} if gone else _amounts(SNAPSHOT=1, SECONDARY_STORAGE=aggregate.size_bytes)
        return Holding(aggregate.account_id, aggregate.domain_id, amounts)
    if isinstance(aggregate, Template):
        counted = aggregate.template_type == "USER" and not aggregate.removed
        return Holding(
            aggregate.account_id, aggregate.domain_id, _amounts(TEMPLATE=1) if counted else {}
        )
    return None


# The events of a request a client makes, which a limit may refuse. Holdings that change on an
# adapter's result (a snapshot's size once backed up, a live scale or resize done, a released
# address) are recorded but never refused: the work was accepted already.
_REQUESTED: dict[type, frozenset[str]] = {
    VirtualMachine: frozenset(("Deployed", "Recovered", "Scaled", "OwnerChanged")),
    Volume: frozenset(("Created", "OwnerChanged")),
    PublicIp: frozenset(("Associated",)),
    Snapshot: frozenset(("Allocated",)),
    Template: frozenset(("Registered",)),
    Network: frozenset(("Created",)),
    Project: frozenset(("Created", "OwnerChanged")),
    Vpc: frozenset(("Created",)),
}


def limited(aggregate: Any, events: list[Any]) -> bool:
    """Whether the change these events make is a client's request that limits apply to (a
    network's own source-NAT address, and a VM scaled on a host's answer, are not)."""
    names = _REQUESTED.get(type(aggregate), frozenset())
    for e in events:
        if type(e).__name__ not in names or getattr(e, "source_nat", False):
            continue
        if type(e).__name__ == "Scaled" and getattr(e, "request_id", None) is not None:
            continue
        return True
    return False


def former_owners(events: list[Any]) -> list[tuple[UUID, UUID]]:
    """(account, domain) that a resource left in these events: what it held there is given
    back. A released address names its owner in its `Disassociated` event; an event that moves
    a resource to another account names the one it leaves as `from_account_id` and
    `from_domain_id`."""
    found = []
    for e in events:
        if type(e).__name__ == "Disassociated" and getattr(e, "account_id", None) is not None:
            found.append((e.account_id, e.domain_id))
        elif getattr(e, "from_account_id", None) is not None:
            found.append((e.from_account_id, e.from_domain_id))
    return found


def _amounts(**by_name: int) -> dict[str, int]:
    return {str(int(ResourceType[name])): value for name, value in by_name.items()}


def changes_holding(aggregate: Any, event_names: set[str]) -> bool:
    names = CHANGING.get(type(aggregate))
    return bool(names and names & event_names)


# The ledger ------------------------------------------------------------------------------------


class Ledger(Aggregate):
    """What an account or a domain holds of each type, and the limits set on it.

    Every change of a counted resource records its new holding in the ledgers of its account
    and of the domains above it, in the commit of the change: two requests that both want the
    last unit write the same version of the ledger, and the second is retried and refused.
    """

    @staticmethod
    def create_id(owner_id: UUID) -> UUID:
        return uuid5(_NAMESPACE, str(owner_id))

    @event("Opened")
    def __init__(self, owner_id: UUID, owner_kind: str) -> None:
        self.owner_id = owner_id
        self.owner_kind = owner_kind  # "account" or "domain"
        self.holdings: dict[str, dict[str, int]] = {}
        self.counts: dict[str, int] = {}
        self.limits: dict[str, int] = {}

    def count(self, kind: ResourceType) -> int:
        return self.counts.get(str(int(kind)), 0)

    def more(self, resource_id: UUID, amounts: dict[str, int]) -> dict[str, int]:
        """By type, how much more (or less) the resource would hold than it holds now."""
        before = self.holdings.get(str(resource_id), {})
        kinds = set(before) | set(amounts)
        return {k: amounts.get(k, 0) - before.get(k, 0) for k in kinds}

    def check(self, more: dict[str, int], limit_of: Any, whose: str) -> None:
        """Refuse (535) a change that takes a type past its limit; `limit_of(type)` is the
        limit in force."""
        for number, extra in sorted(more.items()):
            kind = ResourceType(int(number))
            limit = limit_of(kind)
            if exceeds(self.count(kind), extra, limit, kind):
                raise ResourceAllocationFailed(
                    f"Maximum number of resources of type '{kind.name.lower()}' for {whose} "
                    f"has been exceeded (limit {limit})"
                )

    def hold(self, resource_id: UUID, amounts: dict[str, int]) -> bool:
        """Record what the resource holds now; False when that is what it held already."""
        if self.holdings.get(str(resource_id), {}) == amounts:
            return False
        self._held(resource_id=resource_id, amounts=amounts)
        return True

    @event("Held")
    def _held(self, resource_id: UUID, amounts: dict[str, int]) -> None:
        key = str(resource_id)
        for number, extra in self.more(resource_id, amounts).items():
            self.counts[number] = self.counts.get(number, 0) + extra
        if amounts:
            self.holdings[key] = dict(amounts)
        else:
            self.holdings.pop(key, None)

    def set_limit(self, kind: ResourceType, limit: int | None) -> None:
        """A limit of this owner's own (None: the default again)."""
        if limit is not None:
            check_max(limit)
        self._limit_set(
            owner_id=self.owner_id,
            owner_kind=self.owner_kind,
            resource_type=str(int(kind)),
            limit=limit,
        )

    @event("LimitSet")
    def _limit_set(
        self, owner_id: UUID, owner_kind: str, resource_type: str, limit: int | None
    ) -> None:
        if limit is None:
            self.limits.pop(resource_type, None)
        else:
            self.limits[resource_type] = limit

    def own_limit(self, kind: ResourceType) -> int | None:
        return self.limits.get(str(int(kind)))
