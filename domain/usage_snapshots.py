"""Snapshot (9) and VM snapshot (25) usage.

A volume snapshot is charged from the moment its copy exists (`BackedUp`) until it is deleted,
at its size, whether or not its volume still exists. A VM snapshot is charged per volume of the
VM, at that volume's size and (for a data disk) disk offering, from its creation on the host
until it is deleted or goes with its expunged VM; as CloudStack records it, the record's
`usageid` is the VM. Each (VM snapshot, volume) pair is its own span: the sub-resource names both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.snapshot import Snapshot
from domain.usage import SNAPSHOT, VM_SNAPSHOT, facts_of
from domain.usage_ledger import Ledger, attrs_of
from domain.vm_snapshot import VMSnapshot

_Snapshot: Any = Snapshot
_VmSnapshot: Any = VMSnapshot


@facts_of(_Snapshot.Allocated, produces=(SNAPSHOT,))
def snapshot_allocated(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.remember(
        e["originator_id"],
        name=e["name"],
        account_id=e["owner_account_id"],
        domain_id=e["owner_domain_id"],
        zone_id=e["zone_id"],
    )


@facts_of(_Snapshot.BackedUp)
def snapshot_backed_up(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.begin(SNAPSHOT, e["originator_id"], e["at"], attrs_of({"size": e["size_bytes"]}))


@facts_of(_Snapshot.Destroyed)
def snapshot_destroyed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.end(SNAPSHOT, e["originator_id"], e["at"])


def _sub(snapshot_id: str, volume: Mapping[str, Any]) -> str:
    return f"{snapshot_id}/{volume['volume_id']}"


@facts_of(_VmSnapshot.Created, produces=(VM_SNAPSHOT,))
def vm_snapshot_created(ledger: Ledger, e: Mapping[str, Any]) -> None:
    vm_id = e["vm_id"]
    if ledger.identity(vm_id) is None:  # a VM whose deploy usage never saw: name it now
        ledger.remember(
            vm_id, account_id=e["account_id"], domain_id=e["domain_id"], zone_id=e["zone_id"]
        )
    for volume in e["volumes"]:
        attrs = attrs_of(
            {
                "size": volume["size"],
                "offering_id": volume.get("offering_id"),
                "volume_id": volume["volume_id"],
            }
        )
        sub = _sub(e["originator_id"], volume)
        ledger.begin(VM_SNAPSHOT, vm_id, e["at"], attrs, sub=sub, zone_id=e["zone_id"])


@facts_of(_VmSnapshot.Destroyed)
def vm_snapshot_destroyed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    for volume in e["volumes"]:
        ledger.end(VM_SNAPSHOT, e["vm_id"], e["at"], _sub(e["originator_id"], volume))
