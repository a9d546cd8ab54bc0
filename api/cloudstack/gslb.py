"""Global server load balancing: createGlobalLoadBalancerRule, updateGlobalLoadBalancerRule,
deleteGlobalLoadBalancerRule, listGlobalLoadBalancerRules, assignToGlobalLoadBalancerRule and
removeFromGlobalLoadBalancerRule (jobs of the management server, as in 4.3). Checked at once;
the DNS answers of a rule's name come from its members (domain/gslb.py `answers`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    OWNER_PARAMS,
    limit_sql,
    named_owner,
    resolve_owner_filters,
)
from api.cloudstack.jobs import run_async
from api.cloudstack.load_balancers import render_balancer
from api.cloudstack.network_rules import SELECT, rule_for
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import gslb as cmd
from domain import gslb
from domain.errors import InvalidParameter
from domain.gslb import GlobalLoadBalancer
from domain.network_rule_checks import RuleKind
from projections.gslb import gone_members, gslb_rows, members_of
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.region.ha.gslb"
LB = RuleKind.LOAD_BALANCING
OBJECT = "globalloadbalancer"


def _render(call: Call, row: dict[str, Any], members: list[dict[str, Any]]) -> dict[str, Any]:
    rule_ids = [m["rule_id"] for m in members]
    balancers = []
    if rule_ids:
        marks = ", ".join(["%s"] * len(rule_ids))
        with call.read() as cursor:
            found = cursor.execute(
                SELECT + f" WHERE r.id IN ({marks}) ORDER BY r.created, r.id", rule_ids
            ).fetchall()
        balancers = [render_balancer(dict(r)) for r in found]
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "regionid": row["region_id"],
        "gslbdomainname": row["gslb_domain"],
        "gslbservicetype": row["service_type"],
        "gslblbmethod": row["lb_method"],
        "gslbstickysessionmethodname": row["sticky_method"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "loadbalancerrule": balancers,
    }


def _row(call: Call, gslb_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        found = gslb_rows(cursor, "g.id = %s", [gslb_id])
    if not found:
        raise not_found("id", gslb_id)
    check_reach(
        call.caller,
        account_id=found[0]["account_id"],
        domain_path=found[0]["domain_path"],
        what="the global load balancer rule",
    )
    return found[0]


def render_one(call: Call, gslb_id: str) -> dict[str, Any]:
    row = _row(call, gslb_id)
    with call.read() as cursor:
        members = members_of(cursor, [row["id"]])[row["id"]]
    return _render(call, row, members)


def _job(
    call: Call, gslb_id: UUID | None, event: str, text: str, work: Any, creates: bool = False
) -> Submitted:
    return run_async(
        call,
        instance_type="GlobalLoadBalancerRule",
        instance_id=gslb_id,
        event_type=event,
        description=text,
        work=work,
        creates=creates,
    )


def create(call: Call, args: dict[str, Any]) -> Submitted:
    if not args["name"].strip():
        raise InvalidParameter("A global load balancer rule needs a name")
    account_id, domain_id = named_owner(call, args)
    command = cmd.CreateGslb(
        args["name"].strip(),
        args["description"] or "",
        args["regionid"],
        gslb.domain_name(args["gslbdomainname"]),
        gslb.service_type(args["gslbservicetype"]),
        gslb.method(args["gslblbmethod"]),
        gslb.persistence(args["gslbstickysessionmethodname"]),
        UUID(account_id),
        UUID(domain_id),
    )
    with call.acting():
        outcome = cmd.create_gslb(call.store, command)
    call.accepted(outcome.position)

    def work() -> dict[str, Any]:
        return {"object": OBJECT, "id": str(outcome.id)}

    return _job(
        call,
        outcome.id,
        "GLOBAL.LB.CREATE",
        f"Creating global load balancer rule {command.name}",
        work,
        creates=True,
    )


def update(call: Call, args: dict[str, Any]) -> Submitted:
    row = _row(call, args["id"])
    lb_method = None if args["gslblbmethod"] is None else gslb.method(args["gslblbmethod"])
    sticky = args["gslbstickysessionmethodname"]
    sticky = None if sticky is None else gslb.persistence(sticky)
    description = args["description"]

    def work() -> dict[str, Any]:
        cmd.change_gslb(
            call.store, UUID(row["id"]), lambda r: r.update(description, lb_method, sticky)
        )
        return {"object": OBJECT, "id": row["id"]}

    text = f"Updating global load balancer rule {row['name']}"
    return _job(call, UUID(row["id"]), "GLOBAL.LB.UPDATE", text, work)


def delete(call: Call, args: dict[str, Any]) -> Submitted:
    row = _row(call, args["id"])

    def work() -> dict[str, Any]:
        cmd.delete_gslb(call.store, UUID(row["id"]))
        return {"success": True}

    text = f"Deleting global load balancer rule {row['name']}"
    return _job(call, UUID(row["id"]), "GLOBAL.LB.DELETE", text, work)


def _weights(args: dict[str, Any]) -> dict[str, int]:
    """`gslblbruleweightsmap[i].loadbalancerid=…&[i].weight=…`, by rule id."""
    found: dict[str, int] = {}
    for group in args["gslblbruleweightsmap"] or ():
        rule_id, text = group.get("loadbalancerid"), group.get("weight")
        if not rule_id or text is None:
            raise InvalidParameter(
                "gslblbruleweightsmap needs loadbalancerid and weight in each entry"
            )
        try:
            found[rule_id] = int(text)
        except ValueError:
            message = f"Invalid weight {text} given for the LB rule id: {rule_id}"
            raise InvalidParameter(message) from None
    return found


def _dry_run(call: Call, gslb_id: str, change: Any) -> None:
    """Refuse bad input before any job exists: the change, tried on a copy never saved (the
    job makes it again, checked again)."""
    rule = call.store.get(GlobalLoadBalancer, UUID(gslb_id), what="global load balancer rule")
    change(rule)


def assign(call: Call, args: dict[str, Any]) -> Submitted:
    row = _row(call, args["id"])
    weights = _weights(args)
    members, account_of = [], {}
    for rule_id in dict.fromkeys(args["loadbalancerrulelist"] or ()):
        rule = rule_for(call, str(rule_id), LB, "loadbalancerrulelist")
        member_id = UUID(rule["id"])
        account_of[member_id] = UUID(rule["account_id"])
        weight = gslb.weight(weights.pop(rule["id"], None), member_id)
        members.append(gslb.GslbMember(member_id, UUID(rule["zone_id"]), weight))
    if not members:
        raise InvalidParameter("Please specify the load balancer rules (loadbalancerrulelist)")
    if weights:
        raise InvalidParameter(
            f"gslblbruleweightsmap names load balancer rules not in loadbalancerrulelist: "
            f"{', '.join(sorted(weights))}"
        )
    held = call.store.get(GlobalLoadBalancer, UUID(row["id"]), what="global load balancer rule")
    with call.read() as cursor:
        gone = tuple(UUID(r) for r in gone_members(cursor, [str(m) for m in held.members]))
    _dry_run(call, row["id"], lambda rule: rule.assign(members, account_of, gone))

    def work() -> dict[str, Any]:
        cmd.assign(call.store, UUID(row["id"]), members, account_of, gone)
        return {"success": True}

    text = f"Assigning load balancer rules to global load balancer rule {row['name']}"
    return _job(call, UUID(row["id"]), "ASSIGN.TO.GLOBAL.LB.RULE", text, work)


def remove(call: Call, args: dict[str, Any]) -> Submitted:
    row = _row(call, args["id"])
    rule_ids = [UUID(str(r)) for r in args["loadbalancerrulelist"] or ()]
    if not rule_ids:
        raise InvalidParameter("Please specify the load balancer rules (loadbalancerrulelist)")
    _dry_run(call, row["id"], lambda rule: rule.unassign(rule_ids))

    def work() -> dict[str, Any]:
        cmd.change_gslb(call.store, UUID(row["id"]), lambda r: r.unassign(rule_ids))
        return {"success": True}

    text = f"Removing load balancer rules from global load balancer rule {row['name']}"
    return _job(call, UUID(row["id"]), "REMOVE.FROM.GLOBAL.LB.RULE", text, work)


def list_rules(call: Call, args: dict[str, Any]) -> Listing:
    owner = resolve_owner_filters(call, args)
    scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
    where, params = [scope.clause], list(scope.params)
    for key, column in (("id", "g.id"), ("regionid", "g.region_id")):
        if args[key] is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args["keyword"]:
        clause, values = contains(("g.name", "g.gslb_domain"), args["keyword"])
        where.append(clause)
        params += values
    narrow(args, "GlobalLoadBalancer", "g.id", where, params)
    clause = " AND ".join(where)
    with call.read() as cursor:
        count = len(gslb_rows(cursor, clause, params))
        rows = gslb_rows(cursor, clause, params, limit_sql(args["paging"]))
        members = members_of(cursor, [r["id"] for r in rows])
    return Listing([_render(call, r, members[r["id"]]) for r in rows], count)


def resolve(call: Call, args: dict[str, Any]) -> Listing:
    """What the service answers for a rule's name: `count` successive queries from a client
    (its address for persistence, its zone for proximity), spread over the rule's active load
    balancers by method and weight. No connection counts are known, so least connections
    spreads by weight."""
    name = gslb.domain_name(args["gslbdomainname"])
    with call.read() as cursor:
        found = gslb_rows(cursor, "g.gslb_domain = %s", [name])
    if not found:
        raise InvalidParameter(f"No global load balancer rule serves the name {name}")
    row = _row(call, found[0]["id"])
    count = 1 if args["count"] is None else args["count"]
    if not 1 <= count <= 1000:
        raise InvalidParameter(f"count is an invalid value: {count}; use 1 to 1000")
    with call.read() as cursor:
        members = members_of(cursor, [row["id"]])[row["id"]]
    live = [m for m in members if m["state"] == "Active" and m["address"]]
    sites = [gslb.Site(m["address"], m["zone_id"], m["weight"]) for m in live]
    by_address = {m["address"]: m for m in live}
    addresses = gslb.answers(
        row["lb_method"],
        row["sticky_method"],
        sites,
        count,
        client=args["clientaddress"] or "",
        client_zone=args["zoneid"] or "",
    )
    items = [
        {
            "gslbdomainname": name,
            "ipaddress": address,
            "zoneid": by_address[address]["zone_id"],
            "loadbalancerid": by_address[address]["rule_id"],
        }
        for address in addresses
    ]
    return Listing(items, len(items))


ID = Param("id", P.UUID, required=True)
RULES = Param("loadbalancerrulelist", P.LIST, required=True, element=P.UUID)

COMMANDS = (
    ApiCommand(
        "createGlobalLoadBalancerRule",
        create,
        (
            Param("name", P.STRING, required=True),
            Param("gslbdomainname", P.STRING, required=True),
            Param("gslbservicetype", P.STRING, required=True),
            Param("regionid", P.INTEGER, required=True),
            Param("description", P.STRING, max_length=4096),
            Param("gslblbmethod", P.STRING),
            Param("gslbstickysessionmethodname", P.STRING),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
        ),
        shape="async",
        is_async=True,
        item_key=OBJECT,
        render=render_one,
        java_class=f"{PKG}.CreateGlobalLoadBalancerRuleCmd",
        description="Creates a global load balancer rule",
    ),
    ApiCommand(
        "updateGlobalLoadBalancerRule",
        update,
        (
            ID,
            Param("description", P.STRING, max_length=4096),
            Param("gslblbmethod", P.STRING),
            Param("gslbstickysessionmethodname", P.STRING),
        ),
        shape="async",
        is_async=True,
        item_key=OBJECT,
        render=render_one,
        java_class=f"{PKG}.UpdateGlobalLoadBalancerRuleCmd",
        description="update global load balancer rules.",
    ),
    ApiCommand(
        "deleteGlobalLoadBalancerRule",
        delete,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteGlobalLoadBalancerRuleCmd",
        description="Deletes a global load balancer rule.",
    ),
    ApiCommand(
        "listGlobalLoadBalancerRules",
        list_rules,
        (*OWNER_PARAMS, Param("id", P.UUID), Param("regionid", P.INTEGER), *LIST_PROJECT_AND_TAGS),
        shape="list",
        item_key="globalloadbalancerrule",
        java_class=f"{PKG}.ListGlobalLoadBalancerRuleCmd",
        description="Lists load balancer rules.",
    ),
    ApiCommand(
        "resolveGlobalLoadBalancerName",
        resolve,
        (
            Param("gslbdomainname", P.STRING, required=True),
            Param("clientaddress", P.STRING),
            Param("zoneid", P.UUID),
            Param("count", P.INTEGER),
        ),
        shape="list",
        paged=False,
        item_key="gslbanswer",
        extension="4.3 hands a global load balancer's DNS to NetScaler and has no command to "
        "see what it answers; Stratus serves the name and shows the answers it gives",
        description="Lists the addresses the global load balancing service answers for a name",
    ),
    ApiCommand(
        "assignToGlobalLoadBalancerRule",
        assign,
        (ID, RULES, Param("gslblbruleweightsmap", P.MAP)),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.AssignToGlobalLoadBalancerRuleCmd",
        description="Assign load balancer rule or list of load balancer rules to a global load "
        "balancer rules.",
    ),
    ApiCommand(
        "removeFromGlobalLoadBalancerRule",
        remove,
        (ID, RULES),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.RemoveFromGlobalLoadBalancerRuleCmd",
        description="Removes a load balancer rule association with global load balancer rule",
    ),
)
