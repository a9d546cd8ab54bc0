"""Network bytes (4, 5) and VM disk I/O (21-24) usage, from statistics readings.

A reading holds cumulative counters of one epoch (domain/statistics.py); what it adds is the
difference from the previous reading of the same counter in the same epoch (`counter_delta`:
a counter lower than before was reset, so all of it is new). In a new epoch the counters
started again from zero, so all of the first reading is new. The amount belongs to the period
holding the reading's time. The previous readings are kept with the resource's identity in
the ledger.

Network bytes are charged to the router's owner, with the router as usage id and its guest
network named (CloudStack's "DomainRouter" records); disk I/O to the volume's owner, with the
volume as usage id and its VM named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.statistics import DISK_COUNTERS, DiskStatistics, NetworkStatistics, counter_delta
from domain.system_vm import Role, SystemVm
from domain.usage import (
    NETWORK_BYTES_RECEIVED,
    NETWORK_BYTES_SENT,
    VM_DISK_BYTES_READ,
    VM_DISK_BYTES_WRITE,
    VM_DISK_IO_READ,
    VM_DISK_IO_WRITE,
    facts_of,
)
from domain.usage_ledger import Ledger

_Router: Any = SystemVm
_Net: Any = NetworkStatistics
_Disk: Any = DiskStatistics

DISK_TYPES = dict(
    zip(
        DISK_COUNTERS,
        (VM_DISK_IO_READ, VM_DISK_IO_WRITE, VM_DISK_BYTES_READ, VM_DISK_BYTES_WRITE),
        strict=True,
    )
)
ROUTER_TYPE = "DomainRouter"


@facts_of(_Router.Created)
def router_created(ledger: Ledger, e: Mapping[str, Any]) -> None:
    if e["role"] != Role.ROUTER:
        return
    ledger.remember(
        e["originator_id"],
        name=e["instance_name"],
        account_id=e["owner_account_id"],
        domain_id=e["owner_domain_id"],
        zone_id=e["zone_id"],
    )


def _deltas(
    ledger: Ledger, resource_id: str, epoch: str, current: Mapping[str, int]
) -> dict[str, int] | None:
    """Each counter's increase since the resource's previous reading (None: not a resource
    usage knows)."""
    who = ledger.identity(resource_id)
    if who is None:
        return None
    kept = who.get("readings") or {}
    previous = kept.get("values", {}) if kept.get("epoch") == epoch else {}
    ledger.remember(resource_id, readings={"epoch": epoch, "values": {**previous, **current}})
    return {name: counter_delta(previous.get(name), value) for name, value in current.items()}


@facts_of(_Net.Read, produces=(NETWORK_BYTES_SENT, NETWORK_BYTES_RECEIVED))
def network_read(ledger: Ledger, e: Mapping[str, Any]) -> None:
    router_id, network_id, at = e["router_id"], e["network_id"], e["read_at_ms"]
    current = {f"{network_id}:sent": e["sent"], f"{network_id}:received": e["received"]}
    deltas = _deltas(ledger, router_id, e["epoch"], current)
    if deltas is None:
        return
    attrs = (("network_id", network_id), ("resource_type", ROUTER_TYPE))
    for usage_type, name in ((NETWORK_BYTES_SENT, "sent"), (NETWORK_BYTES_RECEIVED, "received")):
        amount = deltas[f"{network_id}:{name}"]
        ledger.count(usage_type, router_id, at, amount, attrs, sub=network_id)


@facts_of(_Disk.Read, produces=tuple(DISK_TYPES.values()))
def disks_read(ledger: Ledger, e: Mapping[str, Any]) -> None:
    vm_id, at = e["vm_id"], e["read_at_ms"]
    current = {
        f"{volume_id}:{name}": int(value)
        for volume_id, values in e["volumes"].items()
        for name, value in zip(DISK_COUNTERS, values, strict=True)
    }
    deltas = _deltas(ledger, vm_id, e["epoch"], current)
    if deltas is None:
        return
    attrs = (("vm_id", vm_id),)
    for volume_id in sorted(e["volumes"]):
        for name, usage_type in DISK_TYPES.items():
            ledger.count(usage_type, volume_id, at, deltas[f"{volume_id}:{name}"], attrs)
