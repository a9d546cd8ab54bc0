"""Virtual machines: deploy, the lifecycle as async jobs, scaling, and listVirtualMachines.

Work on a hypervisor is a job with executor "hypervisor": the command records the request and
the adapter's result finishes the job. Errors found before the job exists (parameters, access)
answer at once; errors of the command itself (wrong state, no room) fail the job, as in
CloudStack, where they surface from the async job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from api.access import Role
from api.cloudstack import baremetal, catalog, jobs
from api.cloudstack import infrastructure as places
from api.cloudstack.affinity_groups import chosen_groups
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    OWNER_PARAMS,
    owner_of,
)
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.cloudstack.configuration import current_value
from api.cloudstack.deploy_disks import deploy_disks
from api.cloudstack.instance_groups import deploy_join, place_vm
from api.cloudstack.network_nics import guest_nic_requests, prepare_network_services
from api.cloudstack.placement import candidates, chosen_planner, guest, vm_guest
from api.cloudstack.security_groups import deploy_groups
from api.cloudstack.ssh_keys import named_key_pair
from api.cloudstack.storage_pools import pool_needs
from api.cloudstack.user_data import POST_BYTES, checked_user_data
from api.cloudstack.vm_listing import LIST_DETAILS, list_vms, vm_row, vm_view
from api.custom_ids import CUSTOM_ID, custom_id
from api.dispatch import ApiCommand, Call, Submitted
from api.display import root_only
from api.params import Param, ParamType
from commands import Outcome
from commands import vms as cmd
from commands.affinity_groups import in_affinity_groups
from commands.instance_groups import GroupRef, in_instance_group
from commands.placement import Candidate
from commands.security_groups import JoinGroups
from commands.volume_placement import PoolNeeds
from domain.compute import ROOT_DISK_SIZE, Compute, resolve_compute
from domain.errors import InvalidParameter, PermissionDenied
from domain.instance_group import check_name
from domain.storage import parse_tags
from domain.vm import KEYBOARDS, keyboard_refusal
from stratus.db import in_list

P = ParamType
USER_PKG = "org.apache.cloudstack.api.command.user.vm"
ADMIN_PKG = "org.apache.cloudstack.api.command.admin.vm"

# CloudStack's detail keys (UsageEventVO.DynamicParameters) → the domain's words.
DETAIL_KEYS = {
    "cpuNumber": "cpu_number",
    "cpuSpeed": "cpu_speed",
    "memory": "memory",
    "rootdisksize": "root_disk_size",
}
_HOSTNAME = re.compile(r"[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
HOSTNAME_RULES = (
    "Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' through "
    "'9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or "
    'end with "-" and can\'t start with digit'
)
LIST_DETAILS |= {"min", "affgrp"}


# ---- jobs ---------------------------------------------------------------------------------


def hypervisor_job(
    call: Call,
    vm_id: str,
    event_type: str,
    description: str,
    work: Callable[[UUID], Outcome],
    *,
    creates: bool = False,
    instance_type: str = "VirtualMachine",
) -> Submitted:
    """The VM's (or volume's) job, with `work`, the command that asks the hypervisor."""
    job_id = jobs.hypervisor_job(call, instance_type, UUID(vm_id), event_type, description, work)
    return Submitted(str(job_id), vm_id if creates else None)


# ---- deploy -------------------------------------------------------------------------------


def custom_values(details: list[dict[str, str]] | None) -> dict[str, str]:
    """All `details[i].key=value` groups merged into one map, in the domain's words."""
    merged: dict[str, str] = {}
    for group in details or ():
        merged.update(group)
    return {DETAIL_KEYS[key]: value for key, value in merged.items() if key in DETAIL_KEYS}


def _owner(call: Call, args: dict[str, Any]) -> tuple[str, str, str]:
    """(account id, domain id, domain path) of a new VM or volume (see `common.owner_of`)."""
    owner = owner_of(call, args)
    return owner.account_id, owner.domain_id, owner.domain_path


def _name(args: dict[str, Any], vm_id: UUID) -> str:
    name = args["name"] or f"VM-{vm_id}"
    if args["name"] and not _HOSTNAME.fullmatch(name):
        raise InvalidParameter(HOSTNAME_RULES)
    return name


def deploy(call: Call, args: dict[str, Any]) -> Submitted:
    zone = places._row(call, "zones", args["zoneid"], "zone")
    account_id, domain_id, domain_path = _owner(call, args)
    offering = catalog.offering(call, args["serviceofferingid"], domain_path)
    template = catalog.template(call, args["templateid"], zone["id"], account_id)
    vm_id = custom_id(call, args["customid"]) or uuid4()
    keyboard, hidden = _console(call, args)
    instance_name = f"i-{vm_id.hex[:12]}-{current_value(call, 'instance.name')}"
    disks = deploy_disks(call, args, template, offering, (zone["id"], domain_path, instance_name))
    values = custom_values(args["details"])
    if args["rootdisksize"] is not None:  # `details[0].rootdisksize` wins, as in 4.3
        values.setdefault(ROOT_DISK_SIZE, str(args["rootdisksize"]))
    compute = resolve_compute(
        offering.shape,
        values,
        template_id=UUID(template.id),
        hypervisor=disks.hypervisor,
        template_disk_gb=disks.root_gb,
    )
    if args["hostid"] and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("Parameter hostid can only be specified by a Root Admin")
    name = _name(args, vm_id)
    networks = guest_nic_requests(call, args, zone["id"], account_id)
    groups = deploy_groups(call, args, zone, (account_id, domain_id))
    affinity = chosen_groups(call, args, account_id)
    with call.read() as cursor:
        placed = chosen_planner(call, args, guest(cursor, account_id, affinity))
    instance_group = deploy_join(args, vm_id, (account_id, domain_id))
    prepare_network_services(call, networks, compute.hypervisor, f"deploy VM {name}")
    command = cmd.DeployVirtualMachine(
        vm_id,
        name,
        args["displayname"] or name,
        instance_name,
        UUID(account_id),
        UUID(domain_id),
        UUID(zone["id"]),
        template.guest_os_id,
        compute,
        candidates=candidates(call, zone["id"], compute, args["hostid"], for_guest=placed),
        start=args["startvm"],
        networks=networks,
        groups=JoinGroups(vm_id, name, UUID(zone["id"]), UUID(account_id), UUID(domain_id), groups),
        key_pair=_key_pair(call, args["keypair"], account_id),
        password_enabled=template.password_enabled,
        in_affinity_groups=bool(affinity),
        user_data=_user_data(call, args),
        root_pool=disks.root_pool,
        data_disk=disks.data_disk,
        iso_id=disks.iso_id,
        root_offering_id=disks.root_offering_id,
        root_qos=disks.root_qos,
        baremetal=(
            baremetal.deploy_plan(call, zone["id"], template.id, template.url)
            if template.hypervisor == "BareMetal"
            else None
        ),
        keyboard=keyboard,
        hidden=hidden,
    )
    return hypervisor_job(
        call,
        str(vm_id),
        "VM.CREATE",
        f"Deploying VM {name}",
        lambda job_id: in_affinity_groups(
            call.store,
            vm_id,
            affinity,
            lambda: in_instance_group(
                call.store,
                instance_group,
                lambda group: cmd.deploy_vm(call.store, _with_job(command, job_id, group)),
            ),
        ),
        creates=True,
    )


def _console(call: Call, args: dict[str, Any]) -> tuple[str, bool]:
    """The new VM's console keyboard layout and whether it is kept from end users' lists
    (`displayvm=false`, which only a root administrator may say; `true`, every VM's default,
    asks for nothing and passes from anyone, so an autoscale profile may carry it)."""
    keyboard = args["keyboard"] or ""
    if keyboard and keyboard not in KEYBOARDS:
        raise InvalidParameter(keyboard_refusal(keyboard))
    hidden = args["displayvm"] is False
    if hidden:
        root_only(call, "displayvm")
    return keyboard, hidden


def _user_data(call: Call, args: dict[str, Any]) -> str:
    return checked_user_data(args["userdata"], call.http_method) if args["userdata"] else ""


def _key_pair(call: Call, name: str | None, account_id: str) -> tuple[str, str] | None:
    """The (name, public key) of the owner's key pair a deploy names, if it names one."""
    if not name:
        return None
    row = named_key_pair(call, account_id, name)
    return row["name"], row["public_key"]


def _with_job(
    command: cmd.DeployVirtualMachine, job_id: UUID, group: GroupRef | None = None
) -> cmd.DeployVirtualMachine:
    return replace(command, job_id=job_id, group=group)


# ---- lifecycle ----------------------------------------------------------------------------


def start(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    _owner_enabled(call, row)
    if args["hostid"] and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("Parameter hostid can only be specified by a Root Admin")
    shape = compute_of(row)
    with call.read() as cursor:
        placed = chosen_planner(call, args, vm_guest(cursor, row["id"], row["account_id"]))
    hosts = candidates(
        call, row["zone_id"], shape, args["hostid"], prefer=row["last_host_id"], for_guest=placed
    )
    hosts = _reaching_pools(call, row["id"], hosts)
    return hypervisor_job(
        call,
        row["id"],
        "VM.START",
        f"Starting VM {row['name']}",
        lambda job_id: cmd.start_vm(
            call.store,
            cmd.StartVirtualMachine(UUID(row["id"]), hosts, job_id, _disk_needs(call, row)),
        ),
    )


def _owner_enabled(call: Call, row: dict[str, Any]) -> None:
    """A VM of a disabled account (a suspended project's) does not start, as in 4.3."""
    with call.read() as cursor:
        owner = cursor.execute(
            "SELECT state FROM accounts WHERE id = %s", (row["account_id"],)
        ).fetchone()
    if owner is not None and owner["state"] == "disabled":
        raise PermissionDenied(f"The owner of VM {row['name']} is disabled")


def _reaching_pools(call: Call, vm_id: str, hosts: list[Candidate]) -> list[Candidate]:
    """Only the hosts of the cluster whose pools hold the VM's disks (a zone-wide pool is
    reached from its zone's hosts, which every candidate is), as 4.3 starts a VM only where
    its volumes' storage is."""
    with call.read() as cursor:
        clusters = {
            r["cluster_id"]
            for r in cursor.execute(
                "SELECT DISTINCT p.cluster_id FROM volumes AS v "
                "JOIN storage_pools AS p ON p.id = v.storage_id "
                "WHERE v.vm_id = %s AND v.removed = 0 AND p.cluster_id IS NOT NULL",
                (vm_id,),
            ).fetchall()
        }
        if not clusters or not hosts:
            return hosts
        among, params = in_list(cursor, "id", [str(h.host_id) for h in hosts])
        found = cursor.execute(f"SELECT id, cluster_id FROM hosts WHERE {among}", params).fetchall()
    allowed = {r["id"] for r in found if r["cluster_id"] in clusters and len(clusters) == 1}
    return [h for h in hosts if str(h.host_id) in allowed]


def _disk_needs(call: Call, row: dict[str, Any]) -> dict[UUID, PoolNeeds]:
    """What each of the VM's disks not yet on a pool needs of one: its offering's storage tags
    (the compute offering's for the ROOT disk)."""
    with call.read() as cursor:
        disks = cursor.execute(
            "SELECT v.id, COALESCE(d.tags, s.tags, '') AS tags FROM volumes AS v "
            "LEFT JOIN disk_offerings AS d ON d.id = v.disk_offering_id "
            "LEFT JOIN service_offerings AS s ON s.id = v.disk_offering_id "
            "WHERE v.vm_id = %s AND v.removed = 0 AND v.storage_id IS NULL",
            (row["id"],),
        ).fetchall()
    return {
        UUID(disk["id"]): pool_needs(call, row["zone_id"], parse_tags(disk["tags"]))
        for disk in disks
    }


def compute_of(row: dict[str, Any]) -> Compute:
    return Compute(
        UUID(row["service_offering_id"]),
        int(row["cpu_number"]),
        int(row["cpu_speed"]),
        int(row["memory"]),
        bool(row["custom"]),
        UUID(row["template_id"]),
        row["hypervisor"],
        int(row["root_disk_size"]),
    )


def stop(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    forced = bool(args["forced"])
    return hypervisor_job(
        call,
        row["id"],
        "VM.STOP",
        f"Stopping VM {row['name']}",
        lambda job_id: cmd.stop_vm(call.store, UUID(row["id"]), job_id, forced=forced),
    )


def reboot(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    return hypervisor_job(
        call,
        row["id"],
        "VM.REBOOT",
        f"Rebooting VM {row['name']}",
        lambda job_id: cmd.reboot_vm(call.store, UUID(row["id"]), job_id),
    )


def destroy(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    expunge = bool(args["expunge"])
    if expunge and call.caller.role == Role.USER:
        raise PermissionDenied("Parameter expunge can be passed by Admin only")
    return hypervisor_job(
        call,
        row["id"],
        "VM.DESTROY",
        f"Destroying VM {row['name']}",
        lambda job_id: cmd.destroy_vm(call.store, UUID(row["id"]), job_id, expunge=expunge),
    )


def expunge(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    return hypervisor_job(
        call,
        row["id"],
        "VM.EXPUNGE",
        f"Expunging VM {row['name']}",
        lambda job_id: cmd.expunge_vm(call.store, UUID(row["id"]), job_id),
    )


def recover(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = vm_row(call, args["id"])
    call.write(lambda store, _: cmd.recover_vm(store, UUID(row["id"])), None)
    return vm_view(call, row["id"])


def update(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = vm_row(call, args["id"])
    if args["group"]:
        check_name(args["group"])  # refused before anything changes
    changes = _updates(call, row, args)
    call.write(cmd.update_vm, cmd.UpdateVirtualMachine(UUID(row["id"]), changes))
    if args["group"] is not None:
        place_vm(call, row["id"], args["group"])
    return vm_view(call, row["id"])


def _updates(call: Call, row: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """updateVirtualMachine's parameters as the domain's changes, each checked first."""
    changes: dict[str, Any] = {}
    if args["displayname"] is not None:
        changes["display_name"] = args["displayname"]
    if args["haenable"] is not None:
        changes["ha_enabled"] = bool(args["haenable"])
    if args["ostypeid"]:
        changes["guest_os_id"] = args["ostypeid"]
    if args["isdynamicallyscalable"] is not None:
        changes["dynamically_scalable"] = bool(args["isdynamicallyscalable"])
    if args["displayvm"] is not None:
        root_only(call, "displayvm")
        changes["display"] = bool(args["displayvm"])
    if args["userdata"] is not None:
        changes["user_data"] = checked_user_data(args["userdata"], call.http_method)
    if args["name"] and args["name"].lower() != row["name"].lower():
        changes["name"] = _host_name(call, row, args["name"])
    return changes


def _host_name(call: Call, row: dict[str, Any], name: str) -> str:
    """A new host name: RFC 1123 and unique among the VMs of the networks this VM is on."""
    if not _HOSTNAME.fullmatch(name):
        raise InvalidParameter(HOSTNAME_RULES)
    with call.read() as cursor:
        taken = cursor.execute(
            "SELECT n.name FROM vm_nics AS mine JOIN vm_nics AS theirs "
            "ON theirs.network_id = mine.network_id AND theirs.vm_id <> mine.vm_id "
            "AND theirs.removed = 0 "
            "JOIN virtual_machines AS v ON v.id = theirs.vm_id AND v.removed = 0 "
            "JOIN networks AS n ON n.id = mine.network_id "
            "WHERE mine.vm_id = %s AND mine.removed = 0 AND lower(v.name) = lower(%s)",
            (row["id"], name),
        ).fetchone()
    if taken is not None:
        raise InvalidParameter(
            f"The vm with hostName {name} already exists in the network {taken['name']}"
        )
    return name


def _new_compute(call: Call, row: dict[str, Any], args: dict[str, Any]) -> Compute:
    offering = catalog.offering(call, args["serviceofferingid"], row["domain_path"])
    return resolve_compute(
        offering.shape,
        custom_values(args["details"]),
        template_id=UUID(row["template_id"]),
        hypervisor=row["hypervisor"],
        template_disk_gb=int(row["root_disk_size"]),
    )


def scale(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    running = row["state"] == "Running"
    if running and current_value(call, DYNAMIC_SCALING, "zone", row["zone_id"]) != "true":
        raise PermissionDenied(
            "Dynamically scaling virtual machines is disabled for this zone, please contact "
            "your admin"
        )
    compute = _new_compute(call, row, args)
    return hypervisor_job(
        call,
        row["id"],
        "VM.UPGRADE",
        f"Scaling VM {row['name']}",
        lambda job_id: cmd.scale_vm(call.store, UUID(row["id"]), compute, job_id),
    )


def change_service(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = vm_row(call, args["id"])
    compute = _new_compute(call, row, args)
    call.write(lambda store, _: cmd.change_service(store, UUID(row["id"]), compute), None)
    return vm_view(call, row["id"])


# ---- the table ----------------------------------------------------------------------------

DYNAMIC_SCALING = "enable.dynamic.scale.vm"

ID = (Param("id", P.UUID, required=True),)
DETAILS = Param("details", P.MAP)


def _async(
    name: str, handler: Any, params: tuple, java: str, text: str, role: Role = Role.USER
) -> ApiCommand:
    return ApiCommand(
        name,
        handler,
        params,
        role=role,
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=java,
        description=text,
    )


# The new VM's given id (`customid` of a deploy; an update renames the VM instead).
GIVEN_ID = Param("customid", P.STRING)
# deployVirtualMachine's parameters beyond the template, offering and zone it deploys.
DEPLOY_MORE = (
    GIVEN_ID,
    Param("deploymentplanner", P.STRING),
    Param("displayvm", P.BOOLEAN),
    Param("keyboard", P.STRING),
    OWNER_PROJECT_ID,
    Param("userdata", P.STRING, max_length=POST_BYTES),
)

COMMANDS = (
    _async(
        "deployVirtualMachine",
        deploy,
        (
            Param("zoneid", P.UUID, required=True),
            Param("serviceofferingid", P.UUID, required=True),
            Param("templateid", P.UUID, required=True),
            Param("name", P.STRING),
            Param("displayname", P.STRING),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("hostid", P.UUID),
            Param("startvm", P.BOOLEAN, default=True),
            Param("group", P.STRING),
            Param("hypervisor", P.STRING),
            DETAILS,
            Param("networkids", P.LIST, element=P.UUID),
            Param("ipaddress", P.STRING),
            Param("ip6address", P.STRING),
            Param("rootdisksize", P.LONG),
            Param("iptonetworklist", P.MAP),
            Param("securitygroupids", P.LIST, element=P.UUID),
            Param("securitygroupnames", P.LIST, element=P.STRING),
            Param("keypair", P.STRING),
            Param("affinitygroupids", P.LIST, element=P.UUID),
            Param("affinitygroupnames", P.LIST, element=P.STRING),
            Param("diskofferingid", P.UUID),
            Param("size", P.LONG),
            *DEPLOY_MORE,
        ),
        f"{USER_PKG}.DeployVMCmd",
        "Creates and automatically starts a virtual machine",
    ),
    _async(
        "startVirtualMachine",
        start,
        (*ID, Param("hostid", P.UUID), Param("deploymentplanner", P.STRING)),
        f"{USER_PKG}.StartVMCmd",
        "Starts a virtual machine",
    ),
    _async(
        "stopVirtualMachine",
        stop,
        (*ID, Param("forced", P.BOOLEAN)),
        f"{USER_PKG}.StopVMCmd",
        "Stops a virtual machine",
    ),
    _async(
        "rebootVirtualMachine",
        reboot,
        ID,
        f"{USER_PKG}.RebootVMCmd",
        "Reboots a virtual machine",
    ),
    _async(
        "destroyVirtualMachine",
        destroy,
        (*ID, Param("expunge", P.BOOLEAN)),
        f"{USER_PKG}.DestroyVMCmd",
        "Destroys a virtual machine",
    ),
    _async(
        "expungeVirtualMachine",
        expunge,
        ID,
        f"{ADMIN_PKG}.ExpungeVMCmd",
        "Expunges a virtual machine",
        role=Role.ROOT_ADMIN,
    ),
    _async(
        "scaleVirtualMachine",
        scale,
        (*ID, Param("serviceofferingid", P.UUID, required=True), DETAILS),
        f"{USER_PKG}.ScaleVMCmd",
        "Scales the virtual machine to a new service offering",
    ),
    ApiCommand(
        "recoverVirtualMachine",
        recover,
        ID,
        role=Role.DOMAIN_ADMIN,
        item_key="virtualmachine",
        java_class=f"{USER_PKG}.RecoverVMCmd",
        description="Recovers a virtual machine",
    ),
    ApiCommand(
        "updateVirtualMachine",
        update,
        (
            *ID,
            Param("displayname", P.STRING),
            Param("group", P.STRING),
            Param("haenable", P.BOOLEAN),
            Param("ostypeid", P.UUID),
            CUSTOM_ID,
            Param("displayvm", P.BOOLEAN),
            Param("isdynamicallyscalable", P.BOOLEAN),
            Param("name", P.STRING),
            Param("userdata", P.STRING, max_length=POST_BYTES),
        ),
        item_key="virtualmachine",
        java_class=f"{USER_PKG}.UpdateVMCmd",
        description="Updates properties of a virtual machine",
    ),
    ApiCommand(
        "changeServiceForVirtualMachine",
        change_service,
        (*ID, Param("serviceofferingid", P.UUID, required=True), DETAILS),
        item_key="virtualmachine",
        java_class=f"{USER_PKG}.UpgradeVMCmd",
        description="Changes the service offering of a stopped virtual machine",
    ),
    ApiCommand(
        "listVirtualMachines",
        list_vms,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("state", P.STRING),
            Param("zoneid", P.UUID),
            Param("hostid", P.UUID),
            Param("details", P.LIST, element=P.STRING),
            Param("ids", P.LIST, element=P.UUID),
            Param("templateid", P.UUID),
            Param("serviceofferingid", P.UUID),
            Param("hypervisor", P.STRING),
            Param("networkid", P.UUID),
            Param("podid", P.UUID),
            Param("affinitygroupid", P.UUID),
            Param("displayvm", P.BOOLEAN),
            Param("forvirtualnetwork", P.BOOLEAN),
            Param("groupid", P.UUID),
            Param("isoid", P.UUID),
            Param("storageid", P.UUID),
            Param("vpcid", P.UUID),
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="virtualmachine",
        java_class=f"{USER_PKG}.ListVMsCmd",
        description="Lists virtual machines",
    ),
)
