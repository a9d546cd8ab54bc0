"""Storage quality of service, as CloudStack 4.3 has it, for offerings and the disks made of them.

Two kinds, and an offering has at most one. *Storage QoS*: a disk's minimum and maximum IOPS,
which the primary storage guarantees (fixed by the offering, or, when its IOPS are
customizable, asked for when the disk is made), and the hypervisor snapshot reserve (a percent
of the disk kept for hypervisor snapshots on managed storage). *Hypervisor I/O throttling*:
bytes and IOPS per second the hypervisor lets a disk read and write (`io_limits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidParameter

IO_LIMITS = ("bytes_read_rate", "bytes_write_rate", "iops_read_rate", "iops_write_rate")
MAX_LONG = 2**63 - 1
MAX_PERCENT = 2**31 - 1
BOTH_KINDS = (
    "Storage QoS (customizediops, miniops, maxiops) and hypervisor I/O throttling (bytes and "
    "IOPS read and write rates) cannot both be set on one offering"
)


@dataclass(frozen=True)
class IopsTerms:
    """An offering's storage QoS: fixed IOPS, IOPS asked for per disk (`customized`), or none."""

    customized: bool = False
    min_iops: int | None = None
    max_iops: int | None = None
    hypervisor_snapshot_reserve: int | None = None  # percent

    @property
    def storage_qos(self) -> bool:
        """Whether the offering asks the primary storage for IOPS (fixed or per disk)."""
        return self.customized or self.min_iops is not None or self.max_iops is not None


def check_iops_range(min_iops: int | None, max_iops: int | None) -> None:
    """4.3's rule for a pair of IOPS: both or neither, the minimum above 0 and at most the
    maximum."""
    if min_iops is None and max_iops is None:
        return
    if min_iops is None or min_iops <= 0:
        raise InvalidParameter("The min IOPS must be greater than 0.")
    if max_iops is None or max_iops > MAX_LONG:
        raise InvalidParameter("Specify the max IOPS with the min IOPS.")
    if min_iops > max_iops:
        raise InvalidParameter("The min IOPS must be less than or equal to the max IOPS.")


def check_offering_qos(terms: IopsTerms, io_limits: dict[str, int]) -> None:
    """An offering's storage QoS is consistent and not mixed with hypervisor throttling."""
    if terms.customized and (terms.min_iops is not None or terms.max_iops is not None):
        raise InvalidParameter(
            "An offering with customized IOPS takes them when the disk is created: leave "
            "miniops and maxiops empty"
        )
    check_iops_range(terms.min_iops, terms.max_iops)
    if terms.storage_qos and io_limits:
        raise InvalidParameter(BOTH_KINDS)
    reserve = terms.hypervisor_snapshot_reserve
    if reserve is not None and not 0 <= reserve <= MAX_PERCENT:
        raise InvalidParameter("The hypervisor snapshot reserve must not be negative")


def disk_qos(
    terms: IopsTerms, io_limits: dict[str, int], asked: tuple[int | None, int | None] = (None, None)
) -> dict[str, Any]:
    """What a new disk of the offering carries: the offering's IOPS, or for an offering with
    customizable IOPS those `asked` (min, max; none asked: none fixed), its snapshot reserve and
    its I/O throttling rates. IOPS asked of an offering that fixes them are refused."""
    min_iops, max_iops = asked
    if not terms.customized:
        if min_iops is not None or max_iops is not None:
            raise InvalidParameter(
                "The disk offering does not allow customized IOPS: miniops and maxiops are "
                "taken only with one whose IOPS are customizable"
            )
        min_iops, max_iops = terms.min_iops, terms.max_iops
    check_iops_range(min_iops, max_iops)
    qos: dict[str, Any] = {"min_iops": min_iops, "max_iops": max_iops}
    qos["hypervisor_snapshot_reserve"] = terms.hypervisor_snapshot_reserve
    qos.update(io_limits)
    return {key: value for key, value in qos.items() if value is not None}


def io_limits_of(qos: dict[str, Any] | None) -> dict[str, int]:
    """The hypervisor throttling rates among a disk's QoS (what the hypervisor applies)."""
    return {key: int(value) for key, value in (qos or {}).items() if key in IO_LIMITS}


def with_rates(qos: dict[str, Any] | None, io_limits: dict[str, int]) -> dict[str, Any]:
    """A disk's QoS under another offering: its IOPS stay (4.3 keeps a volume's IOPS when it
    is resized), its I/O throttling rates become the new offering's."""
    kept = {key: value for key, value in (qos or {}).items() if key not in IO_LIMITS}
    return {**kept, **io_limits}
