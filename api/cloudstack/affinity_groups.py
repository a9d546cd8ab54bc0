"""Affinity groups: create, delete, list, the types offered, a stopped VM's groups changed, and
what deployVirtualMachine asks of them (`affinitygroupids`, `affinitygroupnames`).

Placement enforces them (commands.affinity_groups); here are the owner rules: a group belongs
to one account, and a VM joins only groups of its own account.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import (
    OWNER_PARAMS,
    limit_sql,
    named_owner,
    resolve_owner_filters,
)
from api.cloudstack.jobs import run_async
from api.cloudstack.vm_listing import vm_row, vm_view
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import affinity_groups as cmd
from domain.affinity_group import EXPLICIT_DEDICATION, TYPES, check_type
from domain.errors import InvalidParameter, PermissionDenied
from projections.affinity_groups import members_of_groups
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.affinitygroup"
ITEM = "affinitygroup"

# A domain's explicit dedication group has no account (`account_id` '').
_SELECT = (
    "SELECT g.*, a.name AS account_name, d.name AS domain_name, "
    "d.path AS domain_path FROM affinity_groups AS g "
    "LEFT JOIN accounts AS a ON a.id = g.account_id JOIN domains AS d ON d.id = g.domain_id"
)


# ---- reading -------------------------------------------------------------------------------


def group_row(call: Call, group_id: str, name: str = "id") -> dict[str, Any]:
    """A group the caller may act on: 431 when there is none, 531 when it is someone else's."""
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE g.id = %s AND g.removed = 0", (group_id,)).fetchone()
    if row is None:
        raise not_found(name, group_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the affinity group",
    )
    return dict(row)


def _by_name(call: Call, account_id: str, name: str) -> dict[str, Any] | None:
    with call.read() as cursor:
        row = cursor.execute(
            _SELECT + " WHERE g.account_id = %s AND g.name = %s AND g.removed = 0",
            (account_id, name),
        ).fetchone()
    return None if row is None else dict(row)


def render_groups(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with call.read() as cursor:
        members = members_of_groups(cursor, [r["id"] for r in rows])
    rendered = [
        {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "type": row["type"],
            "account": row["account_name"],  # a domain's dedication group has none
            "domainid": row["domain_id"],
            "domain": row["domain_name"],
            "virtualmachineIds": members.get(row["id"], []),
        }
        for row in rows
    ]
    return [{k: v for k, v in body.items() if v is not None} for body in rendered]


def group_view(call: Call, group_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE g.id = %s", (group_id,)).fetchone()
    if row is None:
        raise not_found("id", group_id)
    return render_groups(call, [dict(row)])[0]


_FILTERS = (
    ("id", "g.id = %s"),
    ("name", "g.name = %s"),
    ("type", "g.type = %s"),
    ("virtualmachineid", "g.id IN (SELECT group_id FROM affinity_group_members WHERE vm_id = %s)"),
)


def _shared_clause(call: Call) -> str:
    """Domains' explicit dedication groups a caller sees: those of their domain's line, and an
    administrator's those of their subtree too."""
    line = "substr(%s, 1, length(d.path)) = d.path"
    if call.caller.role != Role.USER:
        line += " OR substr(d.path, 1, %s) = %s"
    return f"(g.account_id = '' AND ({line}))"


def _shared_params(call: Call) -> list[Any]:
    path = call.caller.domain_path
    return [path] if call.caller.role == Role.USER else [path, len(path), path]


def list_groups(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where = ["g.removed = 0", f"(({scope.clause}) OR {_shared_clause(call)})"]
    params = [*scope.params, *_shared_params(call)]
    for key, clause in _FILTERS:
        if args[key]:
            where.append(clause)
            params.append(args[key])
    if args["keyword"]:
        clause, values = contains(("g.name",), args["keyword"])
        where.append(clause)
        params += values
    sql = _SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY g.created, g.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing(render_groups(call, [dict(r) for r in rows]), int(count))


def list_types(call: Call, args: dict[str, Any]) -> Listing:
    found = [t for t in TYPES if not args["keyword"] or args["keyword"].lower() in t.lower()]
    paging = args["paging"]
    start = int(paging.offset or 0)
    page = found[start : start + paging.limit] if paging.limit is not None else found[start:]
    return Listing([{"type": t} for t in page], len(found))


# ---- commands ------------------------------------------------------------------------------


def _job(call: Call, group_id: UUID, event: str, text: str, work: Any, creates: bool) -> Submitted:
    return run_async(
        call,
        instance_type="AffinityGroup",
        instance_id=group_id,
        event_type=event,
        description=text,
        work=work,
        creates=creates,
    )


def create(call: Call, args: dict[str, Any]) -> Submitted:
    account_id, domain_id = named_owner(call, args)
    check_type(args["type"])  # parameter errors answer at once; the name claim decides races
    if args["type"] == EXPLICIT_DEDICATION and call.caller.role == Role.USER:
        raise PermissionDenied(
            "Cannot create the affinity group: ExplicitDedication groups are an admin's"
        )
    if _by_name(call, account_id, args["name"]) is not None:
        raise InvalidParameter(
            f"Unable to create affinity group, a group with name {args['name']} already exists."
        )
    command = cmd.CreateAffinityGroup(
        uuid4(),
        args["name"],
        args["description"] or "",
        args["type"],
        UUID(account_id),
        UUID(domain_id),
    )

    def work() -> dict[str, Any]:
        cmd.create_group(call.store, command)
        return {"object": ITEM, "id": str(command.group_id)}

    text = f"Creating affinity group {command.name}"
    return _job(call, command.group_id, "AG.CREATE", text, work, creates=True)


def _named(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if args["id"] and args["name"]:
        raise InvalidParameter("Either id or name parameter must be specified, not both")
    if args["id"]:
        return group_row(call, args["id"])
    if not args["name"]:
        raise InvalidParameter(
            "Either the affinity group Id or group name must be specified to delete the group"
        )
    account_id, _domain = named_owner(call, args)
    row = _by_name(call, account_id, args["name"])
    if row is None:
        raise InvalidParameter(
            f"Unable to find affinity group: {args['name']}; failed to delete group."
        )
    return group_row(call, row["id"])


def delete(call: Call, args: dict[str, Any]) -> Submitted:
    row = _named(call, args)

    def work() -> dict[str, Any]:
        cmd.delete_group(call.store, UUID(row["id"]))
        return {"success": True}

    text = f"Deleting affinity group {row['name']}"
    return _job(call, UUID(row["id"]), "AG.DELETE", text, work, creates=False)


def chosen_groups(call: Call, args: dict[str, Any], account_id: str) -> tuple[UUID, ...]:
    """The groups named by `affinitygroupids` or `affinitygroupnames`, all of the VM's account."""
    ids, names = args.get("affinitygroupids") or (), args.get("affinitygroupnames") or ()
    if ids and names:
        raise InvalidParameter(
            "affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter"
        )
    found = [_usable(call, i, account_id) for i in dict.fromkeys(ids)]
    for name in dict.fromkeys(names):
        row = _by_name(call, account_id, name) or _domain_group_by_name(call, account_id, name)
        if row is None:
            raise InvalidParameter(f"Unable to find affinity group by name {name}")
        found.append(row)
    for row in found:
        if row["account_id"] != account_id and not _shared_with(call, row, account_id):
            raise PermissionDenied(
                f"Affinity group {row['name']} does not belong to the VM's account"
            )
    return tuple(UUID(row["id"]) for row in found)


def _usable(call: Call, group_id: str, account_id: str) -> dict[str, Any]:
    """A group the VM's account may join: its own (reached by the caller), or its domain's."""
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE g.id = %s AND g.removed = 0", (group_id,)).fetchone()
    if row is not None and row["account_id"] == "" and _shared_with(call, row, account_id):
        return dict(row)
    return group_row(call, group_id, "affinitygroupids")


def _account_path(call: Call, account_id: str) -> str:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT domain_path FROM accounts WHERE id = %s", (account_id,)
        ).fetchone()
    return row["domain_path"] if row else ""


def _shared_with(call: Call, row: dict[str, Any], account_id: str) -> bool:
    """A domain's explicit dedication group is open to every account of its subtree."""
    return row["account_id"] == "" and _account_path(call, account_id).startswith(
        row["domain_path"]
    )


def _domain_group_by_name(call: Call, account_id: str, name: str) -> dict[str, Any] | None:
    path = _account_path(call, account_id)
    with call.read() as cursor:
        rows = cursor.execute(
            _SELECT + " WHERE g.account_id = '' AND g.name = %s AND g.removed = 0", (name,)
        ).fetchall()
    return next((dict(r) for r in rows if path.startswith(r["domain_path"])), None)


def _given(call: Call, *names: str) -> bool:
    return any(key.lower() in names for key in call.raw)


def update_vm(call: Call, args: dict[str, Any]) -> Submitted:
    row = vm_row(call, args["id"])
    if not _given(call, "affinitygroupids", "affinitygroupnames"):
        raise InvalidParameter(
            "Either affinitygroupids or affinitygroupnames must be specified "
            "(an empty affinitygroupids takes the VM out of every group)"
        )
    groups = chosen_groups(call, args, row["account_id"])
    vm_id = UUID(row["id"])

    def work() -> dict[str, Any]:
        cmd.update_vm_groups(call.store, vm_id, groups)
        return {"object": "virtualmachine", "id": row["id"]}

    return run_async(
        call,
        instance_type="VirtualMachine",
        instance_id=vm_id,
        event_type="VM.AG.UPDATE",
        description=f"Updating the affinity groups of VM {row['name']}",
        work=work,
    )


# ---- the table -----------------------------------------------------------------------------


COMMANDS = (
    ApiCommand(
        "createAffinityGroup",
        create,
        (
            Param("name", P.STRING, required=True),
            Param("type", P.STRING, required=True),
            Param("description", P.STRING),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
        ),
        shape="async",
        is_async=True,
        item_key=ITEM,
        render=group_view,
        java_class=f"{PKG}.CreateAffinityGroupCmd",
        description="Creates an affinity/anti-affinity group",
    ),
    ApiCommand(
        "deleteAffinityGroup",
        delete,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
        ),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteAffinityGroupCmd",
        description="Deletes affinity group",
    ),
    ApiCommand(
        "listAffinityGroups",
        list_groups,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("type", P.STRING),
            Param("virtualmachineid", P.UUID),
        ),
        shape="list",
        item_key=ITEM,
        java_class=f"{PKG}.ListAffinityGroupsCmd",
        description="Lists affinity groups",
    ),
    ApiCommand(
        "listAffinityGroupTypes",
        list_types,
        (),
        shape="list",
        item_key="affinityGroupType",
        java_class=f"{PKG}.ListAffinityGroupTypesCmd",
        description="Lists affinity group types available",
    ),
    ApiCommand(
        "updateVMAffinityGroup",
        update_vm,
        (
            Param("id", P.UUID, required=True),
            Param("affinitygroupids", P.LIST, element=P.UUID),
            Param("affinitygroupnames", P.LIST, element=P.STRING),
        ),
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        java_class=f"{PKG}.UpdateVMAffinityGroupCmd",
        description="Updates the affinity/anti-affinity group associations of a virtual "
        "machine. The VM has to be stopped and restarted for the new properties to take effect.",
    ),
)
