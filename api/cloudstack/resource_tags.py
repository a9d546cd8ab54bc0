"""Resource tags: `createTags`, `deleteTags` (jobs, as in 4.3) and `listTags`, on every 4.3
resource type Stratus builds. The `tags` filter of other lists and the `tags` of their answers
are `api/tagging.py`'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import LIST_PROJECT_ID, OWNER_PARAMS, limit_sql, resolve_owner_filters
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType
from api.tagging import pairs, render_tag
from commands import resource_tags as cmd
from domain.errors import InvalidParameter, NotFound, PermissionDenied
from domain.resource_tags import check_tags
from projections.resource_tags import TAG_ROWS, tags_of
from stratus.db import contains, in_list

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.tag"


@dataclass(frozen=True)
class Taggable:
    """Where the resources of one 4.3 type are read: their table, the column saying when each
    came to be, what makes one current, and whether an account owns them (shared ones, zones
    and offerings, are tagged by root administrators, as their own). Parts of a VPC (its
    static routes, its ACL items) are owned through it: `in_vpc`; an item of a default ACL
    list belongs to no VPC and is shared."""

    table: str
    since: str = "created"
    current: str = "r.removed = 0"
    owned: bool = True
    in_vpc: bool = False
    key: str = "id"  # the column holding the resource's id
    on_vm: bool = False  # a VM's part (its NICs): owned through the VM, and gone with it

    def owner_sql(self) -> str:
        """The owner columns, what the resource goes with, and the FROM clause of the
        resources (`r`)."""
        parent = "r.vm_id" if self.on_vm else "NULL"
        return f"{parent} AS parent_id, {self._owner_sql()}"

    def _owner_sql(self) -> str:
        source = f"FROM {self.table} AS r"
        if self.on_vm:
            return (
                f"m.account_id AS account_id, a.domain_id, a.domain_path {source} "
                "JOIN virtual_machines AS m ON m.id = r.vm_id "
                "JOIN accounts AS a ON a.id = m.account_id"
            )
        if self.in_vpc:
            return (
                f"v.account_id AS account_id, a.domain_id, a.domain_path {source} "
                "LEFT JOIN vpcs AS v ON v.id = r.vpc_id "
                "LEFT JOIN accounts AS a ON a.id = v.account_id"
            )
        if self.owned:
            return (
                f"r.account_id, a.domain_id, a.domain_path {source} "
                "JOIN accounts AS a ON a.id = r.account_id"
            )
        return f"NULL AS account_id, NULL AS domain_id, '' AS domain_path {source}"


# Every type Stratus tags. A new family adds its line (and, when it shows tags, its answer's
# key to `api.tagging.ANSWERED`); the table and clauses come from here, never from a request.
TAGGABLE = {
    "UserVm": Taggable("virtual_machines"),
    "Template": Taggable("templates", current="r.removed = 0 AND r.format <> 'ISO'"),
    "ISO": Taggable("templates", current="r.removed = 0 AND r.format = 'ISO'"),
    "Volume": Taggable("volumes"),
    "Snapshot": Taggable("snapshots"),
    "VMSnapshot": Taggable("vm_snapshots"),
    "Network": Taggable("networks"),
    "SecurityGroup": Taggable("security_groups"),
    "PublicIpAddress": Taggable("public_ips", since="allocated", current="r.state <> 'Free'"),
    "PortForwardingRule": Taggable("network_rules", current="r.kind = 'PortForwarding'"),
    "FirewallRule": Taggable("network_rules", current="r.kind IN ('Firewall', 'FirewallEgress')"),
    "LoadBalancer": Taggable("network_rules", current="r.kind = 'LoadBalancing'"),
    "RemoteAccessVpn": Taggable("remote_access_vpns", current="r.state <> 'Removed'"),
    "Vpc": Taggable("vpcs"),
    # A NIC's id is its VM's and network's; a NIC plugged again is a new one (`plugged`).
    "Nic": Taggable("vm_nics", since="plugged", key="nic_id", on_vm=True),
    # A project is owned by its own account, so its members reach it as they reach what it owns.
    "Project": Taggable("projects"),
    "StaticRoute": Taggable("static_routes", current="r.state <> 'Revoke'", in_vpc=True),
    "NetworkACL": Taggable("network_acl_items", current="r.state <> 'Revoke'", in_vpc=True),
    "Zone": Taggable("zones", owned=False),
    "Storage": Taggable("storage_pools", owned=False),
    "ServiceOffering": Taggable(
        "service_offerings", current="r.removed = 0 AND r.is_system = 0", owned=False
    ),
}


def resource_type(given: str) -> str:
    """4.3's resource type name, matched in any case; 431 for one not tagged here."""
    for name in TAGGABLE:
        if name.lower() == given.lower():
            return name
    raise InvalidParameter(
        f"Invalid resource type {given}: tags are kept for {', '.join(TAGGABLE)}"
    )


def _targets(call: Call, kind: str, ids: list[str]) -> tuple[cmd.TagTarget, ...]:
    """The resources named, each the caller may tag (431 one not there, 531 one it may not)."""
    if not ids:
        raise InvalidParameter("Unable to tag: no resource ids were given")
    spec = TAGGABLE[kind]
    owner = spec.owner_sql()
    with call.read() as cursor:
        among, params = in_list(cursor, f"r.{spec.key}", sorted(set(ids)))
        rows = cursor.execute(
            f"SELECT r.{spec.key} AS id, r.{spec.since} AS since, {owner} "
            f"WHERE {among} AND {spec.current}",
            params,
        ).fetchall()
    found = {row["id"]: row for row in rows}
    for resource_id in ids:
        if resource_id not in found:
            raise NotFound(
                f"Unable to find resource by id {resource_id} and type {kind}",
                resource_ids=(resource_id,),
            )
    return tuple(_target(call, kind, found[resource_id]) for resource_id in dict.fromkeys(ids))


def _target(call: Call, kind: str, row: dict[str, Any]) -> cmd.TagTarget:
    caller = call.caller
    if row["account_id"] is None:  # a shared resource: the root administrators' to tag
        if caller.role != Role.ROOT_ADMIN:
            raise PermissionDenied(f"Only root administrators may tag a {kind}")
        account_id, domain_id = caller.account_id, caller.domain_id
    else:
        check_reach(
            caller,
            account_id=row["account_id"],
            domain_path=row["domain_path"],
            what=f"the {kind} {row['id']}",
        )
        account_id, domain_id = row["account_id"], row["domain_id"]
    parent = UUID(row["parent_id"]) if row["parent_id"] else None
    return cmd.TagTarget(
        kind, UUID(row["id"]), str(row["since"] or ""), UUID(account_id), UUID(domain_id), parent
    )


def _current(call: Call, targets: tuple[cmd.TagTarget, ...]) -> dict[str, dict[str, str]]:
    """The tags the resources have now: resource id → {key: value}."""
    with call.read() as cursor:
        found = tags_of(cursor, [str(target.resource_id) for target in targets])
    return {key: {row["tag_key"]: row["value"] for row in rows} for key, rows in found.items()}


def create(call: Call, args: dict[str, Any]) -> Submitted:
    kind = resource_type(args["resourcetype"])
    tags = check_tags(pairs(args["tags"]))
    targets = _targets(call, kind, args["resourceids"])
    for resource_id, current in _current(call, targets).items():
        for key in tags:
            if key in current:
                raise InvalidParameter(
                    f"A tag with key {key} already exists on {kind} {resource_id}"
                )
    command = cmd.CreateTags(targets, tags, args["customer"] or "")
    return run_async(
        call,
        instance_type=kind,
        instance_id=targets[0].resource_id,
        event_type="CREATE_TAGS",
        description=f"creating tags on {kind} {', '.join(args['resourceids'])}",
        work=lambda: (cmd.create_tags(call.store, command), {"success": True})[1],
    )


def _matching(tags: dict[str, str], wanted: dict[str, str | None] | None) -> bool:
    """Whether a resource's tags hold one that `wanted` names (any, when it names none)."""
    if wanted is None:
        return bool(tags)
    return any(key in tags and value in (None, tags[key]) for key, value in wanted.items())


def delete(call: Call, args: dict[str, Any]) -> Submitted:
    kind = resource_type(args["resourcetype"])
    wanted = pairs(args["tags"], value_needed=False) or None
    targets = _targets(call, kind, args["resourceids"])
    if not any(_matching(tags, wanted) for tags in _current(call, targets).values()):
        raise InvalidParameter("Unable to find any tag of the given resources to delete")
    command = cmd.DeleteTags(targets, wanted)
    return run_async(
        call,
        instance_type=kind,
        instance_id=targets[0].resource_id,
        event_type="DELETE_TAGS",
        description=f"deleting tags of {kind} {', '.join(args['resourceids'])}",
        work=lambda: (cmd.delete_tags(call.store, command), {"success": True})[1],
    )


def list_tags(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = [scope.clause], list(scope.params)
    if args["resourcetype"]:
        where.append("g.resource_type = %s")
        params.append(resource_type(args["resourcetype"]))
    for key, column in (
        ("resourceid", "g.resource_id"),
        ("key", "g.tag_key"),
        ("value", "g.value"),
        ("customer", "g.customer"),
    ):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args["keyword"]:
        clause, values = contains(("g.tag_key", "g.value"), args["keyword"])
        where.append(clause)
        params += values
    condition = " WHERE " + " AND ".join(where)
    source = " FROM resource_tags AS g JOIN accounts AS a ON a.id = g.account_id"
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n{source}{condition}", params).fetchone()["n"]
        rows = cursor.execute(
            TAG_ROWS
            + condition
            + " ORDER BY g.resource_type, g.resource_id, g.tag_key"
            + limit_sql(args["paging"]),
            params,
        ).fetchall()
    return Listing([render_tag(row) for row in rows], int(count))


RESOURCE_IDS = Param("resourceids", P.LIST, element=P.UUID, required=True)
RESOURCE_TYPE = Param("resourcetype", P.STRING, required=True)

COMMANDS = (
    ApiCommand(
        "createTags",
        create,
        (
            RESOURCE_IDS,
            RESOURCE_TYPE,
            Param("tags", P.MAP, required=True),
            Param("customer", P.STRING),
        ),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.CreateTagsCmd",
        description="Creates resource tag(s)",
    ),
    ApiCommand(
        "deleteTags",
        delete,
        (RESOURCE_IDS, RESOURCE_TYPE, Param("tags", P.MAP)),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteTagsCmd",
        description="Deleting resource tag(s)",
    ),
    ApiCommand(
        "listTags",
        list_tags,
        (
            *OWNER_PARAMS,
            Param("resourcetype", P.STRING),
            Param("resourceid", P.STRING),
            Param("key", P.STRING),
            Param("value", P.STRING),
            Param("customer", P.STRING),
            LIST_PROJECT_ID,
        ),
        shape="list",
        item_key="tag",
        java_class=f"{PKG}.ListTagsCmd",
        description="List resource tag(s)",
    ),
)
