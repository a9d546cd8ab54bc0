"""migrateVolume: a volume moves to another primary storage pool, as a job that the adapter of
the host copying the disk finishes (`commands.volume_migration`).

A disk no VM holds, or one of a stopped VM, is copied pool to pool. A running VM's disk moves
only where its host's hypervisor version supports storage motion (4.3's hypervisor
capabilities) and `livemigrate=true` is given; otherwise 4.3's refusals, at once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from api.cloudstack.storage_pools import pool_needs, volume_on_host
from api.cloudstack.vms import hypervisor_job
from api.cloudstack.volumes import volume_answer, volume_row
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param
from api.params import ParamType as P
from commands.volume_migration import DiskMove, MigrateVolume, migrate_volume
from domain.errors import InvalidParameter
from domain.storage import parse_tags
from domain.volume import VolumeType, root_volume_id
from projections.hypervisor_capabilities import limits_of
from projections.storage import pool_by_id


def migrate(call: Call, args: dict[str, Any]) -> Submitted:
    row = volume_row(call, args["volumeid"])
    with call.read() as cursor:
        pool = pool_by_id(cursor, args["storageid"])
    if pool is None or pool["removed"]:
        raise InvalidParameter(f"Failed to find the destination storage pool: {args['storageid']}")
    volume = volume_on_host(call, row["id"])
    live = _live(call, volume, bool(args["livemigrate"]))
    text = f"Migrating volume {row['name']} to storage pool {pool['name']}"
    return _move_job(call, volume, pool, live, (row["id"], "Volume", "VOLUME.MIGRATE", text))


def migrate_root(call: Call, vm: dict[str, Any], pool_id: str) -> Submitted:
    """migrateVirtualMachine `storageid`: a stopped VM's ROOT disk moves to the pool, as 4.3
    does it (a VM with data disks attached is refused); the VM's job answers the VM."""
    if vm["state"] != "Stopped":
        raise InvalidParameter(
            "VM is not Stopped, unable to migrate the vm having the specified id"
        )
    with call.read() as cursor:
        disks = cursor.execute(
            "SELECT count(*) AS n FROM volumes WHERE vm_id = %s AND kind = %s AND removed = 0",
            (vm["id"], VolumeType.DATADISK),
        ).fetchone()["n"]
        pool = pool_by_id(cursor, pool_id)
    if disks:
        raise InvalidParameter(
            "Data disks attached to the vm, can not migrate. Need to dettach data disks at first"
        )
    if pool is None or pool["removed"]:
        raise InvalidParameter(f"Failed to find the destination storage pool: {pool_id}")
    if str(pool["hypervisor"]).lower() != str(vm["hypervisor"]).lower():
        raise InvalidParameter(
            f"hypervisor is not compatible: dest: {pool['hypervisor']}, vm: {vm['hypervisor']}"
        )
    root = volume_on_host(call, str(root_volume_id(UUID(vm["id"]))))
    text = f"Migrating the ROOT volume of VM {vm['name']} to storage pool {pool['name']}"
    return _move_job(call, root, pool, False, (vm["id"], "VirtualMachine", "VM.MIGRATE", text))


def _move_job(
    call: Call,
    volume: dict[str, Any],
    pool: dict[str, Any],
    live: bool,
    job: tuple[str, str, str, str],
) -> Submitted:
    """The job (of the volume, or of its VM: id, type, event, text) moving it to the pool."""
    instance_id, instance_type, event, text = job
    needs = pool_needs(call, volume["zone_id"], parse_tags(volume["offering_tags"]))
    command = MigrateVolume(UUID(volume["id"]), UUID(pool["id"]), live, needs)
    return hypervisor_job(
        call,
        instance_id,
        event,
        text,
        lambda job_id: migrate_volume(call.store, replace(command, job_id=job_id)),
        instance_type=instance_type,
    )


def _live(call: Call, volume: dict[str, Any], asked: bool) -> bool:
    """Whether the disk moves while its VM runs: 4.3 lets it only where the host's hypervisor
    supports storage motion, and only when asked to."""
    if volume["vm_state"] != "Running" or not volume["host_id"]:
        return False
    if not _storage_motion(call, volume):
        raise InvalidParameter("Volume needs to be detached from VM")
    if not asked:
        raise InvalidParameter(
            f"The volume {volume['name']} is attached to a vm and for migrating it the "
            "parameter livemigrate should be specified"
        )
    return True


def disk_moves(call: Call, vm_id: str, groups: list[dict[str, str]]) -> dict[UUID, DiskMove]:
    """migrateVirtualMachineWithVolume's `migrateto` (`volume` -> `pool`), checked as 4.3
    checks it before the job: the VM's host supports storage motion, each volume and pool
    exists and each volume is the VM's."""
    if not groups:
        return {}
    moves: dict[UUID, DiskMove] = {}
    for group in groups:
        volume_id, pool_id = group.get("volume"), group.get("pool")
        if not volume_id or not pool_id:
            raise InvalidParameter("Each migrateto entry names a volume and a pool")
        volume = _existing(call, volume_id)
        if volume["vm_id"] != vm_id:
            raise InvalidParameter(f"Volume {volume['name']} doesn't belong to the vm {vm_id}")
        with call.read() as cursor:
            pool = pool_by_id(cursor, pool_id)
        if pool is None or pool["removed"]:
            raise InvalidParameter(f"There is no storage pool present with the given id {pool_id}")
        if not _storage_motion(call, volume):
            raise InvalidParameter(
                f"Migration with storage isn't supported on hypervisor {volume['hypervisor']} "
                f"of version {volume['hypervisor_version']}"
            )
        needs = pool_needs(call, volume["zone_id"], parse_tags(volume["offering_tags"]))
        moves[UUID(volume["id"])] = DiskMove(UUID(pool["id"]), needs)
    return moves


def _existing(call: Call, volume_id: str) -> dict[str, Any]:
    try:
        return volume_on_host(call, str(UUID(volume_id)))
    except (InvalidParameter, ValueError):
        raise InvalidParameter(
            f"There is no volume present with the given id {volume_id}"
        ) from None


def _storage_motion(call: Call, volume: dict[str, Any]) -> bool:
    """Whether the hypervisor version of the host of the volume's VM supports storage motion
    (4.3's hypervisor capabilities): a running VM's disks move only there."""
    with call.read() as cursor:
        limits = limits_of(cursor, volume["hypervisor"], volume["hypervisor_version"] or "")
    return limits is not None and bool(limits["storage_motion"])


COMMANDS = (
    ApiCommand(
        "migrateVolume",
        migrate,
        (
            Param("volumeid", P.UUID, required=True),
            Param("storageid", P.UUID, required=True),
            Param("livemigrate", P.BOOLEAN, default=False),
        ),
        shape="async",
        is_async=True,
        item_key="volume",
        render=volume_answer,
        java_class="org.apache.cloudstack.api.command.user.volume.MigrateVolumeCmd",
        description="Migrate volume",
    ),
)
