"""System VMs: what routers share with the secondary storage VM and the console proxy of each
zone (one `SystemVm` aggregate, told apart by role), and the system VM commands: listSystemVms,
start/stop/reboot/destroySystemVm, scaleSystemVm and changeServiceForSystemVm, and
createSystemVm (a Stratus extension: a zone's system VMs are made by an administrator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid5

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.common import limit_sql, names_of
from api.cloudstack.jobs import hypervisor_job
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from commands import Outcome
from commands import system_vms as lifecycle
from commands.placement import Candidate
from domain.compute import Compute, OfferingShape, resolve_compute
from domain.errors import InvalidParameter
from domain.system_vm import OFFERING_TYPE, SYSTEM_VM_ROLES
from domain.system_vm import Role as VmRole
from stratus.db import contains

P = ParamType
ADMIN_PKG = "org.apache.cloudstack.api.command.admin.systemvm"
EVENT_PREFIX = {
    VmRole.ROUTER: "ROUTER",
    VmRole.INTERNAL_LB: "INTERNALLBVM",
    VmRole.STORAGE: "SSVM",
    VmRole.CONSOLE: "PROXY",
}
# The kinds of appliance each family of commands acts on (None: the zone's system VMs).
_FAMILIES = (VmRole.ROUTER, VmRole.INTERNAL_LB)
_JOB_KINDS = {VmRole.ROUTER: "DomainRouter", VmRole.INTERNAL_LB: "InternalLbVm"}
# An appliance of a VPC answers the VPC's network domain (`vpc_network_domain`).
SELECT = (
    "SELECT r.*, a.name AS account_name, a.domain_name AS domain_name, "
    "a.domain_path AS domain_path, vpc.network_domain AS vpc_network_domain "
    "FROM system_vms AS r JOIN accounts AS a ON a.id = r.account_id "
    "LEFT JOIN vpcs AS vpc ON vpc.id = r.vpc_id"
)


def appliance_row(
    call: Call, vm_id: str, role: str | None = None, *, any_role: bool = False
) -> dict[str, Any]:
    """A router or an internal load balancer VM (`role`; with `role` None, any system VM;
    with `any_role`, any of them) that exists; 431 otherwise."""
    with call.read() as cursor:
        row = cursor.execute(SELECT + " WHERE r.id = %s AND r.removed = 0", (vm_id,)).fetchone()
    if row is None:
        raise not_found("id", vm_id)
    family = role if role in _FAMILIES else None
    if not any_role and family != (row["role"] if row["role"] in _FAMILIES else None):
        raise not_found("id", vm_id)
    return dict(row)


def appliance_job(
    call: Call,
    row: dict[str, Any],
    event_type: str,
    text: str,
    work: Callable[[UUID], Outcome],
    *,
    creates: bool = False,
) -> Submitted:
    """The appliance's job, with `work`, the command that asks the hypervisor."""
    kind = _JOB_KINDS.get(row["role"], "SystemVm")
    job_id = hypervisor_job(call, kind, UUID(row["id"]), event_type, text, work)
    return Submitted(str(job_id), row["id"] if creates else None)


def appliance_candidates(call: Call, row: dict[str, Any]) -> list[Candidate]:
    from api.cloudstack.vms import candidates

    shape = compute_of(row)
    return candidates(call, row["zone_id"], shape, None, prefer=row["last_host_id"])


def compute_of(row: dict[str, Any], **changes: Any) -> Compute:
    values = {
        "offering_id": UUID(row["service_offering_id"]),
        "cpu_number": int(row["cpu_number"]),
        "cpu_speed": int(row["cpu_speed"]),
        "memory": int(row["memory"]),
        "custom": False,
        "template_id": UUID(row["template_id"]),
        "hypervisor": row["hypervisor"],
        "root_disk_size": 0,
    }
    values.update(changes)
    return Compute.from_facts(values)


def lifecycle_commands(
    role: str | None,
    pkg: str,
    noun: str,
    render: Callable[[Call, str], dict[str, Any]],
    role_extension: str = "",
    actions: tuple[str, ...] = ("start", "stop", "reboot", "destroy"),
    java_noun: str = "",
) -> tuple[ApiCommand, ...]:
    """start/stop/reboot/destroy<noun> (those of `actions`): the same jobs for routers,
    internal load balancer VMs and system VMs, answering the appliance (`render`) under its
    lower-cased noun; `java_noun` names 4.3's command classes where it differs."""

    def start(call: Call, args: dict[str, Any]) -> Submitted:
        row = appliance_row(call, args["id"], role)
        hosts = appliance_candidates(call, row)
        return appliance_job(
            call,
            row,
            f"{EVENT_PREFIX[row['role']]}.START",
            f"Starting {row['name']}",
            lambda job_id: lifecycle.start_system_vm(call.store, UUID(row["id"]), hosts, job_id),
        )

    def stop(call: Call, args: dict[str, Any]) -> Submitted:
        row = appliance_row(call, args["id"], role)
        forced = bool(args["forced"])
        return appliance_job(
            call,
            row,
            f"{EVENT_PREFIX[row['role']]}.STOP",
            f"Stopping {row['name']}",
            lambda job_id: lifecycle.stop_system_vm(
                call.store, UUID(row["id"]), job_id, forced=forced
            ),
        )

    def reboot(call: Call, args: dict[str, Any]) -> Submitted:
        row = appliance_row(call, args["id"], role)
        return appliance_job(
            call,
            row,
            f"{EVENT_PREFIX[row['role']]}.REBOOT",
            f"Rebooting {row['name']}",
            lambda job_id: lifecycle.reboot_system_vm(call.store, UUID(row["id"]), job_id),
        )

    def destroy(call: Call, args: dict[str, Any]) -> Submitted:
        row = appliance_row(call, args["id"], role)
        return appliance_job(
            call,
            row,
            f"{EVENT_PREFIX[row['role']]}.DESTROY",
            f"Destroying {row['name']}",
            lambda job_id: lifecycle.destroy_system_vm(call.store, UUID(row["id"]), job_id),
        )

    forced = (Param("forced", P.BOOLEAN),)
    return tuple(
        ApiCommand(
            f"{action}{noun}",
            handler,
            (Param("id", P.UUID, required=True), *extra),
            role=Role.ROOT_ADMIN,
            role_extension=role_extension,
            shape="async",
            is_async=True,
            item_key=noun.lower(),
            render=render,
            java_class=f"{pkg}.{action.capitalize()}{java_noun or noun}Cmd",
            description=f"{action.capitalize()}s a {noun.lower()}",
        )
        for action, handler, extra in (
            ("start", start, ()),
            ("stop", stop, forced),
            ("reboot", reboot, ()),
            ("destroy", destroy, ()),
        )
        if action in actions
    )


def system_offering(call: Call, offering_id: str, role: str) -> OfferingShape:
    """A system offering for this kind of appliance (431 for any other offering)."""
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM service_offerings WHERE id = %s AND removed = 0", (offering_id,)
        ).fetchone()
    if row is None:
        raise not_found("serviceofferingid", offering_id)
    wanted = OFFERING_TYPE[role]
    if not row["is_system"] or row["system_vm_type"] != wanted:
        raise InvalidParameter(
            f"Invalid service offering {offering_id}: a {role} needs a system offering of type "
            f"{wanted}"
        )
    numbers = [
        None if row[k] is None else int(row[k]) for k in ("cpu_number", "cpu_speed", "memory")
    ]
    return OfferingShape(UUID(row["id"]), *numbers)


def new_compute(call: Call, row: dict[str, Any], args: dict[str, Any], role: str) -> Compute:
    """The appliance's shape on another system offering (custom values from `details`)."""
    from api.cloudstack.vms import custom_values

    return resolve_compute(
        system_offering(call, args["serviceofferingid"], role),
        custom_values(args.get("details")),
        template_id=UUID(row["template_id"]),
        hypervisor=row["hypervisor"],
        template_disk_gb=0,
    )


# ---- system VMs ---------------------------------------------------------------------------

_SYSTEM_FILTERS = (
    ("id", "r.id = %s"),
    ("systemvmtype", "r.role = %s"),
    ("zoneid", "r.zone_id = %s"),
    ("podid", "r.pod_id = %s"),
    ("hostid", "r.host_id = %s"),
    ("state", "r.state = %s"),
    ("storageid", "r.root_pool_id = %s"),  # where its root disk lives (recorded at start)
)


def render_system_vms(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = names_of(
        call,
        {
            "zones": {r["zone_id"] for r in rows},
            "hosts": {r["host_id"] for r in rows if r["host_id"]},
        },
    )
    zones, hosts = names["zones"], names["hosts"]
    items = []
    for row in rows:
        body: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "systemvmtype": row["role"],
            "zoneid": row["zone_id"],
            "zonename": zones.get(row["zone_id"], ""),
            "podid": row["pod_id"],
            "state": row["state"],
            "templateid": row["template_id"],
            "serviceofferingid": row["service_offering_id"],
            "hypervisor": row["hypervisor"],
            "created": format_stored_date(row["created"]),
            "activeviewersessions": 0,
            "cpunumber": int(row["cpu_number"]),
            "cpuspeed": int(row["cpu_speed"]),
            "memory": int(row["memory"]),
        }
        if row["host_id"]:
            body["hostid"], body["hostname"] = row["host_id"], hosts.get(row["host_id"], "")
        if row["pending_job_id"]:
            body["jobid"], body["jobstatus"] = row["pending_job_id"], 0
        items.append(body)
    return items


def system_vm_view(call: Call, vm_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(SELECT + " WHERE r.id = %s", (vm_id,)).fetchone()
    if row is None:
        raise not_found("id", vm_id)
    return render_system_vms(call, [dict(row)])[0]


def list_system_vms(call: Call, args: dict[str, Any]) -> Listing:
    marks = ", ".join(["%s"] * len(SYSTEM_VM_ROLES))
    where, params = [f"r.role IN ({marks})", "r.removed = 0"], list(SYSTEM_VM_ROLES)
    for key, clause in _SYSTEM_FILTERS:
        if args.get(key):
            where.append(clause)
            params.append(args[key])
    for key in ("name", "keyword"):
        if args.get(key):
            clause, values = contains(("r.name",), args[key])
            where.append(clause)
            params += values
    sql = " FROM system_vms AS r WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        ids = cursor.execute(
            "SELECT r.id" + sql + " ORDER BY r.seq" + limit_sql(args["paging"]), params
        ).fetchall()
    rows = [appliance_row(call, r["id"]) for r in ids]
    return Listing(render_system_vms(call, rows), int(count))


def change_service(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """changeServiceForSystemVm: a stopped system VM takes another system offering."""
    row = appliance_row(call, args["id"])
    compute = new_compute(call, row, args, row["role"])
    call.write(lambda store, _: lifecycle.change_compute(store, UUID(row["id"]), compute), None)
    return system_vm_view(call, row["id"])


def scale(call: Call, args: dict[str, Any]) -> Submitted:
    """scaleSystemVm: a stopped system VM takes the offering at once; a running one is resized
    live by its host's adapter where the hypervisor allows it (XenServer, VMware, Simulator).
    As in 4.3 it takes any appliance's id, a router's too."""
    row = appliance_row(call, args["id"], any_role=True)
    compute = new_compute(call, row, args, row["role"])
    return appliance_job(
        call,
        row,
        f"{EVENT_PREFIX[row['role']]}.SCALE",
        f"Scaling {row['name']}",
        lambda job_id: lifecycle.scale_system_vm(call.store, UUID(row["id"]), compute, job_id),
    )


_NAMESPACE = UUID("c0b9e6a4-3f2d-4d71-8a5e-6b1f0e9c2d47")


def create_system_vm(call: Call, args: dict[str, Any]) -> Submitted:
    """createSystemVm (Stratus, root admin): the zone's secondary storage VM or console proxy,
    on the zone's router template, owned by the caller's (system) account. One per zone and
    role: its id derives from them, so asking twice makes one."""
    from api.cloudstack.routers import router_template
    from api.cloudstack.vms import candidates

    role = args["systemvmtype"]
    if role not in SYSTEM_VM_ROLES:
        raise InvalidParameter(f"systemvmtype must be one of {', '.join(SYSTEM_VM_ROLES)}")
    zone = places._row(call, "zones", args["zoneid"], "zone")
    template_id, _name = router_template(call, zone["id"], args["hypervisor"])
    offering = _default_offering(call, role)
    compute = Compute(
        offering.offering_id,
        offering.cpu_number or 1,
        offering.cpu_speed or 500,
        offering.memory or 512,
        False,
        UUID(template_id),
        args["hypervisor"],
        0,
    )
    vm_id = uuid5(_NAMESPACE, f"{zone['id']}:{role}")
    prefix = "s" if role == VmRole.STORAGE else "v"
    command = lifecycle.CreateSystemVm(
        vm_id,
        role,
        f"{prefix}-{vm_id.hex[:12]}-VM",
        UUID(zone["id"]),
        UUID(call.caller.account_id),
        UUID(call.caller.domain_id),
        compute,
        candidates(call, zone["id"], compute, None),
    )
    row = {"id": str(vm_id), "role": role}
    return appliance_job(
        call,
        row,
        f"{EVENT_PREFIX[role]}.CREATE",
        f"Creating {command.instance_name}",
        lambda job_id: lifecycle.create_system_vm(call.store, _with_job(command, job_id)),
        creates=True,
    )


def _with_job(command: lifecycle.CreateSystemVm, job_id: UUID) -> lifecycle.CreateSystemVm:
    from dataclasses import replace

    return replace(command, job_id=job_id)


def _default_offering(call: Call, role: str) -> OfferingShape:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM service_offerings WHERE removed = 0 AND is_system = 1 "
            "AND system_vm_type = %s ORDER BY created LIMIT 1",
            (OFFERING_TYPE[role],),
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"No system offering of type {OFFERING_TYPE[role]} exists")
    return system_offering(call, row["id"], role)


ID = Param("id", P.UUID, required=True)
OFFERING = (Param("serviceofferingid", P.UUID, required=True), Param("details", P.MAP))

COMMANDS = (
    ApiCommand(
        "listSystemVms",
        list_system_vms,
        (
            Param("id", P.UUID),
            Param("systemvmtype", P.STRING),
            Param("zoneid", P.UUID),
            Param("podid", P.UUID),
            Param("hostid", P.UUID),
            Param("state", P.STRING),
            Param("name", P.STRING),
            Param("storageid", P.UUID),
        ),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key="systemvm",
        java_class=f"{ADMIN_PKG}.ListSystemVMsCmd",
        description="Lists system VMs",
    ),
    *lifecycle_commands(None, ADMIN_PKG, "SystemVm", system_vm_view),
    ApiCommand(
        "changeServiceForSystemVm",
        change_service,
        (ID, *OFFERING),
        role=Role.ROOT_ADMIN,
        item_key="systemvm",
        java_class=f"{ADMIN_PKG}.UpgradeSystemVMCmd",
        description="Changes the service offering of a stopped system VM",
    ),
    ApiCommand(
        "scaleSystemVm",
        scale,
        (ID, *OFFERING),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key="systemvm",
        render=system_vm_view,
        java_class=f"{ADMIN_PKG}.ScaleSystemVMCmd",
        description="Scales a system VM to another system offering (live where supported)",
        response_name="changeServiceForSystemVm",
    ),
    ApiCommand(
        "createSystemVm",
        create_system_vm,
        (
            Param("zoneid", P.UUID, required=True),
            Param("systemvmtype", P.STRING, required=True),
            Param("hypervisor", P.STRING, required=True),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key="systemvm",
        render=system_vm_view,
        java_class="stratus.api.CreateSystemVmCmd",
        extension="starts a zone's system VMs on demand; CloudStack starts them on its own",
        description="Creates and starts a zone's secondary storage VM or console proxy (Stratus)",
    ),
)
