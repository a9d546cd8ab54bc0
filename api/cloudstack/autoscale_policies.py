"""Autoscale counters (root admins' catalogue of what can be measured), an account's
conditions on them and its scale-up and scale-down policies: create, delete, list, and
update for policies. All but the lists are jobs, as in 4.3.

4.3 seeds SNMP and NetScaler counters, which only a NetScaler load balancer reads; Stratus's
virtual router balancers are scaled by Stratus itself, from the disk counters the hypervisors
report (source `hypervisor`). A policy whose conditions name a counter Stratus cannot measure
is refused (431) rather than kept and never acted on.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.access import Role, check_reach
from api.cloudstack.autoscale_owned import (
    autoscale_job,
    listed_page,
    owned_row,
    owned_select,
    owner_fields,
)
from api.cloudstack.common import OWNER_PARAMS, limit_sql, named_owner
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import autoscale as cmd
from domain.autoscale import ACTIONS, DEFAULT_QUIET_TIME, OPERATORS, SOURCES, check_timing
from domain.autoscale_evaluation import MEASURED, measurable
from domain.errors import InvalidParameter, PermissionDenied
from projections.autoscale import conditions_of
from stratus.db import contains

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.autoscale"
ADMIN_PKG = "org.apache.cloudstack.api.command.admin.autoscale"

CONDITIONS = owned_select(
    "autoscale_conditions",
    ", n.name AS counter_name, n.source AS counter_source, n.value AS counter_value",
    " JOIN autoscale_counters AS n ON n.id = x.counter_id",
)
POLICIES = owned_select("autoscale_policies")


def render_counter(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "source": row["source"], "value": row["value"]}


def render_condition(row: dict[str, Any]) -> dict[str, Any]:
    counter = {
        "id": row["counter_id"],
        "name": row["counter_name"],
        "source": row["counter_source"],
        "value": row["counter_value"],
    }
    return {
        "id": row["id"],
        "counter": [counter],
        "relationaloperator": row["operator"],
        "threshold": int(row["threshold"]),
        **owner_fields(row),
    }


def render_policies(cursor: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Policies with their conditions; a condition row carries its owner's names."""
    conditions = conditions_of(cursor, [row["id"] for row in rows])
    rendered = []
    for row in rows:
        owner = owner_fields(row)
        rendered.append(
            {
                "id": row["id"],
                "action": row["action"],
                "duration": int(row["duration"]),
                "quiettime": int(row["quiet_time"]),
                "conditions": [
                    render_condition(
                        {
                            **c,
                            "account_name": row["account_name"],
                            "domain_name": row["domain_name"],
                        }
                    )
                    for c in conditions[row["id"]]
                ],
                **owner,
            }
        )
    return rendered


# Counters -----------------------------------------------------------------------------------


def counter_view(call: Call, counter_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM autoscale_counters WHERE id = %s", (counter_id,)
        ).fetchone()
    if row is None:
        raise not_found("id", counter_id)
    return render_counter(dict(row))


def create_counter(call: Call, args: dict[str, Any]) -> Submitted:
    source = args["source"].lower()
    if source not in SOURCES:
        raise InvalidParameter(f"The Source {source} does not exist; Unable to create Counter")
    if source == "hypervisor" and args["value"] not in MEASURED:
        raise InvalidParameter(
            f"The hypervisor counter {args['value']} does not exist; it is one of "
            + ", ".join(MEASURED)
        )
    command = cmd.CreateCounter(uuid4(), args["name"], source, args["value"])

    def work() -> dict[str, Any]:
        cmd.create_counter(call.store, command)
        return {"object": "counter", "id": str(command.counter_id)}

    return autoscale_job(call, "Counter", command.counter_id, "COUNTER.CREATE", work, True)


def delete_counter(call: Call, args: dict[str, Any]) -> Submitted:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM autoscale_counters WHERE id = %s AND removed = 0", (args["id"],)
        ).fetchone()
    if row is None:
        raise InvalidParameter("Unable to find Counter")

    def work() -> dict[str, Any]:
        cmd.delete_counter(call.store, UUID(row["id"]))
        return {"success": True}

    return autoscale_job(call, "Counter", UUID(row["id"]), "COUNTER.DELETE", work, False)


def list_counters(call: Call, args: dict[str, Any]) -> Listing:
    where, params = ["removed = 0"], []
    for column, given in (("id", args["id"]), ("name", args["name"])):
        if given:
            where.append(f"{column} = %s")
            params.append(given)
    if args["source"]:
        where.append("source = %s")
        params.append(args["source"].lower())
    if args["keyword"]:
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    sql = "SELECT * FROM autoscale_counters WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY created, id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render_counter(dict(r)) for r in rows], int(count))


# Conditions ---------------------------------------------------------------------------------


def condition_view(call: Call, condition_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(CONDITIONS + " WHERE x.id = %s", (condition_id,)).fetchone()
    if row is None:
        raise not_found("id", condition_id)
    return render_condition(dict(row))


def create_condition(call: Call, args: dict[str, Any]) -> Submitted:
    account_id, domain_id = named_owner(call, args)
    operator = args["relationaloperator"].upper()
    if operator not in OPERATORS:
        raise InvalidParameter(
            f"The Operator {operator} does not exist; Unable to create Condition."
        )
    with call.read() as cursor:
        counter = cursor.execute(
            "SELECT id FROM autoscale_counters WHERE id = %s AND removed = 0", (args["counterid"],)
        ).fetchone()
    if counter is None:
        raise InvalidParameter("Unable to find counter")
    command = cmd.CreateCondition(
        uuid4(), UUID(account_id), UUID(domain_id), UUID(counter["id"]), operator, args["threshold"]
    )

    def work() -> dict[str, Any]:
        cmd.create_condition(call.store, command)
        return {"object": "condition", "id": str(command.condition_id)}

    return autoscale_job(call, "Condition", command.condition_id, "CONDITION.CREATE", work, True)


def delete_condition(call: Call, args: dict[str, Any]) -> Submitted:
    row = owned_row(call, CONDITIONS, args["id"], "Condition")

    def work() -> dict[str, Any]:
        cmd.delete_condition(call.store, UUID(row["id"]))
        return {"success": True}

    return autoscale_job(call, "Condition", UUID(row["id"]), "CONDITION.DELETE", work, False)


def list_conditions(call: Call, args: dict[str, Any]) -> Listing:
    in_policy = (
        "x.id IN (SELECT condition_id FROM autoscale_policy_conditions WHERE policy_id = %s)"
    )
    filters = [("x.counter_id = %s", args["counterid"]), (in_policy, args["policyid"])]
    count, rows = listed_page(call, args, CONDITIONS, filters)
    return Listing([render_condition(r) for r in rows], count)


# Policies -----------------------------------------------------------------------------------


def policy_view(call: Call, policy_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(POLICIES + " WHERE x.id = %s", (policy_id,)).fetchone()
        if row is None:
            raise not_found("id", policy_id)
        return render_policies(cursor, [dict(row)])[0]


def _conditions(call: Call, given: list[str]) -> list[dict[str, Any]]:
    """The policy's conditions as 4.3 checks them: each found, of one account the caller
    reaches, no counter twice; and (Stratus) each counter one Stratus measures."""
    wanted = list(dict.fromkeys(str(c) for c in given))
    marks = ", ".join(["%s"] * len(wanted))
    with call.read() as cursor:
        rows = cursor.execute(
            CONDITIONS + f" WHERE x.id IN ({marks}) AND x.removed = 0", wanted
        ).fetchall()
    if len(rows) != len(wanted):
        raise InvalidParameter("Unable to find the condition specified")
    found = [dict(r) for r in rows]
    for row in found:
        check_reach(
            call.caller,
            account_id=row["account_id"],
            domain_path=row["domain_path"],
            what="Condition",
        )
    if len({row["account_id"] for row in found}) > 1:
        raise PermissionDenied("The conditions of a policy must belong to one account")
    if len({row["counter_id"] for row in found}) != len(found):
        raise InvalidParameter(
            "atleast two conditions in the conditionids have the same counter. It is not right "
            "to apply two different conditions for the same counter"
        )
    for row in found:
        if not measurable(row["counter_source"], row["counter_value"]):
            raise InvalidParameter(
                f"Counter {row['counter_name']} (source {row['counter_source']}) cannot be "
                "measured by this cloud: its virtual router load balancers scale on the "
                "hypervisor's disk counters only (source hypervisor: " + ", ".join(MEASURED) + ")"
            )
    order = {condition_id: index for index, condition_id in enumerate(wanted)}
    return sorted(found, key=lambda row: order[row["id"]])


def create_policy(call: Call, args: dict[str, Any]) -> Submitted:
    action = args["action"].lower()
    if action not in ACTIONS:
        raise InvalidParameter("action is invalid, only 'scaleup' and 'scaledown' is supported")
    quiet = DEFAULT_QUIET_TIME if args["quiettime"] is None else args["quiettime"]
    check_timing(args["duration"], quiet)
    conditions = _conditions(call, args["conditionids"])
    owner = conditions[0]  # 4.3: the policy is its conditions' account's
    command = cmd.CreatePolicy(
        uuid4(),
        UUID(owner["account_id"]),
        UUID(owner["domain_id"]),
        action,
        args["duration"],
        quiet,
        tuple(UUID(c["id"]) for c in conditions),
    )

    def work() -> dict[str, Any]:
        cmd.create_policy(call.store, command)
        return {"object": "autoscalepolicy", "id": str(command.policy_id)}

    return autoscale_job(
        call, "AutoScalePolicy", command.policy_id, "AUTOSCALEPOLICY.CREATE", work, True
    )


def update_policy(call: Call, args: dict[str, Any]) -> Submitted:
    row = owned_row(call, POLICIES, args["id"], "Auto Scale Policy")
    conditions = None
    if args["conditionids"]:
        found = _conditions(call, args["conditionids"])
        if found[0]["account_id"] != row["account_id"]:
            raise PermissionDenied("The conditions of a policy must belong to its account")
        conditions = tuple(UUID(c["id"]) for c in found)
    command = cmd.UpdatePolicy(UUID(row["id"]), args["duration"], args["quiettime"], conditions)

    def work() -> dict[str, Any]:
        cmd.update_policy(call.store, command)
        return {"object": "autoscalepolicy", "id": row["id"]}

    return autoscale_job(
        call, "AutoScalePolicy", UUID(row["id"]), "AUTOSCALEPOLICY.UPDATE", work, False
    )


def delete_policy(call: Call, args: dict[str, Any]) -> Submitted:
    row = owned_row(call, POLICIES, args["id"], "AutoScale Policy")

    def work() -> dict[str, Any]:
        cmd.delete_policy(call.store, UUID(row["id"]))
        return {"success": True}

    return autoscale_job(
        call, "AutoScalePolicy", UUID(row["id"]), "AUTOSCALEPOLICY.DELETE", work, False
    )


def list_policies(call: Call, args: dict[str, Any]) -> Listing:
    action = args["action"].lower() if args["action"] else None
    filters = [
        ("x.action = %s", action),
        (
            "x.id IN (SELECT policy_id FROM autoscale_policy_conditions WHERE condition_id = %s)",
            args["conditionid"],
        ),
        (
            "x.id IN (SELECT policy_id FROM autoscale_group_policies WHERE group_id = %s)",
            args["vmgroupid"],
        ),
    ]
    count, rows = listed_page(call, args, POLICIES, filters)
    with call.read() as cursor:
        return Listing(render_policies(cursor, rows), count)


ID = Param("id", P.UUID, required=True)

COMMANDS = (
    ApiCommand(
        "createCounter",
        create_counter,
        (
            Param("name", P.STRING, required=True),
            Param("source", P.STRING, required=True),
            Param("value", P.STRING, required=True),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key="counter",
        render=counter_view,
        java_class=f"{ADMIN_PKG}.CreateCounterCmd",
        description="Adds metric counter",
    ),
    ApiCommand(
        "deleteCounter",
        delete_counter,
        (ID,),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.DeleteCounterCmd",
        description="Deletes a counter",
    ),
    ApiCommand(
        "listCounters",
        list_counters,
        (Param("id", P.UUID), Param("name", P.STRING), Param("source", P.STRING)),
        shape="list",
        item_key="counter",
        java_class=f"{PKG}.ListCountersCmd",
        description="List the counters",
    ),
    ApiCommand(
        "createCondition",
        create_condition,
        (
            Param("counterid", P.UUID, required=True),
            Param("relationaloperator", P.STRING, required=True),
            Param("threshold", P.LONG, required=True),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
        ),
        shape="async",
        is_async=True,
        item_key="condition",
        render=condition_view,
        java_class=f"{PKG}.CreateConditionCmd",
        description="Creates a condition",
    ),
    ApiCommand(
        "deleteCondition",
        delete_condition,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteConditionCmd",
        description="Removes a condition",
    ),
    ApiCommand(
        "listConditions",
        list_conditions,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("counterid", P.UUID),
            Param("policyid", P.UUID),
        ),
        shape="list",
        item_key="condition",
        java_class=f"{PKG}.ListConditionsCmd",
        description="List Conditions for the specific user",
    ),
    ApiCommand(
        "createAutoScalePolicy",
        create_policy,
        (
            Param("action", P.STRING, required=True),
            Param("conditionids", P.LIST, required=True, element=P.UUID),
            Param("duration", P.INTEGER, required=True),
            Param("quiettime", P.INTEGER),
        ),
        shape="async",
        is_async=True,
        item_key="autoscalepolicy",
        render=policy_view,
        java_class=f"{PKG}.CreateAutoScalePolicyCmd",
        description="Creates an autoscale policy for a provision or deprovision action",
    ),
    ApiCommand(
        "updateAutoScalePolicy",
        update_policy,
        (
            ID,
            Param("conditionids", P.LIST, element=P.UUID),
            Param("duration", P.INTEGER),
            Param("quiettime", P.INTEGER),
        ),
        shape="async",
        is_async=True,
        item_key="autoscalepolicy",
        render=policy_view,
        java_class=f"{PKG}.UpdateAutoScalePolicyCmd",
        description="Updates an existing autoscale policy.",
    ),
    ApiCommand(
        "deleteAutoScalePolicy",
        delete_policy,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteAutoScalePolicyCmd",
        description="Deletes a autoscale policy.",
    ),
    ApiCommand(
        "listAutoScalePolicies",
        list_policies,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("action", P.STRING),
            Param("conditionid", P.UUID),
            Param("vmgroupid", P.UUID),
        ),
        shape="list",
        item_key="autoscalepolicy",
        java_class=f"{PKG}.ListAutoScalePoliciesCmd",
        description="Lists autoscale policies.",
    ),
)
