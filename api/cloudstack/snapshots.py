"""Volume snapshots: createSnapshot (a hypervisor job when a host holds the volume),
deleteSnapshot and listSnapshots. A snapshot is MANUAL, or of the interval type of the snapshot
policy that took it (`api/cloudstack/snapshot_policies.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    OWNER_PARAMS,
    limit_sql,
    owner_of,
    resolve_owner_filters,
)
from api.cloudstack.jobs import hypervisor_job, run_async
from api.cloudstack.templates import store_choices
from api.cloudstack.volumes import volume_row
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import Outcome
from commands import snapshots as cmd
from domain.errors import InvalidParameter
from domain.snapshot import MANUAL
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.snapshot"
# CloudStack's Snapshot.Type values a filter may name, and its recurring interval types.
SNAPSHOT_TYPES = ("MANUAL", "RECURRING", "TEMPLATE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY")
INTERVAL_TYPES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY")

_SELECT = (
    "SELECT s.*, a.name AS account_name, a.domain_name AS domain_name, "
    "a.domain_path AS domain_path FROM snapshots AS s JOIN accounts AS a ON a.id = s.account_id"
)


def snapshot_row(call: Call, snapshot_id: str, *, removed: bool = False) -> dict[str, Any]:
    """A snapshot the caller may act on: 431 when there is none, 531 when it is someone else's."""
    gone = "" if removed else " AND s.removed = 0"
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE s.id = %s" + gone, (snapshot_id,)).fetchone()
    if row is None:
        raise not_found("id", snapshot_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the snapshot",
    )
    return dict(row)


def render_snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "snapshottype": row["interval_type"],
        "volumeid": row["volume_id"],
        "volumename": row["volume_name"],
        "volumetype": row["volume_type"],
        "created": format_stored_date(row["created"]),
        "name": row["name"],
        "intervaltype": row["interval_type"],
        "state": row["state"],
        "zoneid": row["zone_id"],
        "physicalsize": int(row["size_bytes"]),
        "revertable": False,
        "tags": [],
    }


def _snapshot_object(call: Call, snapshot_id: str) -> dict[str, Any]:
    return render_snapshot(snapshot_row(call, snapshot_id, removed=True))


def _type_filter(args: dict[str, Any], where: list[str], params: list[Any]) -> bool:
    """Narrow to the types asked for; False when none can match (a TEMPLATE snapshot: there
    are none). 431 for a type CloudStack lacks."""
    if args["snapshottype"]:
        wanted = args["snapshottype"].upper()
        if wanted not in SNAPSHOT_TYPES:
            raise InvalidParameter(f"Unsupported snapshot type {args['snapshottype']}")
        if wanted == "TEMPLATE":
            return False
        if wanted == "RECURRING":
            where.append("s.interval_type <> %s")
            params.append(MANUAL)
        else:
            where.append("s.interval_type = %s")
            params.append(wanted)
    if args["intervaltype"]:
        interval = args["intervaltype"].upper()
        if interval not in INTERVAL_TYPES:
            raise InvalidParameter(f"Unsupported snapshot interval type {args['intervaltype']}")
        where.append("s.interval_type = %s")
        params.append(interval)
    return True


def list_snapshots(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["s.removed = 0", scope.clause], list(scope.params)
    narrow(args, "Snapshot", "s.id", where, params)
    if not _type_filter(args, where, params):
        return Listing([], 0)
    for key, column in (("id", "s.id"), ("volumeid", "s.volume_id"), ("zoneid", "s.zone_id")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    for key in ("name", "keyword"):
        if args.get(key):
            clause, values = contains(("s.name",), args[key])
            where.append(clause)
            params += values
    if args["state"]:
        where.append("s.state = %s")
        params.append(args["state"])
    sql = _SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY s.created DESC, s.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render_snapshot(dict(r)) for r in rows], int(count))


def snapshot_job(
    call: Call,
    instance_type: str,
    instance_id: UUID,
    event_type: str,
    description: str,
    work: Callable[[UUID], Outcome],
) -> str:
    """A job that a hypervisor's result finishes, with `work`, the command that asks for it."""
    return str(hypervisor_job(call, instance_type, instance_id, event_type, description, work))


def _default_name(call: Call, volume: dict[str, Any]) -> str:
    """As CloudStack names it: [<VM display name>_]<volume name>_<yyyyMMddHHmmss> (UTC)."""
    stamp = call.now().strftime("%Y%m%d%H%M%S")
    owner = volume.get("vm_display_name") or volume.get("vm_name")
    return f"{owner}_{volume['name']}_{stamp}" if owner else f"{volume['name']}_{stamp}"


def _check_owner(call: Call, args: dict[str, Any], volume: dict[str, Any]) -> None:
    """`account` with `domainid`: the owner an administrator names for the snapshot, resolved
    as every create resolves it (`owner_of`: 431 unknown, 531 out of the caller's reach). As
    4.3 (its owner is the volume's account), it must be the volume's owner."""
    if not args["account"]:
        return
    if not args["domainid"]:
        raise InvalidParameter("The account parameter must be used with the domainId parameter")
    owner = owner_of(call, args)
    if owner.account_id != volume["account_id"]:
        raise InvalidParameter(
            f"Volume {volume['name']} belongs to another account: a snapshot is owned by its "
            "volume's account"
        )


def create(call: Call, args: dict[str, Any]) -> Submitted:
    volume = volume_row(call, args["volumeid"])
    if args["quiescevm"]:
        # 4.3 takes every volume snapshot with one strategy, which cannot quiesce
        raise InvalidParameter("can't handle quiescevm equal true for volume snapshot")
    _check_owner(call, args, volume)
    if args["policyid"]:
        # the scheduler takes a policy's snapshots; one taken by hand is always MANUAL
        raise not_found("policyid", args["policyid"])
    snapshot_id = uuid4()
    name = args["name"] or _default_name(call, volume)

    zone = UUID(volume["zone_id"])
    store = store_choices(call, [zone]).get(zone)  # snapshot.backup.rightafter

    def work(job_id: UUID) -> Outcome:
        command = cmd.CreateSnapshot(snapshot_id, UUID(volume["id"]), name, job_id, store)
        return cmd.create_snapshot(call.store, command)

    job_id = snapshot_job(
        call, "Snapshot", snapshot_id, "SNAPSHOT.CREATE", f"creating snapshot {name}", work
    )
    return Submitted(job_id, str(snapshot_id))


def delete(call: Call, args: dict[str, Any]) -> Submitted:
    row = snapshot_row(call, args["id"])

    def work() -> dict[str, Any]:
        cmd.delete_snapshot(call.store, UUID(row["id"]))
        return {"success": True}

    return run_async(
        call,
        instance_type="Snapshot",
        instance_id=UUID(row["id"]),
        event_type="SNAPSHOT.DELETE",
        description=f"deleting snapshot {row['name']}",
        work=work,
    )


def revert(call: Call, args: dict[str, Any]) -> Submitted:
    """revertSnapshot: 4.3's refusals answer at once (431); the job then fails as 4.3's does on
    the storage Stratus drives (`commands.snapshots.revert_snapshot`), changing nothing."""
    row = snapshot_row(call, args["id"])
    if row["state"] != "BackedUp":
        raise InvalidParameter(
            f"Snapshot {row['name']} is {row['state']}: only a backed-up snapshot is reverted to"
        )
    with call.read() as cursor:
        volume = cursor.execute(
            "SELECT v.removed, m.state AS vm_state FROM volumes AS v "
            "LEFT JOIN virtual_machines AS m ON m.id = v.vm_id WHERE v.id = %s",
            (row["volume_id"],),
        ).fetchone()
    if volume is None or volume["removed"]:
        raise InvalidParameter(f"The volume of snapshot {row['name']} has been deleted")
    if volume["vm_state"] not in (None, "Stopped"):
        raise InvalidParameter(
            "The VM the specified disk is attached to is not in the shutdown state."
        )

    def work() -> dict[str, Any]:
        cmd.revert_snapshot(call.store, UUID(row["id"]))
        return {"object": "snapshot", "id": row["id"]}

    return run_async(
        call,
        instance_type="Snapshot",
        instance_id=UUID(row["id"]),
        event_type="SNAPSHOT.REVERT",
        description=f"reverting to snapshot {row['name']}",
        work=work,
    )


COMMANDS = (
    ApiCommand(
        "createSnapshot",
        create,
        (
            Param("volumeid", P.UUID, required=True),
            Param(
                "name",
                P.STRING,
                extension="names the snapshot, as later CloudStack versions allow",
            ),
            Param("policyid", P.UUID),
            Param("quiescevm", P.BOOLEAN, default=False),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
        ),
        shape="async",
        is_async=True,
        item_key="snapshot",
        render=_snapshot_object,
        java_class=f"{PKG}.CreateSnapshotCmd",
        description="Creates an instant snapshot of a volume.",
    ),
    ApiCommand(
        "deleteSnapshot",
        delete,
        (Param("id", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteSnapshotCmd",
        description="Deletes a snapshot of a disk volume.",
    ),
    ApiCommand(
        "revertSnapshot",
        revert,
        (Param("id", P.UUID, required=True),),
        shape="async",
        is_async=True,
        item_key="snapshot",
        render=_snapshot_object,
        java_class=f"{PKG}.RevertSnapshotCmd",
        description="Reverts a volume to a snapshot, where its storage can (4.3's default "
        "storage cannot: the job fails and the volume is left as it was).",
    ),
    ApiCommand(
        "listSnapshots",
        list_snapshots,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("volumeid", P.UUID),
            Param("name", P.STRING),
            Param("snapshottype", P.STRING),
            Param("intervaltype", P.STRING),
            Param(
                "state",
                P.STRING,
                extension="filters by snapshot state, as later CloudStack versions allow",
            ),
            Param("zoneid", P.UUID),
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="snapshot",
        java_class=f"{PKG}.ListSnapshotsCmd",
        description="Lists all available snapshots for the account.",
    ),
)
