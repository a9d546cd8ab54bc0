"""Hyper-V resource metering, which Stratus reads for usage: `Measure-VM` answers what a VM
moved since metering was turned on for it, in whole MB, and keeps counting across the VM's
restarts. So the counters' epoch is the VM's id: they only grow for as long as the VM exists,
unless someone resets its metering (a drop, which usage counts as a reset).

Hyper-V meters a VM's disks together, and counts I/O operations only as normalised 8 KB
units without telling reads from writes: the disk reading is the root disk's slot (0) with
the bytes, and no I/O operation counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters import HypervisorError

MB = 1024**2
# ConvertTo-Json writes the NetworkTrafficDirection enum as its number.
_DIRECTIONS = {"0": "Inbound", "1": "Outbound", "Inbound": "Inbound", "Outbound": "Outbound"}
_FIELDS = "VMId,AggregatedDiskDataRead,AggregatedDiskDataWritten,NetworkMeteredTrafficReport"


@dataclass(frozen=True)
class Metered:
    """What Measure-VM reported, in bytes."""

    epoch: str
    disk_read: int
    disk_written: int
    inbound: int
    outbound: int


def metering_script(quoted_name: str) -> str:
    """Turn metering on (a no-op when it is) and measure; `quoted_name` is already quoted."""
    return (
        f"Enable-VMResourceMetering -VMName {quoted_name}\n"
        f"Measure-VM -VMName {quoted_name} | Select-Object {_FIELDS} "
        "| ConvertTo-Json -Compress -Depth 3"
    )


def parse_metering(lines: list[str]) -> Metered:
    try:
        found: Any = json.loads(lines[0]) if lines else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise HypervisorError("Measure-VM answered no metering report")
    report = found.get("NetworkMeteredTrafficReport") or []
    traffic = {"Inbound": 0, "Outbound": 0}
    for entry in report if isinstance(report, list) else [report]:
        direction = _DIRECTIONS.get(str(entry.get("Direction")))
        if direction is not None:
            traffic[direction] += int(entry.get("TotalTraffic") or 0)
    return Metered(
        epoch=str(found.get("VMId") or ""),
        disk_read=int(found.get("AggregatedDiskDataRead") or 0) * MB,
        disk_written=int(found.get("AggregatedDiskDataWritten") or 0) * MB,
        inbound=traffic["Inbound"] * MB,
        outbound=traffic["Outbound"] * MB,
    )
