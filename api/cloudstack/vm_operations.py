"""VM commands beyond the lifecycle: restoreVirtualMachine (the root disk made anew from the VM's
template or another one), assignVirtualMachine (a stopped VM and its volumes handed to another
account) and cleanVMReservations (room held on hosts for machines that no longer hold it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from api.access import Role, check_reach
from api.cloudstack import catalog
from api.cloudstack.common import account_row, domain_row
from api.cloudstack.jobs import run_async
from api.cloudstack.vm_listing import vm_row, vm_view
from api.cloudstack.vms import USER_PKG, compute_of, hypervisor_job
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param
from api.params import ParamType as P
from commands import vms as cmd
from commands.reservation_cleanup import clean_reservations
from domain.compute import Compute
from domain.errors import InvalidParameter

MOVING_NETWORKS = "moving a VM's networks or security groups to another account is not built yet"

ADMIN_PKG = "org.apache.cloudstack.api.command.admin.vm"


def restore(call: Call, args: dict[str, Any]) -> Submitted:
    """The VM's root disk made anew by its host, from its own template or `templateid`; a
    running VM keeps running, a stopped one stays stopped."""
    row = vm_row(call, args["virtualmachineid"])
    compute = _restored_compute(call, row, args["templateid"] or row["template_id"])
    return hypervisor_job(
        call,
        row["id"],
        "VM.RESTORE",
        f"Restoring VM {row['name']}",
        lambda job_id: cmd.restore_vm(call.store, UUID(row["id"]), compute, job_id),
    )


def _restored_compute(call: Call, row: dict[str, Any], template_id: str) -> Compute:
    """The VM's shape with the template it is restored from (usable by its owner and ready in
    its zone, of its hypervisor); a new template gives its own disk size, as 4.3 makes the new
    root volume from it."""
    template = catalog.template(call, template_id, row["zone_id"], row["account_id"])
    if template.is_iso and template.id != row["template_id"]:
        raise InvalidParameter(
            f"{template.name} is an ISO: a virtual machine is restored from a template, or "
            "from the ISO it was installed from"
        )
    if not template.is_iso and template.hypervisor.lower() != str(row["hypervisor"]).lower():
        raise InvalidParameter(
            f"Template {template.name} is for {template.hypervisor}, not for the "
            f"{row['hypervisor']} virtual machine {row['name']}"
        )
    current = compute_of(row)
    same = template.id == row["template_id"]
    size = current.root_disk_size if same or not template.disk_gb else template.disk_gb
    return replace(current, template_id=UUID(template.id), root_disk_size=size)


def assign(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """A stopped VM, its ROOT volume and its data disks go to the named account; the VM's
    records of usage close for the old account and open for the new one."""
    row = vm_row(call, args["virtualmachineid"])
    domain = domain_row(call, args["domainid"])
    account = account_row(call, args["account"], domain["id"])
    check_reach(
        call.caller,
        account_id=account["id"],
        domain_path=account["domain_path"],
        what="that account",
    )
    _check_movable(call, row)
    call.write(
        lambda store, _: cmd.assign_vm(
            store, UUID(row["id"]), UUID(account["id"]), UUID(domain["id"])
        ),
        None,
    )
    return vm_view(call, row["id"])


def _check_movable(call: Call, row: dict[str, Any]) -> None:
    """What of the old account the VM is tied to and that does not move with it yet: 431."""
    with call.read() as cursor:
        nics = cursor.execute(
            "SELECT count(*) AS n FROM vm_nics WHERE vm_id = %s AND removed = 0", (row["id"],)
        ).fetchone()["n"]
        grouped = cursor.execute(
            "SELECT count(*) AS n FROM affinity_group_members WHERE vm_id = %s", (row["id"],)
        ).fetchone()["n"]
    if nics:
        raise InvalidParameter(
            f"Virtual machine {row['name']} has NICs on its account's networks: {MOVING_NETWORKS}"
        )
    if grouped or row["group_id"]:
        raise InvalidParameter(
            f"Virtual machine {row['name']} is in a group of its account: remove it from its "
            "instance and affinity groups before assigning it to another account"
        )


def clean_vm_reservations(call: Call, args: dict[str, Any]) -> Submitted:
    """Every host holding room for a guest or system VM is looked at; the command decides on
    the aggregates which holds are stale."""
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT DISTINCT host_id FROM host_reservations WHERE reservation_id LIKE %s "
            "OR reservation_id LIKE %s",
            ("vm:%", "systemvm:%"),
        ).fetchall()
    hosts = [UUID(row["host_id"]) for row in rows]
    return run_async(
        call,
        instance_type="",
        instance_id=None,
        event_type="VM.RESERVATION.CLEANUP",
        description="Cleaning up VM reservations",
        work=lambda: (clean_reservations(call.store, hosts), {"success": True})[1],
    )


COMMANDS = (
    ApiCommand(
        "restoreVirtualMachine",
        restore,
        (Param("virtualmachineid", P.UUID, required=True), Param("templateid", P.UUID)),
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=f"{USER_PKG}.RestoreVMCmd",
        description="Restore a VM to original template/ISO or new template/ISO",
    ),
    ApiCommand(
        "assignVirtualMachine",
        assign,
        (
            Param("virtualmachineid", P.UUID, required=True),
            Param("account", P.STRING, required=True),
            Param("domainid", P.UUID, required=True),
            Param("networkids", P.LIST, element=P.UUID, unsupported=MOVING_NETWORKS),
            Param("securitygroupids", P.LIST, element=P.UUID, unsupported=MOVING_NETWORKS),
        ),
        role=Role.DOMAIN_ADMIN,
        item_key="virtualmachine",
        java_class=f"{ADMIN_PKG}.AssignVMCmd",
        description="Change ownership of a VM from one account to another.",
    ),
    ApiCommand(
        "cleanVMReservations",
        clean_vm_reservations,
        (),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.CleanVMReservationsCmd",
        description="Cleanups VM reservations in the database.",
    ),
)
