"""Security groups: create, delete, list (rules nested), authorize and revoke ingress and egress
rules, and what deployVirtualMachine asks of them (`securitygroupids`, `securitygroupnames`).

Security groups are enabled in Basic zones, as CloudStack's basic networking offers them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    OWNER_PARAMS,
    limit_sql,
    named_owner,
    resolve_owner_filters,
)
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import security_groups as cmd
from domain.errors import InvalidParameter, NotFound
from domain.security_group import (
    DEFAULT_GROUP,
    EGRESS,
    INGRESS,
    RuleSpec,
    default_group_id,
    expand_rules,
)
from projections.security_groups import groups_of_vms, is_allowed_by_others, rules_of_groups
from stratus.db import Cursor, contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.securitygroup"
NOT_ENABLED = "Can't create vm with security groups; security group feature is not enabled per zone"

_SELECT = (
    "SELECT g.*, a.name AS account_name, a.domain_name AS domain_name, "
    "a.domain_path AS domain_path FROM security_groups AS g "
    "JOIN accounts AS a ON a.id = g.account_id"
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
        what="the security group",
    )
    return dict(row)


def _by_name(call: Call, account: tuple[str, str], name: str) -> dict[str, Any] | None:
    """An account's live group by name; the `default` group is made when first asked for."""
    account_id, domain_id = account
    if name == DEFAULT_GROUP:
        call.write(
            lambda store, _: cmd.ensure_default_group(store, UUID(account_id), UUID(domain_id)),
            None,
        )
    with call.read() as cursor:
        row = cursor.execute(
            _SELECT + " WHERE g.account_id = %s AND g.name = %s AND g.removed = 0",
            (account_id, name),
        ).fetchone()
    return None if row is None else dict(row)


def _named_group(call: Call, args: dict[str, Any], command: str) -> dict[str, Any]:
    """`securitygroupid` or `securitygroupname` (of the caller, or of `account`+`domainid`)."""
    if args["securitygroupid"] and args["securitygroupname"]:
        raise InvalidParameter(
            "securitygroupid parameter is mutually exclusive with securitygroupname parameter"
        )
    if args["securitygroupid"]:
        return group_row(call, args["securitygroupid"], "securitygroupid")
    if not args["securitygroupname"]:
        raise InvalidParameter(
            f"Either securitygroupid or securitygroupname is required by {command} command"
        )
    account_id, domain_id = named_owner(call, args)
    row = _by_name(call, (account_id, domain_id), args["securitygroupname"])
    if row is None:
        raise NotFound(f"Unable to find security group by name {args['securitygroupname']}")
    return row


def _render_rule(row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"ruleid": row["id"], "protocol": row["protocol"], "tags": []}
    if row["protocol"] in ("tcp", "udp"):
        body.update(startport=int(row["start_port"]), endport=int(row["end_port"]))
    elif row["protocol"] == "icmp":
        body.update(icmptype=int(row["start_port"]), icmpcode=int(row["end_port"]))
    if row["cidr"]:
        body["cidr"] = row["cidr"]
    else:
        body.update(securitygroupname=row["allowed_group_name"], account=row["allowed_account"])
    return body


def render_groups(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with call.read() as cursor:
        rules = rules_of_groups(cursor, [r["id"] for r in rows])
    items = []
    for row in rows:
        own = rules.get(row["id"], [])
        items.append(
            {
                "id": row["id"],
                "name": row["name"],
                "description": row["description"],
                "account": row["account_name"],
                "domainid": row["domain_id"],
                "domain": row["domain_name"],
                "ingressrule": [_render_rule(r) for r in own if r["direction"] == INGRESS],
                "egressrule": [_render_rule(r) for r in own if r["direction"] == EGRESS],
                "tags": [],
            }
        )
    return items


def _group(call: Call, group_id: str) -> dict[str, Any]:
    return render_groups(call, [group_row(call, group_id)])[0]


def list_groups(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["g.removed = 0", scope.clause], list(scope.params)
    if args["id"]:
        where.append("g.id = %s")
        params.append(args["id"])
    if args["securitygroupname"]:
        where.append("g.name = %s")
        params.append(args["securitygroupname"])
    if args["keyword"]:
        clause, values = contains(("g.name",), args["keyword"])
        where.append(clause)
        params += values
    if args["virtualmachineid"]:
        where.append("g.id IN (SELECT group_id FROM security_group_members WHERE vm_id = %s)")
        params.append(args["virtualmachineid"])
    narrow(args, "SecurityGroup", "g.id", where, params)
    sql = _SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY g.created, g.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing(render_groups(call, [dict(r) for r in rows]), int(count))


def vm_groups(cursor: Cursor, vm_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The `securitygroup` list of each VM (id, name, description)."""
    found = groups_of_vms(cursor, vm_ids)
    return {
        vm: [{"id": g["id"], "name": g["name"], "description": g["description"]} for g in groups]
        for vm, groups in found.items()
    }


# ---- commands ------------------------------------------------------------------------------


def create(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    account_id, domain_id = named_owner(call, args)
    command = cmd.CreateSecurityGroup(
        uuid4(), args["name"], args["description"] or "", UUID(account_id), UUID(domain_id)
    )
    outcome = call.write(cmd.create_group, command)
    return _group(call, str(outcome.id))


def delete(call: Call, args: dict[str, Any]) -> None:
    if args["id"] and args["name"]:
        raise InvalidParameter("Either id or name parameter must be specified, not both")
    if args["id"]:
        row = group_row(call, args["id"])
    elif args["name"]:
        account_id, _domain = named_owner(call, args)
        with call.read() as cursor:
            found = cursor.execute(
                _SELECT + " WHERE g.account_id = %s AND g.name = %s AND g.removed = 0",
                (account_id, args["name"]),
            ).fetchone()
        if found is None:
            raise NotFound(f"Unable to find network group {args['name']}")
        row = group_row(call, found["id"])
    else:
        raise InvalidParameter("Either id or name parameter must be specified")
    with call.read() as cursor:
        allowed = is_allowed_by_others(cursor, row["id"])
    call.write(
        lambda store, _: cmd.delete_group(store, UUID(row["id"]), allowed_by_others=allowed), None
    )


def _spec(call: Call, args: dict[str, Any], owner: dict[str, Any]) -> RuleSpec:
    groups = []
    for entry in args["usersecuritygrouplist"] or ():
        account, name = entry.get("account"), entry.get("group")
        if not account or not name:
            raise InvalidParameter(
                "Invalid user security group list: each entry needs an account and a group"
            )
        with call.read() as cursor:
            found = cursor.execute(
                "SELECT id FROM accounts WHERE name = %s AND domain_id = %s AND removed = 0",
                (account, owner["domain_id"]),
            ).fetchone()
        target = None if found is None else _by_name(call, (found["id"], owner["domain_id"]), name)
        if target is None:
            raise InvalidParameter(f"Unable to find security group {name} for account {account}")
        groups.append((target["id"], name, account))
    return RuleSpec(
        args["protocol"],
        args["startport"],
        args["endport"],
        args["icmptype"],
        args["icmpcode"],
        tuple(args["cidrlist"] or ()),
        tuple(groups),
    )


def _authorize(direction: str, command: str) -> Any:
    def handler(call: Call, args: dict[str, Any]) -> Submitted:
        row = _named_group(call, args, command)
        spec = _spec(call, args, row)
        expand_rules(spec)  # a malformed rule is a parameter error: answered at once
        rule_ids = tuple(uuid4() for _ in range(len(spec.cidrs) + len(spec.groups) or 1))
        request = cmd.AuthorizeRules(UUID(row["id"]), direction, spec, rule_ids)

        def work() -> dict[str, Any]:
            cmd.authorize(call.store, request)
            return {"object": "securitygroup", "id": row["id"]}

        event = "SG.AUTH.INGRESS" if direction == INGRESS else "SG.AUTH.EGRESS"
        return _job(call, row["id"], event, f"Authorizing {direction} rules of {row['name']}", work)

    return handler


def _rule_group(call: Call, rule_id: str, direction: str) -> dict[str, Any]:
    with call.read() as cursor:
        found = cursor.execute(
            "SELECT group_id FROM security_group_rules WHERE id = %s AND direction = %s",
            (rule_id, direction),
        ).fetchone()
    if found is None:
        raise not_found("id", rule_id)
    return group_row(call, found["group_id"])


def _revoke(direction: str) -> Any:
    def handler(call: Call, args: dict[str, Any]) -> Submitted:
        row = _rule_group(call, args["id"], direction)

        def work() -> dict[str, Any]:
            cmd.revoke(call.store, UUID(row["id"]), args["id"], direction)
            return {"success": True}

        event = "SG.REVOKE.INGRESS" if direction == INGRESS else "SG.REVOKE.EGRESS"
        return _job(call, row["id"], event, f"Revoking a {direction} rule of {row['name']}", work)

    return handler


def _job(call: Call, group_id: str, event: str, text: str, work: Any) -> Submitted:
    return run_async(
        call,
        instance_type="SecurityGroup",
        instance_id=UUID(group_id),
        event_type=event,
        description=text,
        work=work,
    )


# ---- what deployVirtualMachine asks --------------------------------------------------------


def deploy_groups(
    call: Call, args: dict[str, Any], zone: dict[str, Any], owner: tuple[str, str]
) -> tuple[UUID, ...] | None:
    """The groups a new VM joins: those named (by id or by name, the owner's own), or the
    owner's `default` group; None in a zone without security groups (naming any is refused)."""
    ids, names = args.get("securitygroupids") or (), args.get("securitygroupnames") or ()
    if ids and names:
        raise InvalidParameter(
            "securitygroupids parameter is mutually exclusive with securitygroupnames parameter"
        )
    if zone["network_type"] != "Basic":
        if ids or names:
            raise InvalidParameter(NOT_ENABLED)
        return None
    found = [group_row(call, i, "securitygroupids") for i in dict.fromkeys(ids)]
    for name in dict.fromkeys(names):
        row = _by_name(call, owner, name)
        if row is None:
            raise InvalidParameter(f"Unable to find group by name {name}")
        found.append(row)
    for row in found:
        if row["account_id"] != owner[0]:
            raise InvalidParameter(
                f"Security group {row['name']} does not belong to the VM's account"
            )
    if not found:
        return (default_group_id(UUID(owner[0])),)
    return tuple(UUID(row["id"]) for row in found)


def assigned_groups(
    call: Call, args: dict[str, Any], with_groups: bool, account: Any
) -> tuple[UUID, ...] | None:
    """The groups a VM handed to `account` joins: those named (the account's own), or its
    `default` group (empty); None in a zone without security groups (naming any is refused,
    as 4.3 does)."""
    ids = list(dict.fromkeys(args.get("securitygroupids") or ()))
    if not with_groups:
        if ids:
            raise InvalidParameter(
                "Can't move vm with security groups; security group feature is not enabled in "
                "this zone"
            )
        return None
    rows = [group_row(call, group_id, "securitygroupids") for group_id in ids]
    for row in rows:
        if row["account_id"] != account["id"]:
            raise InvalidParameter(
                f"Security group {row['name']} does not belong to account {account['name']}"
            )
    return tuple(UUID(row["id"]) for row in rows)


# ---- the table -----------------------------------------------------------------------------

GROUP_PARAMS = (
    Param("securitygroupid", P.UUID),
    Param("securitygroupname", P.STRING),
    Param("account", P.STRING),
    Param("domainid", P.UUID),
)
RULE_PARAMS = (
    Param("protocol", P.STRING),
    Param("startport", P.INTEGER),
    Param("endport", P.INTEGER),
    Param("icmptype", P.INTEGER),
    Param("icmpcode", P.INTEGER),
    Param("cidrlist", P.LIST, element=P.STRING),
    Param("usersecuritygrouplist", P.MAP),
)


def _async(name: str, handler: Any, params: tuple, java: str, text: str, key: str) -> ApiCommand:
    return ApiCommand(
        name,
        handler,
        params,
        shape="async",
        is_async=True,
        item_key=key,
        render=_group if key else None,
        java_class=f"{PKG}.{java}",
        description=text,
    )


COMMANDS = (
    ApiCommand(
        "createSecurityGroup",
        create,
        (
            Param("name", P.STRING, required=True),
            Param("description", P.STRING),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            OWNER_PROJECT_ID,
        ),
        item_key="securitygroup",
        java_class=f"{PKG}.CreateSecurityGroupCmd",
        description="Creates a security group",
    ),
    ApiCommand(
        "deleteSecurityGroup",
        delete,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            OWNER_PROJECT_ID,
        ),
        shape="success",
        java_class=f"{PKG}.DeleteSecurityGroupCmd",
        description="Deletes security group",
    ),
    ApiCommand(
        "listSecurityGroups",
        list_groups,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("securitygroupname", P.STRING),
            Param("virtualmachineid", P.UUID),
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="securitygroup",
        java_class=f"{PKG}.ListSecurityGroupsCmd",
        description="Lists security groups",
    ),
    _async(
        "authorizeSecurityGroupIngress",
        _authorize(INGRESS, "authorizeSecurityGroupIngress"),
        (*GROUP_PARAMS, *RULE_PARAMS, OWNER_PROJECT_ID),
        "AuthorizeSecurityGroupIngressCmd",
        "Authorizes a particular ingress rule for this security group",
        "securitygroup",
    ),
    _async(
        "authorizeSecurityGroupEgress",
        _authorize(EGRESS, "authorizeSecurityGroupEgress"),
        (*GROUP_PARAMS, *RULE_PARAMS, OWNER_PROJECT_ID),
        "AuthorizeSecurityGroupEgressCmd",
        "Authorizes a particular egress rule for this security group",
        "securitygroup",
    ),
    _async(
        "revokeSecurityGroupIngress",
        _revoke(INGRESS),
        (Param("id", P.UUID, required=True),),
        "RevokeSecurityGroupIngressCmd",
        "Deletes a particular ingress rule from this security group",
        "",
    ),
    _async(
        "revokeSecurityGroupEgress",
        _revoke(EGRESS),
        (Param("id", P.UUID, required=True),),
        "RevokeSecurityGroupEgressCmd",
        "Deletes a particular egress rule from this security group",
        "",
    ),
)
