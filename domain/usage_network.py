"""IP address (3) and network offering (13) usage, from public IP and VM NIC events.

An address is charged to its account from association to release, naming whether it is the
network's source-NAT address and whether it is a system address. A VM's NIC is charged to the
NIC's network offering while the VM runs (CloudStack assigns the offering at start and removes
it at stop); the record's usage id is the VM and the network tells NICs apart. Network bytes
(4, 5) come from router statistics readings: domain/usage_statistics.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.network_public_ip import PublicIp
from domain.usage import IP_ADDRESS, NETWORK_OFFERING, RUNNING_VM, facts_of
from domain.usage_ledger import Ledger, attrs_of
from domain.vm import VirtualMachine

_Ip: Any = PublicIp
_Vm: Any = VirtualMachine


@facts_of(_Ip.Associated, produces=(IP_ADDRESS,))
def ip_associated(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ip_id = e["originator_id"]
    ledger.remember(
        ip_id,
        name=e["address"],
        account_id=e["account_id"],
        domain_id=e["domain_id"],
        zone_id=e["zone_id"],
    )
    terms = {"address": e["address"], "source_nat": e["source_nat"], "system": e["is_system"]}
    ledger.begin(IP_ADDRESS, ip_id, e["at"], attrs_of(terms))


@facts_of(_Ip.Disassociated)
def ip_released(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.end(IP_ADDRESS, e["originator_id"], e["at"])


def _nics(ledger: Ledger, vm_id: str) -> Sequence[dict[str, Any]]:
    who = ledger.identity(vm_id)
    return who.get("nics", ()) if who is not None else ()


def _begin(ledger: Ledger, vm_id: str, nic: Mapping[str, Any], at: int) -> None:
    terms = {"offering_id": nic["offering_id"], "is_default": nic["is_default"]}
    ledger.begin(NETWORK_OFFERING, vm_id, at, attrs_of(terms), sub=nic["network_id"])


@facts_of(_Vm.NicPlugged, _Vm.NicHotPlugged, produces=(NETWORK_OFFERING,))
def nic_plugged(ledger: Ledger, e: Mapping[str, Any]) -> None:
    vm_id, nic = e["originator_id"], e["nic"]
    if ledger.identity(vm_id) is None:
        return
    plugged = {
        "network_id": nic["network_id"],
        "offering_id": nic["network_offering_id"],
        "is_default": bool(nic["is_default"]),
    }
    ledger.remember(vm_id, nics=[*_nics(ledger, vm_id), plugged])
    if RUNNING_VM in ledger.open_types(vm_id):
        _begin(ledger, vm_id, plugged, e["at"])


@facts_of(_Vm.NicUnplugged, by_originator=True, reads=("network_id",))
def nic_unplugged(ledger: Ledger, e: Mapping[str, Any]) -> None:
    """A NIC taken off a VM stops its network offering's usage then."""
    vm_id, network_id = e["originator_id"], str(e["network_id"])
    nics = _nics(ledger, vm_id)
    gone = [n for n in nics if str(n["network_id"]) == network_id]
    if not gone:
        return
    ledger.remember(vm_id, nics=[n for n in nics if str(n["network_id"]) != network_id])
    if RUNNING_VM in ledger.open_types(vm_id):
        ledger.end(NETWORK_OFFERING, vm_id, e["at"], gone[0]["network_id"])


@facts_of(_Vm.DefaultNicChanged, by_originator=True, reads=("network_id",))
def default_nic_changed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    """Which NIC is the default is a term of its usage from the VM's next start."""
    vm_id, network_id = e["originator_id"], str(e["network_id"])
    nics = [{**n, "is_default": str(n["network_id"]) == network_id} for n in _nics(ledger, vm_id)]
    if nics:
        ledger.remember(vm_id, nics=nics)


@facts_of(_Vm.Started, by_originator=True, reads=())
def nics_up(ledger: Ledger, e: Mapping[str, Any]) -> None:
    for nic in _nics(ledger, e["originator_id"]):
        _begin(ledger, e["originator_id"], nic, e["at"])


@facts_of(_Vm.Stopped, _Vm.Destroyed, _Vm.Expunged, by_originator=True, reads=())
def nics_down(ledger: Ledger, e: Mapping[str, Any]) -> None:
    for nic in _nics(ledger, e["originator_id"]):
        ledger.end(NETWORK_OFFERING, e["originator_id"], e["at"], nic["network_id"])
