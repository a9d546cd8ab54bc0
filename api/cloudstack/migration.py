"""Live migration (root admin): findHostsForMigration, migrateVirtualMachine,
migrateVirtualMachineWithVolume and migrateSystemVm. A running guest or appliance moves to
another Up, Enabled host of its cluster and hypervisor, or, with its disks, to a host of
another cluster of its zone; the work is a hypervisor job (`commands.migration`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.hosts import render_hosts
from api.cloudstack.storage_pools import pool_needs
from api.cloudstack.system_vms import EVENT_PREFIX, appliance_job, appliance_row, system_vm_view
from api.cloudstack.vm_listing import vm_row, vm_view
from api.cloudstack.vms import hypervisor_job
from api.cloudstack.volume_moves import disk_moves, migrate_root
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param
from api.params import ParamType as P
from commands import migration as cmd
from commands.placement import Candidate
from commands.volume_migration import DiskMove
from commands.volume_placement import PoolNeeds
from domain.affinity_group import HOST_ANTI_AFFINITY
from domain.errors import InvalidParameter, NotFound
from domain.storage import parse_tags
from projections.configuration import overprovisioning
from projections.hypervisor_capabilities import limits_of
from projections.migration import (
    cluster_hosts,
    kept_apart_hosts,
    machine_on,
    reaches,
    vm_disk_pools,
    zone_hosts,
)
from projections.storage import host_pools

MIB = 1024 * 1024
USER_PKG = "org.apache.cloudstack.api.command.admin.vm"


def room(host: dict[str, Any], cpu_mhz: int, memory_mb: int) -> bool:
    """Whether the host's unreserved CPU and memory hold the machine."""
    cpu_free = int(host["cpu"]) - int(host["cpu_held"])
    memory_free = int(host["memory"]) // MIB - int(host["memory_held"])
    return cpu_mhz <= cpu_free and memory_mb <= memory_free


# findHostsForMigration -----------------------------------------------------------------------


def find_hosts(call: Call, args: dict[str, Any]) -> Listing:
    """The other Up, Enabled hosts the machine may move to, each saying whether it has room
    for the machine (`hasenoughcapacity`), whether it may take it (`suitableformigration`:
    room, and no VM its host anti-affinity groups keep it apart from there) and whether its
    disks must move with it (`requiresStorageMotion`). Where the hypervisor version of the
    machine's host has storage motion, as 4.3 lists them, the hosts of every cluster of the
    zone with that version; else those of its cluster, which share its disks."""
    machine = _running_machine(call, args["virtualmachineid"])
    motion = not machine["system"] and _storage_motion(call, machine)
    with call.read() as cursor:
        if motion:
            hosts = zone_hosts(cursor, machine["zone_id"], machine["hypervisor"])
            hosts = [h for h in hosts if _same_version(h, machine)]
        else:
            hosts = cluster_hosts(cursor, machine["cluster_id"], machine["hypervisor"])
        disks = [] if machine["system"] else vm_disk_pools(cursor, machine["id"])
        apart = kept_apart_hosts(cursor, machine["id"], HOST_ANTI_AFFINITY)
    hosts = [h for h in hosts if h["id"] != machine["host_id"]]
    if args["keyword"]:
        hosts = [h for h in hosts if args["keyword"].lower() in h["name"].lower()]
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    shown = hosts[paging.offset : end]
    rows = [places._row(call, "hosts", host["id"], "host") for host in shown]
    items = []
    for host, body in zip(shown, render_hosts(call, rows), strict=True):
        fits = room(host, machine["cpu_mhz"], machine["memory_mb"])
        suitable = fits and host["id"] not in apart
        home = machine["cluster_id"]
        moving = [disk for disk in disks if not reaches(disk, host["cluster_id"], home)]
        if moving and suitable:
            suitable = _pools_take(call, host["id"], moving)
        body.update(
            hasenoughcapacity=fits,
            suitableformigration=suitable,
            requiresStorageMotion=bool(moving),
        )
        items.append(body)
    return Listing(items, len(hosts))


def _pools_take(call: Call, host_id: str, disks: list[dict[str, Any]]) -> bool:
    """Whether, for each disk on a pool the host does not reach, a pool connected to the host
    is Up with its offering's storage tags and room for it (4.3 finds no host suitable whose
    storage cannot take the VM's volumes). A disk on no pool travels with the VM."""
    with call.read() as cursor:
        pools = host_pools(cursor, host_id)
    for disk in disks:
        if not disk["pool_id"]:
            continue
        needs = pool_needs(call, disk["zone_id"], parse_tags(disk["offering_tags"]))
        size = int(disk["size_gb"]) * 1024**3
        if not any(_takes(pool, size, needs) for pool in pools):
            return False
    return True


def _takes(pool: dict[str, Any], size: int, needs: PoolNeeds) -> bool:
    tagged = set(needs.tags) <= set(parse_tags(pool["tags"]))
    factor = needs.factor_of(UUID(str(pool["id"])))
    return tagged and int(pool["total"]) * factor - int(pool["allocated_bytes"]) >= size


def _same_version(host: dict[str, Any], machine: dict[str, Any]) -> bool:
    return str(host["hypervisor_version"] or "") == str(machine["hypervisor_version"] or "")


def _storage_motion(call: Call, machine: dict[str, Any]) -> bool:
    """Whether the hypervisor version of the machine's host moves disks live (4.3's
    hypervisor capabilities, `storagemotionenabled`)."""
    with call.read() as cursor:
        limits = limits_of(cursor, machine["hypervisor"], machine["hypervisor_version"] or "")
    return limits is not None and bool(limits["storage_motion"])


def _machine(call: Call, machine_id: str) -> dict[str, Any]:
    """The guest VM or system VM with its host, cluster, hypervisor and size; 431 if none."""
    with call.read() as cursor:
        machine = machine_on(cursor, machine_id)
    if machine is None:
        raise NotFound(f"Unable to find the VM by id={machine_id}", resource_ids=(machine_id,))
    if not machine["system"]:
        vm_row(call, machine_id)  # reach (root admins reach every VM)
    return machine


def _running_machine(call: Call, machine_id: str) -> dict[str, Any]:
    """The machine, 431 unless it runs on a host, as 4.3 answers."""
    machine = _machine(call, machine_id)
    if machine["state"] != "Running" or not machine["host_id"]:
        raise InvalidParameter("VM is not running, cannot migrate the vm with specified id")
    return machine


# migrateVirtualMachine, migrateVirtualMachineWithVolume, migrateSystemVm ---------------------


def _destination(
    call: Call, machine_id: str, host_id: str, across: bool = False
) -> tuple[dict[str, Any], Candidate]:
    """The machine and the host named for it, checked as 4.3 does before the job runs: a
    host of another hypervisor, or the machine's own, is 431, and so is one of another
    cluster unless the machine moves with its disks (`across`; then of its zone)."""
    machine = _machine(call, machine_id)
    host = places._row(call, "hosts", host_id, "host")
    if host["hypervisor"].lower() != str(machine["hypervisor"]).lower():
        raise InvalidParameter(
            f"Cannot migrate the VM: the destination host {host['name']} runs "
            f"{host['hypervisor']}, not {machine['hypervisor']}"
        )
    if machine["host_id"] == host["id"]:
        raise InvalidParameter(
            "Cannot migrate VM, VM is already present on this host, please specify valid "
            "destination host to migrate the VM"
        )
    other_cluster = bool(machine["cluster_id"]) and machine["cluster_id"] != host["cluster_id"]
    if other_cluster and not across:
        raise InvalidParameter(
            "Cannot migrate the VM, destination host is not in the same cluster as current "
            "host of the VM"
        )
    if other_cluster and machine["zone_id"] != host["zone_id"]:
        raise InvalidParameter(
            f"Cannot migrate the VM: the destination host {host['name']} is in another zone"
        )
    if host["state"] != "Up" or host["resource_state"] != "Enabled":
        raise InvalidParameter(
            f"The specified host({host['name']}) is not suitable to migrate the VM: it is "
            f"{host['state']} and {host['resource_state']}"
        )
    whole = int(host["cpu_number"]) * int(host["cpu_speed"])
    with call.read() as cursor:
        factors = overprovisioning(cursor).of(host["cluster_id"])
    memory = int(host["memory_total"]) // MIB
    return machine, Candidate(UUID(host["id"]), whole, memory, None, factors)


def migrate_vm(call: Call, args: dict[str, Any]) -> Submitted:
    """A running VM moves live to `hostid` (another host of its cluster), or a stopped VM's
    ROOT disk to the pool `storageid` (`api.cloudstack.volume_moves.migrate_root`)."""
    if args["hostid"] and args["storageid"]:
        raise InvalidParameter("Only one of hostId and storageId can be specified")
    if args["storageid"]:
        return migrate_root(call, vm_row(call, args["virtualmachineid"]), args["storageid"])
    if not args["hostid"]:
        raise InvalidParameter("Either hostId or storageId must be specified")
    return _migrate_guest(call, args["virtualmachineid"], args["hostid"])


def migrate_vm_with_volume(call: Call, args: dict[str, Any]) -> Submitted:
    """The same move, with the disks `migrateto` names (`volume`, `pool`) moving to those
    primary storage pools, where the hypervisor version of the VM's host has storage motion.
    To a host of another cluster, every disk on a pool of the VM's cluster that `migrateto`
    does not name goes to a pool of the destination's scope that takes it, as 4.3 picks one;
    within the cluster, a VM whose disks are all on pools must name some (4.3: that is
    migrateVirtualMachine's work)."""
    vm_id = args["virtualmachineid"]
    machine = _machine(call, vm_id)
    if machine["system"]:
        raise InvalidParameter(f"Unable to find the VM by id={vm_id}")
    _running_machine(call, vm_id)
    host = places._row(call, "hosts", args["hostid"], "host")
    _destination(call, vm_id, args["hostid"], across=True)
    if not _storage_motion(call, machine):
        raise InvalidParameter(
            f"Migration with storage isn't supported on hypervisor {machine['hypervisor']} "
            f"of version {machine['hypervisor_version']}"
        )
    if not _same_version(host, machine):
        raise InvalidParameter(
            "The source and destination hosts are not of the same type and version. Source "
            f"hypervisor type and version: {machine['hypervisor']} "
            f"{machine['hypervisor_version']}, Destination hypervisor type and version: "
            f"{host['hypervisor']} {host['hypervisor_version']}"
        )
    moves = disk_moves(call, vm_id, args["migrateto"] or [])
    with call.read() as cursor:
        disks = vm_disk_pools(cursor, vm_id)
    if machine["cluster_id"] == host["cluster_id"]:
        if not moves and disks and all(disk["pool_id"] for disk in disks):
            raise InvalidParameter(
                f"Migration of the vm {machine['name']} from host {machine['host_id']} to "
                f"destination host {host['name']} doesn't involve migrating the volumes."
            )
    else:
        for disk in disks:
            placed = disk["pool_id"] and UUID(disk["id"]) not in moves
            if placed and not reaches(disk, host["cluster_id"], machine["cluster_id"]):
                tags = parse_tags(disk["offering_tags"])
                moves[UUID(disk["id"])] = DiskMove(None, pool_needs(call, disk["zone_id"], tags))
    return _migrate_guest(call, vm_id, args["hostid"], moves, across=True)


def _migrate_guest(
    call: Call,
    vm_id: str,
    host_id: str,
    moves: dict[UUID, DiskMove] | None = None,
    across: bool = False,
) -> Submitted:
    machine, destination = _destination(call, vm_id, host_id, across)
    if machine["system"]:
        raise InvalidParameter(f"Unable to find the VM by id={vm_id}")
    command = cmd.MigrateMachine(UUID(vm_id), (destination,), None, moves or {})
    return hypervisor_job(
        call,
        vm_id,
        "VM.MIGRATE",
        f"Migrating VM {machine['name']} to host {host_id}",
        lambda job_id: cmd.migrate_vm(call.store, replace(command, job_id=job_id)),
    )


def migrate_system_vm(call: Call, args: dict[str, Any]) -> Submitted:
    """A running router, secondary storage VM or console proxy moves live to `hostid`."""
    row = appliance_row(call, args["virtualmachineid"], any_role=True)
    _, destination = _destination(call, row["id"], args["hostid"])
    return appliance_job(
        call,
        row,
        f"{EVENT_PREFIX[row['role']]}.MIGRATE",
        f"Migrating {row['name']} to host {args['hostid']}",
        lambda job_id: cmd.migrate_system_vm(
            call.store, cmd.MigrateMachine(UUID(row["id"]), (destination,), job_id)
        ),
    )


VM_ID = Param("virtualmachineid", P.UUID, required=True)

COMMANDS = (
    ApiCommand(
        "findHostsForMigration",
        find_hosts,
        (VM_ID,),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key="host",
        java_class="org.apache.cloudstack.api.command.admin.host.FindHostsForMigrationCmd",
        description="Find hosts suitable for migrating a virtual machine.",
    ),
    ApiCommand(
        "migrateVirtualMachine",
        migrate_vm,
        (
            VM_ID,
            Param("hostid", P.UUID),
            Param("storageid", P.UUID),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=f"{USER_PKG}.MigrateVMCmd",
        description="Attempts Migration of a VM to a different host or Root volume of the vm "
        "to a different storage pool",
    ),
    ApiCommand(
        "migrateVirtualMachineWithVolume",
        migrate_vm_with_volume,
        (
            Param("hostid", P.UUID, required=True),
            VM_ID,
            Param("migrateto", P.MAP),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=f"{USER_PKG}.MigrateVirtualMachineWithVolumeCmd",
        description="Attempts Migration of a VM with its volumes to a different host",
    ),
    ApiCommand(
        "migrateSystemVm",
        migrate_system_vm,
        (Param("hostid", P.UUID, required=True), VM_ID),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key="systemvm",
        render=system_vm_view,
        java_class="org.apache.cloudstack.api.command.admin.systemvm.MigrateSystemVMCmd",
        description="Attempts Migration of a system virtual machine to the host specified.",
    ),
)
