"""ServiceOffering and DiskOffering: what tenants may order, fixed by an administrator.

A compute offering either fixes all of CPU count, CPU speed and memory, or leaves all three to
whoever deploys (a custom, "dynamic" offering). System offerings size the cloud's own VMs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.storage_qos import IO_LIMITS, IopsTerms, check_offering_qos

MAX_INT = 2**31 - 1
MIN_MEMORY_MB = 32
STORAGE_TYPES = ("shared", "local")
SYSTEM_VM_TYPES = ("domainrouter", "consoleproxy", "secondarystoragevm")
UPDATABLE = frozenset({"name", "display_text", "sort_key", "display_offering"})
PARTIAL_CUSTOM = (
    "For creating a custom compute offering cpu, cpu speed and memory all should be null"
)


@dataclass(frozen=True)
class Placement:
    """Where an offering may be used: everywhere (no domain) or in one domain's subtree."""

    domain_id: UUID | None = None
    domain_path: str = ""  # "" for a public offering


@dataclass(frozen=True, kw_only=True)
class QosTerms:
    """The storage QoS terms both kinds of offering share (`domain.storage_qos`); keyword-only,
    so they follow each kind's own terms, and defaulted: offerings made before have none."""

    customized_iops: bool = False
    min_iops: int | None = None
    max_iops: int | None = None
    hypervisor_snapshot_reserve: int | None = None  # percent

    @property
    def iops(self) -> IopsTerms:
        return IopsTerms(
            self.customized_iops, self.min_iops, self.max_iops, self.hypervisor_snapshot_reserve
        )


@dataclass(frozen=True)
class ComputeTerms(QosTerms):
    """What a compute offering promises; None in all of cpu, speed and memory means custom."""

    name: str
    display_text: str
    cpu_number: int | None = None
    cpu_speed: int | None = None  # MHz per CPU
    memory: int | None = None  # MiB
    storage_type: str = "shared"
    offer_ha: bool = False
    limit_cpu_use: bool = False
    is_volatile: bool = False
    tags: str = ""
    host_tags: str = ""
    system_vm_type: str | None = None  # None: an offering for tenants' VMs
    network_rate: int | None = None  # Mb/s
    deployment_planner: str = ""
    io_limits: dict[str, int] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    default_use: bool = False
    sort_key: int = 0

    @property
    def custom(self) -> bool:
        return self.cpu_number is None and self.cpu_speed is None and self.memory is None


def _in_range(what: str, value: int | None, low: int, unit: str = "") -> None:
    if value is not None and not low <= value <= MAX_INT:
        raise InvalidParameter(f"Specify the {what} value between {low} and {MAX_INT}{unit}")


def _check_common(name: str, storage_type: str, io_limits: dict[str, int]) -> None:
    if not name.strip():
        raise InvalidParameter("An offering needs a name")
    if storage_type not in STORAGE_TYPES:
        raise InvalidParameter(f"Invalid storage type {storage_type}: use local or shared")
    for key, value in io_limits.items():
        if key not in IO_LIMITS:
            raise InvalidParameter(f"Unknown I/O limit {key}")
        _in_range(key.replace("_", " "), value, 1)


def check_compute(terms: ComputeTerms) -> None:
    """The invariants of a compute offering; raises InvalidParameter."""
    _check_common(terms.name, terms.storage_type, terms.io_limits)
    check_offering_qos(terms.iops, terms.io_limits)
    given = [v is not None for v in (terms.cpu_number, terms.cpu_speed, terms.memory)]
    if any(given) and not all(given):
        raise InvalidParameter(PARTIAL_CUSTOM)
    _in_range("cpu number", terms.cpu_number, 1)
    _in_range("cpu speed", terms.cpu_speed, 1, " MHz")
    _in_range("memory", terms.memory, MIN_MEMORY_MB, " MB")
    _in_range("network rate", terms.network_rate, 0, " Mb/s")
    if terms.system_vm_type is not None:
        if terms.system_vm_type not in SYSTEM_VM_TYPES:
            raise InvalidParameter(
                "Invalid system VM type. Supported types are: " + ", ".join(SYSTEM_VM_TYPES)
            )
        if terms.custom:
            raise InvalidParameter(
                "A system offering must fix the cpu number, cpu speed and memory"
            )


class Offering(Aggregate):
    """What compute and disk offerings share: renaming, re-sorting, deletion."""

    if TYPE_CHECKING:  # declared for type checkers only: at run time they would be event fields
        name: str
        display_text: str
        sort_key: int
        domain_id: UUID | None
        domain_path: str
        default_use: bool
        removed: bool

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"Offering {self.name} has been deleted")

    def update(self, changes: dict[str, Any]) -> None:
        self._check_live()
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidParameter(f"Cannot change {', '.join(sorted(unknown))} of an offering")
        if "name" in changes and not str(changes["name"]).strip():
            raise InvalidParameter("An offering needs a name")
        if changes:
            self._updated(kind=type(self).__name__, changes=dict(changes))

    # The shared events carry `kind`: their class is the same for both kinds of offering.
    @event("Updated")
    def _updated(self, kind: str, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def delete(self) -> None:
        self._check_live()
        if self.default_use:
            raise InvalidParameter("Default system offerings can not be deleted")
        self._deleted(kind=type(self).__name__)

    @event("Deleted")
    def _deleted(self, kind: str) -> None:
        self.removed = True

    def retire(self, reason: str) -> None:
        """Withdraw an offering the product seeded by mistake (not an operator's deletion)."""
        if not self.removed:
            self._retired(kind=type(self).__name__, reason=reason)

    @event("Retired")
    def _retired(self, kind: str, reason: str) -> None:
        self.removed = True


class ServiceOffering(Offering):
    """A compute offering: CPUs, speed, memory (or custom), HA and tags, for tenants or system."""

    if TYPE_CHECKING:
        cpu_number: int | None
        cpu_speed: int | None
        memory: int | None
        system_vm_type: str | None

    @event("Created")
    def __init__(self, terms: dict[str, Any], domain_id: UUID | None, domain_path: str, id: UUID):
        shaped = ComputeTerms(**terms)
        check_compute(shaped)
        if shaped.system_vm_type is not None and domain_id is not None:
            raise InvalidParameter("A system offering cannot be limited to a domain")
        # Every term, stored or defaulted: events from before a term existed lack it.
        for key, value in asdict(shaped).items():
            setattr(self, key, value)
        self.domain_id, self.domain_path = domain_id, domain_path
        self.removed = False

    @property
    def terms(self) -> ComputeTerms:
        names = ComputeTerms.__dataclass_fields__
        return ComputeTerms(**{name: getattr(self, name) for name in names})

    @property
    def custom(self) -> bool:
        return self.terms.custom

    @property
    def is_system(self) -> bool:
        return self.system_vm_type is not None


@dataclass(frozen=True)
class DiskTerms(QosTerms):
    """What a disk offering promises: a size in GiB, or a size chosen when the disk is made."""

    name: str
    display_text: str
    disk_size: int | None = None  # GiB; None when customized
    customized: bool = False
    storage_type: str = "shared"
    tags: str = ""
    io_limits: dict[str, int] = field(default_factory=dict)
    display_offering: bool = True
    sort_key: int = 0


def check_disk(terms: DiskTerms) -> None:
    _check_common(terms.name, terms.storage_type, terms.io_limits)
    check_offering_qos(terms.iops, terms.io_limits)
    if terms.customized and terms.disk_size is not None:
        raise InvalidParameter(
            "A custom disk offering takes its size when the disk is created: leave disksize empty"
        )
    if not terms.customized and terms.disk_size is None:
        raise InvalidParameter("Disksize is required for a non-customized disk offering")
    if terms.disk_size is not None and not 1 <= terms.disk_size <= MAX_INT:
        raise InvalidParameter("Please specify a disk size of at least 1 Gb.")


class DiskOffering(Offering):
    """A data-disk offering."""

    @event("Created")
    def __init__(self, terms: dict[str, Any], domain_id: UUID | None, domain_path: str, id: UUID):
        shaped = DiskTerms(**terms)
        check_disk(shaped)
        for key, value in asdict(shaped).items():
            setattr(self, key, value)
        self.domain_id, self.domain_path = domain_id, domain_path
        self.default_use = False
        self.removed = False
