"""Instance groups: create, update (rename), delete, list; and the group `deployVirtualMachine`
and `updateVirtualMachine` put a VM in by name (made when the account has none of that name)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    limit_sql,
    named_owner,
    resolve_owner_filters,
)
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.dispatch import ApiCommand, Call, Listing
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from commands import instance_groups as cmd
from domain.instance_group import check_name
from projections.instance_groups import GROUP_SELECT, group_by_id
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.vmgroup"


def group_row(call: Call, group_id: str) -> dict[str, Any]:
    """A group the caller may act on: 431 when there is none, 531 when it is someone else's."""
    with call.read() as cursor:
        row = group_by_id(cursor, group_id)
    if row is None:
        raise not_found("id", group_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the instance group",
    )
    return row


def render_group(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "created": format_stored_date(row["created"]),
    }


def _view(call: Call, group_id: str) -> dict[str, Any]:
    return render_group(group_row(call, group_id))


def create(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    account_id, domain_id = named_owner(call, args)
    command = cmd.CreateInstanceGroup(
        uuid4(), check_name(args["name"]), UUID(account_id), UUID(domain_id)
    )
    outcome = call.write(cmd.create_group, command)
    return _view(call, str(outcome.id))


def update(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = group_row(call, args["id"])
    if args["name"] is not None:
        command = cmd.RenameInstanceGroup(UUID(row["id"]), check_name(args["name"]))
        call.write(cmd.rename_group, command)
    return _view(call, row["id"])


def delete(call: Call, args: dict[str, Any]) -> None:
    row = group_row(call, args["id"])
    call.write(lambda store, group_id: cmd.delete_group(store, group_id), UUID(row["id"]))


def list_groups(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["g.removed = 0", scope.clause], list(scope.params)
    if args["id"]:
        where.append("g.id = %s")
        params.append(args["id"])
    for key in ("name", "keyword"):  # 4.3 matches both in part
        if args[key]:
            clause, values = contains(("g.name",), args[key])
            where.append(clause)
            params += values
    sql = " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(
            "SELECT count(*) AS n FROM instance_groups AS g "
            "JOIN accounts AS a ON a.id = g.account_id" + sql,
            params,
        ).fetchone()["n"]
        rows = cursor.execute(
            GROUP_SELECT + sql + " ORDER BY g.created, g.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render_group(dict(r)) for r in rows], int(count))


def deploy_join(
    args: dict[str, Any], vm_id: UUID, owner: tuple[str, str]
) -> cmd.JoinInstanceGroup | None:
    """The group `deployVirtualMachine group=` puts the new VM in (none when not given)."""
    if not args["group"]:
        return None
    return cmd.JoinInstanceGroup(vm_id, UUID(owner[0]), UUID(owner[1]), check_name(args["group"]))


def place_vm(call: Call, vm_id: str, group_name: str) -> None:
    """`updateVirtualMachine group=`: into the owner's group of that name (made when new);
    an empty name takes the VM out of its group."""
    name = check_name(group_name) if group_name else ""
    call.write(cmd.place_vm, cmd.PlaceVm(UUID(vm_id), name))


COMMANDS = (
    ApiCommand(
        "createInstanceGroup",
        create,
        (
            Param("name", P.STRING, required=True),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            OWNER_PROJECT_ID,
        ),
        item_key="instancegroup",
        java_class=f"{PKG}.CreateVMGroupCmd",
        description="Creates a vm group",
    ),
    ApiCommand(
        "updateInstanceGroup",
        update,
        (Param("id", P.UUID, required=True), Param("name", P.STRING)),
        item_key="instancegroup",
        java_class=f"{PKG}.UpdateVMGroupCmd",
        description="Updates a vm group",
    ),
    ApiCommand(
        "deleteInstanceGroup",
        delete,
        (Param("id", P.UUID, required=True),),
        shape="success",
        java_class=f"{PKG}.DeleteVMGroupCmd",
        description="Deletes a vm group",
    ),
    ApiCommand(
        "listInstanceGroups",
        list_groups,
        (*OWNER_PARAMS, Param("id", P.UUID), Param("name", P.STRING), LIST_PROJECT_ID),
        shape="list",
        item_key="instancegroup",
        java_class=f"{PKG}.ListVMGroupsCmd",
        description="Lists vm groups",
    ),
)
