"""What XenServer tells of a VM's traffic and disk I/O: its VIFs' and VBDs' metrics objects,
whose `io_read_kbs` and `io_write_kbs` are rates in KiB/s (from the VM's side: what it read
from the network or the disk, what it wrote to them). Stratus keeps running totals of them
(`adapters.rates`); XenServer's metrics count no I/O operations, so those stay zero.
"""

from __future__ import annotations

from typing import Any

from adapters import DiskCounters, NetworkCounters
from adapters.rates import RateTotals

KIB = 1024


def _rates(api: Any, kind: str, metrics_ref: str) -> tuple[float, float]:
    record = getattr(api, f"{kind}_metrics").get_record(metrics_ref)
    return float(record["io_read_kbs"]) * KIB, float(record["io_write_kbs"]) * KIB


def network_counters(api: Any, vm_ref: str, name: str, totals: RateTotals) -> NetworkCounters:
    """All the VM's VIFs together: what it wrote to the network is sent, what it read received."""
    received = sent = 0.0
    for vif in api.VM.get_VIFs(vm_ref):
        read, written = _rates(api, "VIF", api.VIF.get_metrics(vif))
        received, sent = received + read, sent + written
    total_sent, total_received = totals.add(f"{name}/network", (sent, received))
    return NetworkCounters(total_sent, total_received, totals.epoch)


def disk_counters(api: Any, vm_ref: str, name: str, totals: RateTotals) -> tuple[DiskCounters, ...]:
    """One reading per disk VBD, by its `userdevice` slot (CD drives are not volumes)."""
    found = []
    for vbd in api.VM.get_VBDs(vm_ref):
        record = api.VBD.get_record(vbd)
        if record.get("type") != "Disk" or not str(record.get("userdevice", "")).isdigit():
            continue
        slot = int(record["userdevice"])
        read, written = _rates(api, "VBD", api.VBD.get_metrics(vbd))
        bytes_read, bytes_written = totals.add(f"{name}/disk/{slot}", (read, written))
        found.append(DiskCounters(slot, 0, 0, bytes_read, bytes_written, totals.epoch))
    return tuple(sorted(found, key=lambda disk: disk.device_id))
