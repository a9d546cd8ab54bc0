"""Snapshot policies: createSnapshotPolicy (one per volume and interval type; a second replaces
the first), listSnapshotPolicies and deleteSnapshotPolicies. The scheduler that takes the
snapshots is `entrypoint/snapshot_scheduler.py`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import check_reach, list_scope
from api.cloudstack.common import limit_sql
from api.cloudstack.volumes import volume_row
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType, not_found
from commands import snapshot_policies as cmd
from domain.errors import InvalidParameter
from domain.snapshot_policy import check_max_snaps
from domain.snapshot_schedule import INTERVALS, parse_schedule
from projections.snapshot_policies import POLICY_SELECT, policy_by_id

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.snapshot"
READY = "Ready"


def policy_row(call: Call, the_id: str) -> dict[str, Any]:
    """A policy the caller may act on: 431 when there is none, 531 when it is someone else's."""
    with call.read() as cursor:
        row = policy_by_id(cursor, the_id)
    if row is None:
        raise not_found("id", the_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the snapshot policy",
    )
    return row


def render_policy(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "volumeid": row["volume_id"],
        "schedule": row["schedule"],
        "intervaltype": INTERVALS.index(row["interval_type"]),  # 4.3 answers the ordinal
        "maxsnaps": int(row["max_snaps"]),
        "timezone": row["timezone"],
    }


def create(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    volume = volume_row(call, args["volumeid"])
    if volume["state"] != READY:
        raise InvalidParameter(
            f"VolumeId: {volume['id']} is not in {READY} state but {volume['state']}. "
            "Cannot take snapshot."
        )
    plan = parse_schedule(args["intervaltype"], args["schedule"], args["timezone"])
    command = cmd.DefineSnapshotPolicy(
        UUID(volume["id"]),
        plan,
        args["schedule"],
        check_max_snaps(args["maxsnaps"], plan.interval),
        call.now(),
    )
    outcome = call.write(cmd.define_policy, command)
    return render_policy(policy_row(call, str(outcome.id)))


def list_policies(call: Call, args: dict[str, Any]) -> Listing:
    """The policies of a volume, or one by id (both checked for reach); else the caller's own."""
    where, params = ["p.removed = 0"], []
    if args["volumeid"]:
        volume_row(call, args["volumeid"])  # 531 for a volume of someone else's
        where.append("p.volume_id = %s")
        params.append(args["volumeid"])
    if args["id"]:
        policy_row(call, args["id"])
        where.append("p.id = %s")
        params.append(args["id"])
    if not (args["volumeid"] or args["id"]):
        scope = list_scope(call.caller, prefix="a.", account_column="id")
        where.append(scope.clause)
        params += scope.params
    sql = POLICY_SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY p.volume_id, p.interval_type, p.id" + limit_sql(args["paging"]),
            params,
        ).fetchall()
    return Listing([render_policy(dict(r)) for r in rows], int(count))


def delete(call: Call, args: dict[str, Any]) -> None:
    wanted = [args["id"]] if args["id"] else []
    wanted += [i for i in args["ids"] or [] if i not in wanted]
    if not wanted:
        raise InvalidParameter("No policy id (or list of ids) specified.")
    rows = [policy_row(call, i) for i in wanted]
    call.write(cmd.delete_policies, [UUID(r["id"]) for r in rows])


COMMANDS = (
    ApiCommand(
        "createSnapshotPolicy",
        create,
        (
            Param("volumeid", P.UUID, required=True),
            Param("intervaltype", P.STRING, required=True),
            Param("schedule", P.STRING, required=True),
            Param("timezone", P.STRING, required=True),
            Param("maxsnaps", P.INTEGER, required=True),
        ),
        item_key="snapshotpolicy",
        java_class=f"{PKG}.CreateSnapshotPolicyCmd",
        description="Creates a snapshot policy for the account.",
    ),
    ApiCommand(
        "listSnapshotPolicies",
        list_policies,
        (
            Param(
                "volumeid",
                P.UUID,
                extension="optional, as later CloudStack versions allow: without it (or `id`), "
                "the caller's own policies",
            ),
            Param("id", P.UUID, extension="one policy by id, as later CloudStack versions allow"),
        ),
        shape="list",
        item_key="snapshotpolicy",
        java_class=f"{PKG}.ListSnapshotPoliciesCmd",
        description="Lists snapshot policies.",
    ),
    ApiCommand(
        "deleteSnapshotPolicies",
        delete,
        (Param("id", P.UUID), Param("ids", P.LIST, element=P.UUID)),
        shape="success",
        java_class=f"{PKG}.DeleteSnapshotPoliciesCmd",
        description="Deletes snapshot policies for the account.",
    ),
)
