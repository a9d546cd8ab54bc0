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

DEFAULT_COMPUTE = (
    ComputeTerms("Small Instance", "Small Instance", 1, 500, 512),
    ComputeTerms("Medium Instance", "Medium Instance", 1, 1000, 1024),
    ComputeTerms("Custom", "Custom: choose CPUs, speed and memory when deploying"),
    ComputeTerms(
        "System Offering For Software Router",
        "System Offering For Software Router",
        1,
        500,
        256,
        offer_ha=True,
        system_vm_type="domainrouter",
        default_use=True,
    ),
    ComputeTerms(
        "System Offering For Console Proxy",
        "System Offering For Console Proxy",
        1,
        500,
        1024,
        offer_ha=True,
        system_vm_type="consoleproxy",
        default_use=True,
    ),
    ComputeTerms(
        "System Offering For Secondary Storage VM",
        "System Offering For Secondary Storage VM",
        1,
        500,
        512,
        offer_ha=True,
        system_vm_type="secondarystoragevm",
        default_use=True,
    ),
)
DEFAULT_DISK = (
    DiskTerms("Small", "Small Disk, 5 GB", 5),
    DiskTerms("Medium", "Medium Disk, 20 GB", 20),
    DiskTerms("Custom", "Custom Disk", customized=True),
)


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
    return sum(_seed(store, key, make) for key, make in makers)


def _seed(store: Any, offering_id: UUID, make: Callable[[], Offering]) -> int:
    def attempt() -> int:
        if _exists(store, offering_id):
            return 0
        store.save(make())
        return 1

    result: int = store.run(attempt)
    return result
