"""Commands on compute and disk offerings, and the default offerings seeded on first start."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError

from commands import Outcome, change
from domain.domains import Domain
from domain.errors import NotFound
from domain.offering import ComputeTerms, DiskOffering, DiskTerms, Offering, ServiceOffering

_SEED_NAMESPACE = UUID("5b8f0d7e-2a41-4c39-9e6d-0f3a8c1b7d25")


def _placement(store: Any, domain_id: UUID | None) -> tuple[UUID | None, str]:
    """The domain an offering is limited to, and its path ("" for a public offering)."""
    if domain_id is None:
        return None, ""
    domain = store.get(Domain, domain_id, what="domain")
    if domain.removed:
        raise NotFound(f"Unable to find domain by id {domain_id}", resource_ids=(str(domain_id),))
    return domain.id, domain.path


@dataclass(frozen=True)
class CreateServiceOffering:
    terms: ComputeTerms
    domain_id: UUID | None = None
    offering_id: UUID = field(default_factory=uuid.uuid4)


def create_service_offering(store: Any, command: CreateServiceOffering) -> Outcome:
    domain_id, path = _placement(store, command.domain_id)
    offering = ServiceOffering(asdict(command.terms), domain_id, path, id=command.offering_id)
    return Outcome(store.last_position(store.save(offering)), offering.id)


@dataclass(frozen=True)
class CreateDiskOffering:
    terms: DiskTerms
    domain_id: UUID | None = None
    offering_id: UUID = field(default_factory=uuid.uuid4)


def create_disk_offering(store: Any, command: CreateDiskOffering) -> Outcome:
    domain_id, path = _placement(store, command.domain_id)
    offering = DiskOffering(asdict(command.terms), domain_id, path, id=command.offering_id)
    return Outcome(store.last_position(store.save(offering)), offering.id)


@dataclass(frozen=True)
class UpdateOffering:
    kind: type[Offering]
    offering_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)


def update_offering(store: Any, command: UpdateOffering) -> Outcome:
    return change(
        store,
        command.kind,
        command.offering_id,
        lambda offering: offering.update(command.changes),
        what="offering",
    )


def delete_offering(store: Any, kind: type[Offering], offering_id: UUID) -> Outcome:
    return change(store, kind, offering_id, lambda offering: offering.delete(), what="offering")


# ---- defaults --------------------------------------------------------------------------
# What 4.3 seeds on a new installation: two compute offerings for tenants, a shared-storage and
# a local-storage system offering for each kind of system VM, and four disk offerings.


def _system(name: str, memory: int, vm_type: str, storage: str = "shared") -> ComputeTerms:
    if storage == "local":
        name = f"{name} - Local Storage"
    return ComputeTerms(
        name,
        name,
        1,
        500,
        memory,
        storage_type=storage,
        offer_ha=True,
        system_vm_type=vm_type,
        default_use=True,
    )


ROUTER_MEMORY_MB = 128  # 4.3's router: 1 CPU of 500 MHz, 128 MB
_SYSTEM_SHAPES = (
    ("System Offering For Software Router", ROUTER_MEMORY_MB, "domainrouter"),
    ("System Offering For Console Proxy", 1024, "consoleproxy"),
    ("System Offering For Secondary Storage VM", 512, "secondarystoragevm"),
)
DEFAULT_COMPUTE = (
    ComputeTerms("Small Instance", "Small Instance", 1, 500, 512),
    ComputeTerms("Medium Instance", "Medium Instance", 1, 1000, 1024),
    *(_system(name, memory, kind) for name, memory, kind in _SYSTEM_SHAPES),
    *(_system(name, memory, kind, "local") for name, memory, kind in _SYSTEM_SHAPES),
)
DEFAULT_DISK = (
    DiskTerms("Small", "Small Disk, 5 GB", 5),
    DiskTerms("Medium", "Medium Disk, 20 GB", 20),
    DiskTerms("Large", "Large Disk, 100 GB", 100),
    DiskTerms("Custom", "Custom Disk", customized=True),
)
# Defaults that earlier releases of Stratus seeded and 4.3 never had: retired where they exist
# (an event of their own, so the log still tells they were seeded), never seeded again.
RETIRED_COMPUTE = {
    "Custom": "4.3 seeds no custom compute offering: an administrator creates one if wanted",
}


def seed_id(kind: str, name: str) -> UUID:
    """The fixed id of a default offering, so seeding twice finds the first one."""
    return uuid5(_SEED_NAMESPACE, f"{kind}:{name}")


def _exists(store: Any, aggregate_id: UUID) -> bool:
    try:
        store.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return False
    return True  # deleted defaults stay deleted: the operator removed them on purpose


def seed_offerings(store: Any) -> int:
    """Create the default offerings missing from the log; returns how many were created.

    Ids derive from names, so two processes seeding at once write the same aggregates and the
    store lets only one through; the other retries, finds them, and creates nothing.
    """
    makers: list[tuple[UUID, Callable[[], Offering]]] = []
    for terms in DEFAULT_COMPUTE:
        key = seed_id("service", terms.name)
        makers.append((key, partial(ServiceOffering, asdict(terms), None, "", id=key)))
    for disk in DEFAULT_DISK:
        key = seed_id("disk", disk.name)
        makers.append((key, partial(DiskOffering, asdict(disk), None, "", id=key)))
    created = sum(_seed(store, key, make) for key, make in makers)
    for name, reason in RETIRED_COMPUTE.items():
        _retire(store, seed_id("service", name), reason)
    return created


def _retire(store: Any, offering_id: UUID, reason: str) -> None:
    def attempt() -> None:
        if not _exists(store, offering_id):
            return
        offering = store.get(ServiceOffering, offering_id, what="offering")
        if not offering.removed:
            offering.retire(reason)
            store.save(offering)

    store.run(attempt)


def _seed(store: Any, offering_id: UUID, make: Callable[[], Offering]) -> int:
    def attempt() -> int:
        if _exists(store, offering_id):
            return 0
        store.save(make())
        return 1

    result: int = store.run(attempt)
    return result
