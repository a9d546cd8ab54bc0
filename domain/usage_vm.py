"""Running (1) and allocated (2) VM usage, from the compute shape every VM event carries.

Deploy opens ALLOCATED, start opens RUNNING, stop closes it, destroy and expunge close both,
recover opens ALLOCATED again, and a scale splits whatever is open: before it the old shape,
after it the new one (CloudStack's VM.UPGRADE / VM.DYNAMIC.SCALE); a restore to another template
splits it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.usage import ALLOCATED_VM, RUNNING_VM, facts_of
from domain.usage_ledger import Attrs, Ledger
from domain.vm import VirtualMachine

_Vm: Any = VirtualMachine


def vm_attrs(compute: Mapping[str, Any]) -> Attrs:
    """What a VM record names: offering, template, hypervisor, root disk and, only for a
    custom offering, the CPU number, speed and memory chosen at deploy or scale."""
    custom = bool(compute["custom"])
    # Written in sorted key order: the same tuple attrs_of would make, without sorting.
    return (
        ("cpu_number", compute["cpu_number"] if custom else None),
        ("cpu_speed", compute["cpu_speed"] if custom else None),
        ("hypervisor", compute["hypervisor"]),
        ("memory", compute["memory"] if custom else None),
        ("offering_id", compute["offering_id"]),
        ("root_disk_size", compute["root_disk_size"]),
        ("template_id", compute["template_id"]),
    )


@facts_of(_Vm.Deployed, produces=(RUNNING_VM, ALLOCATED_VM))
def deployed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    vm_id = e["originator_id"]
    ledger.remember(
        vm_id,
        name=e["name"],
        account_id=e["owner_account_id"],
        domain_id=e["owner_domain_id"],
        zone_id=e["zone_id"],
    )
    ledger.begin(ALLOCATED_VM, vm_id, e["at"], vm_attrs(e["compute"]))


@facts_of(_Vm.Started, by_originator=True, reads=("compute",))
def started(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.begin(RUNNING_VM, e["originator_id"], e["at"], vm_attrs(e["compute"]))


@facts_of(_Vm.Stopped, by_originator=True, reads=())
def stopped(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.end(RUNNING_VM, e["originator_id"], e["at"])


@facts_of(_Vm.Scaled, _Vm.Restored, by_originator=True, reads=("compute",))
def scaled(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.reshape(e["originator_id"], e["at"], vm_attrs(e["compute"]))


@facts_of(_Vm.Destroyed, _Vm.Expunged, by_originator=True, reads=())
def destroyed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.end_all(e["originator_id"], e["at"], (RUNNING_VM, ALLOCATED_VM))


@facts_of(_Vm.Recovered, by_originator=True, reads=("compute",))
def recovered(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.begin(ALLOCATED_VM, e["originator_id"], e["at"], vm_attrs(e["compute"]))


@facts_of(_Vm.OwnerChanged, by_originator=True, reads=("account_id", "domain_id"))
def owner_changed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    """assignVirtualMachine: the old account's records close, the new account's open."""
    ledger.transfer(
        e["originator_id"], e["at"], account_id=e["account_id"], domain_id=e["domain_id"]
    )
