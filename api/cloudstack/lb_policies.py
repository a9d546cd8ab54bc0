"""A load balancer's policies: stickiness (createLBStickinessPolicy, deleteLBStickinessPolicy,
listLBStickinessPolicies), applied by the network's router with the rule set, and health checks
(createLBHealthCheckPolicy, deleteLBHealthCheckPolicy, listLBHealthCheckPolicies), which 4.3
offers on NetScaler only: a virtual router's rule is refused a health check as 4.3 refuses it,
and lists none.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from api import display
from api.cloudstack.network_rules import job_spec, rule_for, submitted, write
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.display import FOR_DISPLAY, FOR_DISPLAY_CHANGE
from api.params import Param, ParamType, not_found
from commands import network_rules as cmd
from domain.errors import InvalidParameter
from domain.lb_stickiness import check_policy
from domain.network_rule_checks import RuleKind, StickinessPolicy
from projections.network_rules import policy_rule_id, stickiness_of

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.loadbalancer"
LB = RuleKind.LOAD_BALANCING


def _owner_fields(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "lbruleid": rule["id"],
        "account": rule["account_name"],
        "domainid": rule["domain_id"],
        "domain": rule["domain_name"],
        "zoneid": rule["zone_id"],
    }


def _render_policy(policy: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    return {
        "id": policy["id"],
        "name": policy["name"],
        "description": policy["description"],
        "methodname": policy["method"],
        "params": {name: value for name, value in policy["params"]},
        "state": policy["state"],
        "fordisplay": policy["id"] not in hidden,
    }


def render_stickiness(call: Call, rule_id: str) -> dict[str, Any]:
    """A rule's stickiness answer: the rule's owner, name and state and its policies."""
    rule = rule_for(call, rule_id, LB, "lbruleid")
    with call.read() as cursor:
        policies = stickiness_of(cursor, [rule["id"]])[rule["id"]]
    hidden = display.hidden(call, [p["id"] for p in policies])
    return {
        **_owner_fields(rule),
        "name": rule["name"],
        "description": rule.get("description") or "",
        "state": rule["state"],
        "stickinesspolicy": [_render_policy(p, hidden) for p in policies],
    }


def _live_rule(call: Call, rule_id: str) -> dict[str, Any]:
    rule = rule_for(call, rule_id, LB, "lbruleid")
    if rule["state"] == "Revoke":
        raise InvalidParameter(f"Failed:  LB rule id: {rule_id} is in deleting state: ")
    return rule


def create_stickiness(call: Call, args: dict[str, Any]) -> Submitted:
    rule = _live_rule(call, args["lbruleid"])
    if not args["name"].strip():
        raise InvalidParameter("Failed to create Stickiness policy: a name is required")
    given = []
    for group in args["param"] or ():
        if "name" not in group:
            raise InvalidParameter(
                "Failed to create Stickiness policy: each param needs a name and a value "
                "(param[0].name=…&param[0].value=…)"
            )
        given.append((group["name"], group.get("value", "")))
    method, params = check_policy(rule["id"], args["methodname"], given)
    policy = StickinessPolicy(
        uuid.uuid4(), args["name"].strip(), method, params, args["description"] or ""
    )
    spec = job_spec(
        call,
        call.command.java_class,
        "LB.STICKINESSPOLICY.CREATE",
        f"Creating stickiness policy {policy.name} of load balancer {rule['name']}",
    )
    command = cmd.AddStickiness(UUID(rule["network_id"]), UUID(rule["id"]), policy, spec)
    display.hide_new(call, args, "LBStickinessPolicy", policy.id)
    return submitted(call, write(call, cmd.add_stickiness, command), creates=False)


def delete_stickiness(call: Call, args: dict[str, Any]) -> Submitted:
    with call.read() as cursor:
        rule_id = policy_rule_id(cursor, args["id"])
    if rule_id is None:
        raise InvalidParameter(f"Invalid Stickiness policy id value: {args['id']}")
    rule = rule_for(call, rule_id, LB, "id")
    spec = job_spec(
        call,
        call.command.java_class,
        "LB.STICKINESSPOLICY.DELETE",
        f"Deleting stickiness policy {args['id']}",
    )
    command = cmd.RemoveStickiness(UUID(rule["network_id"]), UUID(args["id"]), spec)
    return submitted(call, write(call, cmd.remove_stickiness, command), creates=False)


def _listed_rule(call: Call, args: dict[str, Any], finder: Any) -> dict[str, Any]:
    """The rule a policy list is about: `lbruleid`, or the rule of the policy `id`."""
    if args["lbruleid"]:
        return rule_for(call, args["lbruleid"], LB, "lbruleid")
    if args["id"]:
        with call.read() as cursor:
            rule_id = finder(cursor, args["id"])
        if rule_id is None:
            raise not_found("id", args["id"])
        return rule_for(call, rule_id, LB, "id")
    raise InvalidParameter("Please specify the load balancer rule (lbruleid) or a policy (id)")


def list_stickiness(call: Call, args: dict[str, Any]) -> Listing:
    rule = _listed_rule(call, args, policy_rule_id)
    item = render_stickiness(call, rule["id"])
    if args["id"]:
        item["stickinesspolicy"] = [p for p in item["stickinesspolicy"] if p["id"] == args["id"]]
    item["stickinesspolicy"] = display.kept(call, args, item["stickinesspolicy"])
    return Listing([item], 1)


# Health checks --------------------------------------------------------------------------------

HEALTH_LIMITS = {  # 4.3's documented ranges
    "responsetimeout": (2, 60),
    "intervaltime": (1, 20940),
    "healthythreshold": (1, 2147483647),
    "unhealthythreshold": (1, 2147483647),
}


def create_health_check(call: Call, args: dict[str, Any]) -> Submitted:
    """4.3 checks the rule and the values, then asks the rule's provider; the virtual router
    has no health check capability, so the policy is refused and nothing is recorded."""
    rule = _live_rule(call, args["lbruleid"])
    display.asked(call, args)
    for name, (low, high) in HEALTH_LIMITS.items():
        value = args[name]
        if value is not None and not low <= value <= high:
            raise InvalidParameter(f"{name} is an invalid value: {value}; use {low} to {high}")
    timeout, interval = args["responsetimeout"] or 2, args["intervaltime"] or 5
    if interval <= timeout:
        raise InvalidParameter(
            "Failed to create HealthCheck policy: interval time must be greater than the "
            "response timeout"
        )
    raise InvalidParameter(
        "Failed to create HealthCheck policy: Validation Failed (HealthCheck Policy is not "
        f"supported by LB Provider for the LB rule id :{rule['id']})"
    )


def delete_health_check(call: Call, args: dict[str, Any]) -> Submitted:
    """No virtual router's rule holds a health check policy, so no id names one."""
    raise InvalidParameter(f"Invalid HealthCheck policy id value: {args['id']}")


def list_health_checks(call: Call, args: dict[str, Any]) -> Listing:
    if args["id"]:
        raise not_found("id", args["id"])
    rule = _listed_rule(call, args, lambda cursor, policy_id: None)
    display.listed_flag(call, args["fordisplay"], "fordisplay")  # none to keep, but checked
    return Listing([{**_owner_fields(rule), "healthcheckpolicy": []}], 1)


LIST_PARAMS = (Param("id", P.UUID), Param("lbruleid", P.UUID), FOR_DISPLAY_CHANGE)

COMMANDS = (
    ApiCommand(
        "createLBStickinessPolicy",
        create_stickiness,
        (
            Param("lbruleid", P.UUID, required=True),
            Param("methodname", P.STRING, required=True),
            Param("name", P.STRING, required=True),
            Param("description", P.STRING, max_length=4096),
            Param("param", P.MAP),
            FOR_DISPLAY,
        ),
        shape="async",
        is_async=True,
        item_key="stickinesspolicies",
        render=render_stickiness,
        java_class=f"{PKG}.CreateLBStickinessPolicyCmd",
        description="Creates a Load Balancer stickiness policy ",
    ),
    ApiCommand(
        "deleteLBStickinessPolicy",
        delete_stickiness,
        (Param("id", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteLBStickinessPolicyCmd",
        description="Deletes a LB stickiness policy.",
    ),
    ApiCommand(
        "listLBStickinessPolicies",
        list_stickiness,
        LIST_PARAMS,
        shape="list",
        item_key="stickinesspolicies",
        java_class=f"{PKG}.ListLBStickinessPoliciesCmd",
        description="Lists LBStickiness policies.",
    ),
    ApiCommand(
        "createLBHealthCheckPolicy",
        create_health_check,
        (
            Param("lbruleid", P.UUID, required=True),
            Param("description", P.STRING, max_length=4096),
            Param("pingpath", P.STRING),
            Param("responsetimeout", P.INTEGER),
            Param("intervaltime", P.INTEGER),
            Param("healthythreshold", P.INTEGER),
            Param("unhealthythreshold", P.INTEGER),
            FOR_DISPLAY,
        ),
        shape="async",
        is_async=True,
        item_key="healthcheckpolicies",
        java_class=f"{PKG}.CreateLBHealthCheckPolicyCmd",
        description="Creates a Load Balancer healthcheck policy ",
    ),
    ApiCommand(
        "deleteLBHealthCheckPolicy",
        delete_health_check,
        (Param("id", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteLBHealthCheckPolicyCmd",
        description="Deletes a load balancer HealthCheck policy.",
    ),
    ApiCommand(
        "listLBHealthCheckPolicies",
        list_health_checks,
        LIST_PARAMS,
        shape="list",
        item_key="healthcheckpolicies",
        java_class=f"{PKG}.ListLBHealthCheckPoliciesCmd",
        description="Lists load balancer HealthCheck policies.",
    ),
)
