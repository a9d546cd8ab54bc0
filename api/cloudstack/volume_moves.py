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
from commands.volume_migration import MigrateVolume, migrate_volume
from domain.errors import InvalidParameter
from domain.storage import parse_tags
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
    needs = pool_needs(call, volume["zone_id"], parse_tags(volume["offering_tags"]))
    command = MigrateVolume(UUID(row["id"]), UUID(pool["id"]), live, needs)
    return hypervisor_job(
        call,
        row["id"],
        "VOLUME.MIGRATE",
        f"Migrating volume {row['name']} to storage pool {pool['name']}",
        lambda job_id: migrate_volume(call.store, replace(command, job_id=job_id)),
        instance_type="Volume",
    )


def _live(call: Call, volume: dict[str, Any], asked: bool) -> bool:
    """Whether the disk moves while its VM runs: 4.3 lets it only where the host's hypervisor
    supports storage motion, and only when asked to."""
    if volume["vm_state"] != "Running" or not volume["host_id"]:
        return False
    with call.read() as cursor:
        limits = limits_of(cursor, volume["hypervisor"], volume["hypervisor_version"] or "")
    if limits is None or not limits["storage_motion"]:
        raise InvalidParameter("Volume needs to be detached from VM")
    if not asked:
        raise InvalidParameter(
            f"The volume {volume['name']} is attached to a vm and for migrating it the "
            "parameter livemigrate should be specified"
        )
    return True


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
