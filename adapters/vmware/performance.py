"""What vSphere tells of a VM's traffic and disk I/O: PerformanceManager's real-time counters
(20 s samples), which are rates: `net.bytesTx` / `net.bytesRx` and `virtualDisk.read` /
`virtualDisk.write` in KB/s, `virtualDisk.numberReadAveraged` / `numberWriteAveraged` in
operations per second. Stratus keeps running totals of the latest samples (`adapters.rates`).

Disks are told apart by their instance (``scsi0:1`` is the slot 1 of the first controller);
when the server gives only one series for all of them (govmomi's simulator answers every
query with its own canned samples under the instance asked for), it counts as the root
disk's slot (0).
"""

from __future__ import annotations

import re
from typing import Any

from pyVmomi import vim

from adapters import DiskCounters, NetworkCounters
from adapters.rates import RateTotals

KB = 1024
REAL_TIME = 20  # seconds: the real-time interval id
NETWORK = ("net.bytesTx.average", "net.bytesRx.average")
DISK = (
    "virtualDisk.numberReadAveraged.average",
    "virtualDisk.numberWriteAveraged.average",
    "virtualDisk.read.average",
    "virtualDisk.write.average",
)
_SCALE = {"net": KB, "virtualDisk.read": KB, "virtualDisk.write": KB}
_SLOT = re.compile(r"^scsi0:(\d+)$")


def _scale(name: str) -> int:
    return next((factor for prefix, factor in _SCALE.items() if name.startswith(prefix)), 1)


def _counter_ids(perf: Any, names: tuple[str, ...]) -> dict[int, str]:
    found = {}
    for counter in perf.perfCounter:
        name = f"{counter.groupInfo.key}.{counter.nameInfo.key}.{counter.rollupType}"
        if name in names:
            found[counter.key] = name
    return found


def latest_rates(perf: Any, vm: Any, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """The latest sample of each counter, by instance ("" for the whole VM), per second."""
    ids = _counter_ids(perf, names)
    spec = vim.PerformanceManager.QuerySpec(
        entity=vm,
        metricId=[vim.PerformanceManager.MetricId(counterId=key, instance="*") for key in ids],
        intervalId=REAL_TIME,
        maxSample=1,
    )
    rates: dict[str, dict[str, float]] = {}
    for entity in perf.QueryPerf(querySpec=[spec]) or ():
        for series in entity.value:
            name = ids.get(series.id.counterId)
            if name is None or not series.value:
                continue
            instance = "" if series.id.instance in ("", "*") else series.id.instance
            rates.setdefault(instance, {})[name] = float(series.value[0]) * _scale(name)
    return rates


def network_counters(perf: Any, vm: Any, name: str, totals: RateTotals) -> NetworkCounters:
    rates = latest_rates(perf, vm, NETWORK)
    whole = rates.get("") or {
        key: sum(instance.get(key, 0.0) for instance in rates.values()) for key in NETWORK
    }
    sent, received = totals.add(f"{name}/network", [whole.get(key, 0.0) for key in NETWORK])
    return NetworkCounters(sent, received, totals.epoch)


def disk_counters(perf: Any, vm: Any, name: str, totals: RateTotals) -> tuple[DiskCounters, ...]:
    rates = latest_rates(perf, vm, DISK)
    slots = {int(m.group(1)): v for i, v in rates.items() if (m := _SLOT.match(i))}
    if not slots and "" in rates:
        slots = {0: rates[""]}
    found = []
    for slot, values in sorted(slots.items()):
        reads, writes, read, written = totals.add(
            f"{name}/disk/{slot}", [values.get(key, 0.0) for key in DISK]
        )
        found.append(DiskCounters(slot, reads, writes, read, written, totals.epoch))
    return tuple(found)
