"""VM snapshots: createVMSnapshot, revertToVMSnapshot and deleteVMSnapshot as hypervisor jobs,
and listVMSnapshot.

What CloudStack refuses when the snapshot is allocated (the VM's state, memory of a stopped VM, a
name taken) answers at once from the read models; the aggregates check the same again in the job,
where a race would surface.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    OWNER_PARAMS,
    limit_sql,
    resolve_owner_filters,
)
from api.cloudstack.snapshots import snapshot_job
from api.cloudstack.vm_listing import vm_row, vm_view
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import Outcome
from commands import vm_snapshots as cmd
from domain.errors import InvalidParameter
from domain.vm_snapshot import DISK, DISK_AND_MEMORY
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.vmsnapshot"

_SELECT = (
    "SELECT s.*, p.display_name AS parent_name, a.name AS account_name, "
    "a.domain_name AS domain_name, a.domain_path AS domain_path FROM vm_snapshots AS s "
    "JOIN accounts AS a ON a.id = s.account_id LEFT JOIN vm_snapshots AS p ON p.id = s.parent_id"
)


def vm_snapshot_row(call: Call, snapshot_id: str, *, removed: bool = False) -> dict[str, Any]:
    """A VM snapshot the caller may act on: 431 when there is none, 531 when it is not theirs."""
    gone = "" if removed else " AND s.removed = 0"
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE s.id = %s" + gone, (snapshot_id,)).fetchone()
    if row is None:
        raise not_found("vmsnapshotid", snapshot_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the vm snapshot",
    )
    return dict(row)


def render_vm_snapshot(row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "displayname": row["display_name"],
        "description": row["description"],
        "state": row["state"],
        "type": DISK_AND_MEMORY if row["memory"] else DISK,
        "current": bool(row["current"]),
        "virtualmachineid": row["vm_id"],
        "created": format_stored_date(row["created"]),
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "zoneid": row["zone_id"],
    }
    if row["parent_id"]:
        body.update(parent=row["parent_id"], parentName=row["parent_name"] or "")
    return body


def _vm_snapshot_object(call: Call, snapshot_id: str) -> dict[str, Any]:
    return render_vm_snapshot(vm_snapshot_row(call, snapshot_id, removed=True))


def list_vm_snapshots(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["s.removed = 0", scope.clause], list(scope.params)
    narrow(args, "VMSnapshot", "s.id", where, params)
    wanted_id = args["vmsnapshotid"] or args["id"]
    for value, column in (
        (wanted_id, "s.id"),
        (args["virtualmachineid"], "s.vm_id"),
        (args["state"], "s.state"),
    ):
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    if args["name"]:
        where.append("s.display_name = %s")
        params.append(args["name"])
    if args.get("keyword"):
        clause, values = contains(("s.display_name", "s.name"), args["keyword"])
        where.append(clause)
        params += values
    sql = _SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY s.created DESC, s.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render_vm_snapshot(dict(r)) for r in rows], int(count))


def _check_allocatable(call: Call, vm: dict[str, Any], memory: bool, display_name: str) -> None:
    """CloudStack's refusals when it allocates the snapshot, read from the read models."""
    if vm["state"] not in ("Running", "Stopped"):
        raise InvalidParameter(
            f"Creating VM snapshot failed due to VM:{vm['name']} is not in the running or "
            "Stopped state"
        )
    if memory and vm["state"] == "Stopped":
        raise InvalidParameter("Can not snapshot memory when VM is in stopped state")
    with call.read() as cursor:
        taken = cursor.execute(
            "SELECT id FROM vm_snapshots WHERE vm_id = %s AND display_name = %s AND removed = 0",
            (vm["id"], display_name),
        ).fetchone()
    if taken is not None:
        raise InvalidParameter(
            f"Creating VM snapshot failed due to VM snapshot with name {display_name} already "
            "exists"
        )


def _volume_ids(call: Call, vm_id: str) -> list[UUID]:
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT id FROM volumes WHERE vm_id = %s AND removed = 0 ORDER BY device_id, id",
            (vm_id,),
        ).fetchall()
    return [UUID(r["id"]) for r in rows]


# Hypervisors whose VM snapshots take `quiescevm=true`: VMware quiesces the guest through its
# tools; 4.3's XenServer resource takes a plain VM.snapshot and the simulator has no guest, so
# both take it without quiescing. KVM and Hyper-V had no VM snapshots in 4.3, and their adapters
# here cannot freeze a guest's file systems: refused.
QUIESCING = {"VMware": True, "XenServer": False, "Simulator": False}


def _quiesce(vm: dict[str, Any], asked: bool) -> bool:
    """Whether the host is asked to quiesce the guest; 431 where it cannot."""
    if not asked:
        return False
    if vm["hypervisor"] not in QUIESCING:
        raise InvalidParameter(
            f"can't handle quiescevm equal true for a VM snapshot on {vm['hypervisor']}: "
            "its adapter cannot quiesce the guest"
        )
    return QUIESCING[vm["hypervisor"]]


def create(call: Call, args: dict[str, Any]) -> Submitted:
    vm = vm_row(call, args["virtualmachineid"])
    memory = bool(args["snapshotmemory"])
    quiesce = _quiesce(vm, bool(args["quiescevm"]))
    name = f"{vm['instance_name']}_VS_{call.now().strftime('%Y%m%d%H%M%S')}"
    display_name = args["name"] or name
    _check_allocatable(call, vm, memory, display_name)
    snapshot_id = uuid4()

    def work(job_id: UUID) -> Outcome:
        command = cmd.CreateVmSnapshot(
            snapshot_id,
            UUID(vm["id"]),
            name,
            display_name,
            args["description"] or "",
            memory,
            _volume_ids(call, vm["id"]),
            job_id,
            quiesce,
        )
        return cmd.create_vm_snapshot(call.store, command)

    text = f"creating snapshot for VM: {vm['name']}"
    job_id = snapshot_job(call, "VMSnapshot", snapshot_id, "VMSNAPSHOT.CREATE", text, work)
    return Submitted(job_id, str(snapshot_id))


def revert(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_snapshot_row(call, args["vmsnapshotid"])
    snapshot_id = UUID(row["id"])
    job_id = snapshot_job(
        call,
        "VMSnapshot",
        snapshot_id,
        "VMSNAPSHOT.REVERTTO",
        f"reverting to VM snapshot {row['display_name']}",
        lambda job: cmd.revert_to_vm_snapshot(call.store, snapshot_id, job),
    )
    return Submitted(job_id)


def delete(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_snapshot_row(call, args["vmsnapshotid"])
    snapshot_id = UUID(row["id"])
    job_id = snapshot_job(
        call,
        "VMSnapshot",
        snapshot_id,
        "VMSNAPSHOT.DELETE",
        f"deleting VM snapshot {row['display_name']}",
        lambda job: cmd.delete_vm_snapshot(call.store, snapshot_id, job),
    )
    return Submitted(job_id)


SNAPSHOT_ID = Param("vmsnapshotid", P.UUID, required=True)

COMMANDS = (
    ApiCommand(
        "createVMSnapshot",
        create,
        (
            Param("virtualmachineid", P.UUID, required=True),
            Param("name", P.STRING),
            Param("description", P.STRING),
            Param("snapshotmemory", P.BOOLEAN, default=False),
            Param("quiescevm", P.BOOLEAN, default=False),
        ),
        shape="async",
        is_async=True,
        item_key="vmsnapshot",
        render=_vm_snapshot_object,
        java_class=f"{PKG}.CreateVMSnapshotCmd",
        description="Creates a snapshot for a virtual machine.",
    ),
    ApiCommand(
        "revertToVMSnapshot",
        revert,
        (SNAPSHOT_ID,),
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=f"{PKG}.RevertToVMSnapshotCmd",
        description="Reverts a virtual machine to the state a VM snapshot holds.",
    ),
    ApiCommand(
        "deleteVMSnapshot",
        delete,
        (SNAPSHOT_ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteVMSnapshotCmd",
        description="Deletes a VM snapshot.",
    ),
    ApiCommand(
        "listVMSnapshot",
        list_vm_snapshots,
        (
            *OWNER_PARAMS,
            Param("vmsnapshotid", P.UUID),
            Param(
                "id",
                P.UUID,
                extension="the common spelling of vmsnapshotid, as later versions accept",
            ),
            Param("virtualmachineid", P.UUID),
            Param("name", P.STRING),
            Param("state", P.STRING),
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="vmSnapshot",
        java_class=f"{PKG}.ListVMSnapshotCmd",
        description="Lists VM snapshots.",
    ),
)
