"""A VM's guest NICs after its deploy (addNicToVirtualMachine, removeNicFromVirtualMachine,
updateDefaultNicForVirtualMachine): jobs on the VM, as in 4.3, whose finished result is the VM.

What is plainly wrong answers at once and changes nothing (no such VM, NIC or network, another
account's, a network of another zone or one the VM's account may not use, a second NIC on one
network, the default NIC removed, a hypervisor whose adapter cannot plug NICs); a running VM's
host then plugs the NIC in or out (commands/vm_nics.py).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.cloudstack.network_nics import nic_request, prepare_network_services
from api.cloudstack.networks import network_row
from api.cloudstack.vm_listing import vm_row, vm_view
from api.cloudstack.vms import hypervisor_job
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param, ParamType, not_found
from commands import vm_nics as cmd
from domain.errors import InvalidParameter, PermissionDenied
from domain.network_addressing import address
from domain.vm import nic_id
from projections.networks import nics_of_vms
from stratus.actions import lacking

P = ParamType
VM_PKG = "org.apache.cloudstack.api.command.user.vm"


def _vm(call: Call, vm_id: str) -> dict[str, Any]:
    row = vm_row(call, vm_id)
    if row["state"] not in ("Running", "Stopped"):
        raise InvalidParameter(
            f"Unable to change the nics of virtual machine {row['name']} in state {row['state']}"
        )
    return row


def _nics(call: Call, vm_id: str) -> dict[str, dict[str, Any]]:
    """The VM's live NICs by id."""
    with call.read() as cursor:
        found = nics_of_vms(cursor, [vm_id]).get(vm_id, [])
    return {nic_id(n["vm_id"], n["network_id"]): n for n in found if not n["removed"]}


def _refuse_unless_pluggable(row: dict[str, Any]) -> None:
    if row["state"] == "Running" and lacking(row["hypervisor"] or "", "plug_nic") is not None:
        raise InvalidParameter(
            f"Adding and removing nics of a running virtual machine is not supported on "
            f"{row['hypervisor']} (virtual machine {row['name']}): stop it first"
        )


def add_nic(call: Call, args: dict[str, Any]) -> Submitted:
    vm = _vm(call, args["virtualmachineid"])
    _refuse_unless_pluggable(vm)
    network = network_row(call, args["networkid"], "networkid")
    if network["zone_id"] != vm["zone_id"]:
        raise InvalidParameter(f"Network {network['name']} is not in the zone of the VM")
    if network["guest_type"] == "Isolated" and network["account_id"] != vm["account_id"]:
        raise PermissionDenied(f"Network {network['name']} belongs to another account")
    if any(n["network_id"] == network["id"] for n in _nics(call, vm["id"]).values()):
        raise InvalidParameter(
            f"Virtual machine {vm['name']} already has a nic in network {network['name']}"
        )
    if args["ipaddress"]:
        address(args["ipaddress"])
    request = nic_request(call, network, args["ipaddress"] or None)
    prepare_network_services(call, [request], vm["hypervisor"] or "Simulator", "add a nic")
    command = cmd.AddNic(UUID(vm["id"]), request)
    return hypervisor_job(
        call,
        vm["id"],
        "NIC.CREATE",
        f"Adding a nic in network {network['name']} to VM {vm['name']}",
        lambda job_id: cmd.add_nic(call.store, cmd.AddNic(command.vm_id, request, job_id)),
    )


def _nic_of(call: Call, vm: dict[str, Any], nic_text: str) -> dict[str, Any]:
    nic = _nics(call, vm["id"]).get(nic_text)
    if nic is None:
        raise not_found("nicid", nic_text)
    return nic


def remove_nic(call: Call, args: dict[str, Any]) -> Submitted:
    vm = _vm(call, args["virtualmachineid"])
    nic = _nic_of(call, vm, args["nicid"])
    if nic["is_default"]:
        raise InvalidParameter(
            f"Unable to remove nic from virtual machine {vm['name']}: the nic is the default one"
        )
    _refuse_unless_pluggable(vm)
    network_id = UUID(nic["network_id"])
    return hypervisor_job(
        call,
        vm["id"],
        "NIC.DELETE",
        f"Removing the nic in network {nic['network_name'] or network_id} from VM {vm['name']}",
        lambda job_id: cmd.remove_nic(
            call.store, cmd.RemoveNic(UUID(vm["id"]), network_id, job_id)
        ),
    )


def update_default_nic(call: Call, args: dict[str, Any]) -> Submitted:
    vm = _vm(call, args["virtualmachineid"])
    nic = _nic_of(call, vm, args["nicid"])
    if nic["is_default"]:
        raise InvalidParameter(f"The nic {args['nicid']} is already the default nic")
    network_id = UUID(nic["network_id"])
    return hypervisor_job(
        call,
        vm["id"],
        "NIC.UPDATE",
        f"Making the nic in network {nic['network_name'] or network_id} the default of "
        f"VM {vm['name']}",
        lambda job_id: cmd.change_default_nic(call.store, UUID(vm["id"]), network_id, job_id),
    )


COMMANDS = (
    ApiCommand(
        "addNicToVirtualMachine",
        add_nic,
        (
            Param("virtualmachineid", P.UUID, required=True),
            Param("networkid", P.UUID, required=True),
            Param("ipaddress", P.STRING),
        ),
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=f"{VM_PKG}.AddNicToVMCmd",
        description="Adds VM to specified network by creating a NIC",
    ),
    ApiCommand(
        "removeNicFromVirtualMachine",
        remove_nic,
        (
            Param("virtualmachineid", P.UUID, required=True),
            Param("nicid", P.UUID, required=True),
        ),
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=f"{VM_PKG}.RemoveNicFromVMCmd",
        description="Removes VM from specified network by deleting a NIC",
    ),
    ApiCommand(
        "updateDefaultNicForVirtualMachine",
        update_default_nic,
        (
            Param("virtualmachineid", P.UUID, required=True),
            Param("nicid", P.UUID, required=True),
        ),
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=f"{VM_PKG}.UpdateDefaultNicForVMCmd",
        description="Changes the default NIC on a VM",
    ),
)
