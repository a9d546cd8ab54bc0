"""VM commands beyond the lifecycle: restoreVirtualMachine (the root disk made anew from the VM's
template or another one), assignVirtualMachine (a stopped VM and its volumes handed to another
account) and cleanVMReservations (room held on hosts for machines that no longer hold it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from api.access import Role, check_reach
from api.cloudstack import catalog
from api.cloudstack import infrastructure as places
from api.cloudstack.common import account_row, domain_row
from api.cloudstack.jobs import run_async
from api.cloudstack.network_nics import nic_request, prepare_network_services
from api.cloudstack.networks import default_network, network_row
from api.cloudstack.security_groups import assigned_groups
from api.cloudstack.vm_listing import vm_row, vm_view
from api.cloudstack.vms import USER_PKG, compute_of, hypervisor_job
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param
from api.params import ParamType as P
from commands import vms as cmd
from commands.networks import NicRequest
from commands.reservation_cleanup import clean_reservations
from domain.compute import Compute
from domain.errors import InvalidParameter, PermissionDenied

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
    """A stopped VM, its ROOT volume and its data disks go to the named account, its NICs to
    that account's networks and its security groups to that account's; the VM's records of
    usage close for the old account and open for the new one."""
    row = vm_row(call, args["virtualmachineid"])
    domain = domain_row(call, args["domainid"])
    account = account_row(call, args["account"], domain["id"])
    check_reach(
        call.caller,
        account_id=account["id"],
        domain_path=account["domain_path"],
        what="that account",
    )
    _check_ungrouped(call, row)
    zone = places._row(call, "zones", row["zone_id"], "zone")
    with_groups = zone["network_type"] == "Basic"  # security groups are a basic zone's here
    groups = assigned_groups(call, args, with_groups, account)
    networks = _assigned_networks(call, args, row, with_groups, account)
    if networks:
        what = f"assign VM {row['name']}"
        prepare_network_services(call, networks, row["hypervisor"], what)
    command = cmd.AssignVirtualMachine(
        UUID(row["id"]), UUID(account["id"]), UUID(domain["id"]), networks, groups
    )
    call.write(lambda store, _: cmd.assign_vm(store, command), None)
    return vm_view(call, row["id"])


def _assigned_networks(
    call: Call, args: dict[str, Any], row: dict[str, Any], with_groups: bool, account: Any
) -> list[NicRequest] | None:
    """The networks of the new owner the VM's NICs move to, as 4.3 chooses them in a zone
    without security groups: those named, else the owner's one isolated network in the zone,
    made for it when it has none. None: the NICs stay (a zone with security groups keeps the
    VM on its shared network), or a VM without NICs is given none."""
    named = list(dict.fromkeys(args["networkids"] or ()))
    if with_groups:
        if named:
            raise InvalidParameter("Can't move vm with network Ids; this is a basic zone VM")
        return None
    if not named:
        if not _has_nics(call, row["id"]):
            return None
        named = [_default_network(call, row["zone_id"], account)]
    rows = [network_row(call, network_id, "networkids") for network_id in named]
    for network in rows:
        if network["zone_id"] != row["zone_id"]:
            raise InvalidParameter(f"Network {network['name']} is not in the zone of the VM")
        if network["guest_type"] == "Isolated" and network["account_id"] != account["id"]:
            raise PermissionDenied(
                f"Network {network['name']} does not belong to account {account['name']}"
            )
    return [nic_request(call, network, None) for network in rows]


def _has_nics(call: Call, vm_id: str) -> bool:
    with call.read() as cursor:
        return bool(
            cursor.execute(
                "SELECT count(*) AS n FROM vm_nics WHERE vm_id = %s AND removed = 0", (vm_id,)
            ).fetchone()["n"]
        )


def _default_network(call: Call, zone_id: str, account: Any) -> str:
    """The new owner's only isolated network in the zone, made when it has none (4.3)."""
    with call.read() as cursor:
        found = cursor.execute(
            "SELECT id FROM networks WHERE zone_id = %s AND account_id = %s AND "
            "guest_type = 'Isolated' AND removed = 0 ORDER BY seq LIMIT 2",
            (zone_id, account["id"]),
        ).fetchall()
    if len(found) > 1:
        raise InvalidParameter(
            f"More than 1 default Isolated networks are found for account {account['name']}; "
            "please specify networkIds"
        )
    return found[0]["id"] if found else default_network(call, zone_id, account)


def _check_ungrouped(call: Call, row: dict[str, Any]) -> None:
    """Instance and affinity groups are their account's and do not move with a VM: 431."""
    with call.read() as cursor:
        grouped = cursor.execute(
            "SELECT count(*) AS n FROM affinity_group_members WHERE vm_id = %s", (row["id"],)
        ).fetchone()["n"]
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
            Param("networkids", P.LIST, element=P.UUID),
            Param("securitygroupids", P.LIST, element=P.UUID),
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
