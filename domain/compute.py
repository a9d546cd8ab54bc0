"""The compute shape of a machine: what an offering fixes, what a custom offering leaves to the
caller's `details`, and how the two combine (`resolve_compute`) with the messages CloudStack
gives. Guest VMs and system VMs share it; usage reads its facts from their events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from domain.errors import InvalidParameter

MAX_INT = 2**31 - 1
MIN_MEMORY_MB = 32
CUSTOM_FIELDS = ("cpu_number", "cpu_speed", "memory")
ROOT_DISK_SIZE = "root_disk_size"
LIVE_SCALING_HYPERVISORS = frozenset({"XenServer", "VMware", "Simulator"})


@dataclass(frozen=True)
class OfferingShape:
    """What a compute offering fixes; None leaves that value to whoever deploys."""

    offering_id: UUID
    cpu_number: int | None
    cpu_speed: int | None
    memory: int | None

    @property
    def custom(self) -> bool:
        return self.cpu_number is None or self.cpu_speed is None or self.memory is None


@dataclass(frozen=True)
class Compute:
    """The resolved shape of a VM: what usage bills and what the hypervisor is asked for."""

    offering_id: UUID
    cpu_number: int
    cpu_speed: int  # MHz per CPU
    memory: int  # MiB
    custom: bool
    template_id: UUID
    hypervisor: str
    root_disk_size: int  # GiB

    @property
    def cpu_mhz(self) -> int:
        return self.cpu_number * self.cpu_speed

    def facts(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_facts(cls, facts: Mapping[str, Any]) -> Compute:
        return cls(**facts)


_LABELS = {"cpu_number": "cpu cores", "cpu_speed": "cpu speed", "memory": "memory"}
_INVALID = {
    "cpu_number": f"Invalid cpu cores value, specify a value between 1 and {MAX_INT}",
    "cpu_speed": f"Invalid cpu speed value, specify a value between 1 and {MAX_INT}",
    "memory": f"Invalid memory value, specify a value between {MIN_MEMORY_MB} and {MAX_INT} MB",
}
NEED_CUSTOM_VALUES = (
    "Need to specify custom parameter values cpu, cpu speed and memory when using custom offering"
)


def _whole(text: str | None, low: int) -> int | None:
    """A whole number in low..MAX_INT, or None when it is missing or out of range."""
    try:
        number = int(str(text))
    except ValueError:
        return None
    return number if low <= number <= MAX_INT else None


def resolve_compute(
    offering: OfferingShape,
    values: Mapping[str, str],
    *,
    template_id: UUID,
    hypervisor: str,
    template_disk_gb: int,
) -> Compute:
    """The shape a deploy or scale asks for: the offering's fixed values plus custom ones.

    A custom offering needs every value it leaves open; a fixed value may not be overridden.
    """
    if offering.custom and not values:
        raise InvalidParameter(NEED_CUSTOM_VALUES)
    chosen: dict[str, int] = {}
    for name in CUSTOM_FIELDS:
        fixed = getattr(offering, name)
        if fixed is not None:
            if name in values:
                raise InvalidParameter(
                    f"The {_LABELS[name]} of this offering id:{offering.offering_id} is not "
                    "customizable. This is predefined in the template."
                )
            chosen[name] = fixed
            continue
        number = _whole(values.get(name), MIN_MEMORY_MB if name == "memory" else 1)
        if number is None:
            raise InvalidParameter(_INVALID[name])
        chosen[name] = number
    return Compute(
        offering.offering_id,
        chosen["cpu_number"],
        chosen["cpu_speed"],
        chosen["memory"],
        offering.custom,
        template_id,
        hypervisor,
        _root_disk(values, template_disk_gb),
    )


def _root_disk(values: Mapping[str, str], template_disk_gb: int) -> int:
    if ROOT_DISK_SIZE not in values:
        return template_disk_gb
    size = _whole(values[ROOT_DISK_SIZE], 1)
    if size is None:
        raise InvalidParameter("Root disk size must be a whole number of GB, at least 1")
    if size < template_disk_gb:
        raise InvalidParameter(
            f"Root disk size {size} GB is smaller than the template's {template_disk_gb} GB"
        )
    return size


def check_live_scaling(hypervisor: str) -> None:
    """As 4.3: only XenServer and VMware (and the simulator) resize a running guest."""
    if hypervisor not in LIVE_SCALING_HYPERVISORS:
        raise InvalidParameter("This operation not permitted for this hypervisor of the vm")
