"""Hypervisor capabilities: what each hypervisor (per version) lets a cloud put on it.

4.3 seeds one row per hypervisor and version (and a `default` row per hypervisor, used for a
version it does not list): how many guests a host may run, how many data volumes a VM may
have attached, how many hosts a cluster may hold, whether security groups and storage motion
are supported. Operators change the guest limit and the security group flag. All rows live in
one aggregate: they are few, and seeded together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, NotFound

_NAMESPACE = UUID("3b7f2c64-18e5-4d0a-9c21-7a5e4f90b6d2")
DEFAULT_VERSION = "default"


@dataclass(frozen=True)
class Capability:
    """One hypervisor version's limits (None: no limit)."""

    hypervisor: str
    version: str
    max_guests: int | None
    max_data_volumes: int | None
    max_hosts_per_cluster: int | None
    security_group_enabled: bool
    storage_motion: bool


def _row(
    hv: str,
    version: str,
    guests: int,
    volumes: int,
    hosts: int | None,
    sg: bool,
    motion: bool = False,
) -> Capability:
    return Capability(hv, version, guests, volumes, hosts, sg, motion)


# The rows 4.3 seeds. Stratus's simulator gets a default row of its own: hosts of its scale
# tests run hundreds of guests, so it allows 1,000; it moves a running VM's disks between
# pools (storage motion), so that path of migrateVolume can be exercised.
SEEDED: tuple[Capability, ...] = (
    _row("XenServer", DEFAULT_VERSION, 50, 6, 16, True),
    _row("XenServer", "XCP 1.0", 50, 6, 16, True),
    _row("XenServer", "5.6", 50, 6, 16, True),
    _row("XenServer", "5.6 FP1", 50, 6, 16, True),
    _row("XenServer", "5.6 SP2", 50, 6, 16, True),
    _row("XenServer", "6.0", 50, 13, 16, True),
    _row("XenServer", "6.0.2", 50, 13, 16, True),
    _row("XenServer", "6.1.0", 50, 13, 16, True, True),
    _row("XenServer", "6.2.0", 500, 13, 16, True, True),
    _row("VMware", DEFAULT_VERSION, 128, 13, 32, False),
    _row("VMware", "4.0", 128, 13, 32, False),
    _row("VMware", "4.1", 128, 13, 32, False),
    _row("VMware", "5.0", 128, 13, 32, False, True),
    _row("VMware", "5.1", 128, 13, 32, False, True),
    _row("VMware", "5.5", 128, 13, 32, False, True),
    _row("KVM", DEFAULT_VERSION, 50, 6, None, True),
    _row("Hyperv", DEFAULT_VERSION, 1024, 64, 1024, False),
    _row("Hyperv", "6.2", 1024, 64, 1024, False),
    _row("Simulator", DEFAULT_VERSION, 1000, 6, None, True, True),
)


def capability_id(hypervisor: str, version: str) -> UUID:
    return uuid5(_NAMESPACE, f"{hypervisor.lower()}:{version}")


class HypervisorCapabilities(Aggregate):
    """Every hypervisor version's capabilities, by id."""

    @staticmethod
    def create_id(rows: list[dict[str, Any]]) -> UUID:
        return uuid5(_NAMESPACE, "hypervisor-capabilities")

    @event("Seeded")
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows: dict[str, dict[str, Any]] = {
            str(capability_id(r["hypervisor"], r["version"])): dict(r) for r in rows
        }

    def update(self, row_id: UUID, max_guests: int | None, security_groups: bool | None) -> None:
        """Change a version's guest limit and security group flag (None: keep it)."""
        row = self.rows.get(str(row_id))
        if row is None:
            raise NotFound(f"unable to find the hypervisor capabilities {row_id}")
        if max_guests is not None and max_guests < 0:
            raise InvalidParameter("maxguestslimit cannot be negative")
        self._updated(
            row_id=row_id,
            max_guests=row["max_guests"] if max_guests is None else max_guests,
            security_group_enabled=(
                row["security_group_enabled"] if security_groups is None else security_groups
            ),
        )

    @event("Updated")
    def _updated(self, row_id: UUID, max_guests: int | None, security_group_enabled: bool) -> None:
        row = self.rows[str(row_id)]
        row["max_guests"], row["security_group_enabled"] = max_guests, security_group_enabled


def seeded_rows() -> list[dict[str, Any]]:
    return [asdict(row) for row in SEEDED]
