"""Autoscale VM profiles and VM groups: create, update, delete, list; enable and disable a
group. All but the lists are jobs, as in 4.3.

A group is made on a load balancer rule with no VMs of its own and is enabled at once, as in
4.3 once its load balancer is configured; the scaler (entrypoint/autoscaler.py) then keeps it
between its bounds. Deleting a group takes its VMs off the rule and destroys them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api import display
from api.access import check_reach
from api.cloudstack.autoscale_members import deploy_params, dismantle
from api.cloudstack.autoscale_owned import (
    autoscale_job,
    listed_page,
    owned_row,
    owned_select,
    owner_fields,
)
from api.cloudstack.autoscale_policies import PKG, POLICIES, render_policies
from api.cloudstack.common import LIST_PROJECT_ID, OWNER_PARAMS
from api.cloudstack.network_rules import rule_for
from api.custom_ids import CUSTOM_ID
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.display import FOR_DISPLAY, FOR_DISPLAY_CHANGE
from api.params import Param, ParamType, not_found, parse
from commands import autoscale as cmd
from domain.autoscale import (
    DEFAULT_DESTROY_GRACE,
    DEFAULT_INTERVAL,
    GroupBounds,
    GroupState,
    ProfileSpec,
)
from domain.errors import InvalidParameter, PermissionDenied
from domain.network_rule_checks import RuleKind
from projections.autoscale import policies_of
from projections.network_rules import members_of

P = ParamType
PROFILE_ITEM, GROUP_ITEM = "autoscalevmprofile", "autoscalevmgroup"

SHOWN = f", {display.shown_column('x.id')}"
PROFILES = owned_select("autoscale_vm_profiles", SHOWN)
GROUPS = owned_select("autoscale_vm_groups", SHOWN)
ONE_ACCOUNT = (
    "The policies, the profile and the load balancer rule of a group must belong to one account"
)


def render_profile(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "zoneid": row["zone_id"],
        "serviceofferingid": row["service_offering_id"],
        "templateid": row["template_id"],
        "otherdeployparams": row["other_deploy_params"],
        "destroyvmgraceperiod": int(row["destroy_grace"]),
        "autoscaleuserid": row["autoscale_user_id"],
        "fordisplay": display.shown(row),
        **owner_fields(row),
    }


def render_groups(cursor: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    policies = policies_of(cursor, [row["id"] for row in rows])
    every = [p for listed in policies.values() for p in listed]
    owners = {row["id"]: row for row in rows}
    rendered_policies = {
        p["id"]: r
        for p, r in zip(
            every,
            render_policies(
                cursor,
                [
                    {
                        **p,
                        "account_name": owners[p["group_id"]]["account_name"],
                        "domain_name": owners[p["group_id"]]["domain_name"],
                    }
                    for p in every
                ],
            ),
            strict=True,
        )
    }
    rendered = []
    for row in rows:
        mine = policies[row["id"]]
        rendered.append(
            {
                "id": row["id"],
                "lbruleid": row["lb_rule_id"],
                "vmprofileid": row["profile_id"],
                "minmembers": int(row["min_members"]),
                "maxmembers": int(row["max_members"]),
                "interval": int(row["interval_seconds"]),
                "state": row["state"],
                "fordisplay": display.shown(row),
                "scaleuppolicies": [
                    rendered_policies[p["id"]] for p in mine if p["action"] == "scaleup"
                ],
                "scaledownpolicies": [
                    rendered_policies[p["id"]] for p in mine if p["action"] == "scaledown"
                ],
                **owner_fields(row),
            }
        )
    return rendered


# Profiles -----------------------------------------------------------------------------------


def profile_view(call: Call, profile_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(PROFILES + " WHERE x.id = %s", (profile_id,)).fetchone()
    if row is None:
        raise not_found("id", profile_id)
    return render_profile(dict(row))


def _exists(call: Call, sql: str, value: str, text: str) -> None:
    with call.read() as cursor:
        if cursor.execute(sql, (value,)).fetchone() is None:
            raise InvalidParameter(text)


def _autoscale_user(call: Call, user_id: str, account_id: str) -> str:
    """4.3's checks of the autoscale user: of the profile's account, with API keys."""
    with call.read() as cursor:
        user = cursor.execute(
            "SELECT id, username, account_id, api_key, sealed_secret_key FROM users "
            "WHERE id = %s AND removed = 0",
            (user_id,),
        ).fetchone()
    if user is None:
        raise not_found("autoscaleuserid", user_id)
    if user["account_id"] != account_id:
        raise InvalidParameter("AutoScale User id does not belong to the same account")
    if not user["api_key"]:
        raise InvalidParameter(f"apiKey for user: {user['username']} is empty. Please generate it")
    if not user["sealed_secret_key"]:
        raise InvalidParameter(
            f"secretKey for user: {user['username']} is empty. Please generate it"
        )
    return str(user["id"])


def _check_deploy_params(call: Call, text: str) -> None:
    """`otherdeployparams` as deployVirtualMachine would parse them (4.3 dispatches a deploy
    command with them to the same end)."""
    params = deploy_params(text)
    deploy = call.services.dispatcher.find("deployVirtualMachine")
    known = {spec.name.lower() for spec in deploy.specs}
    for name in params:
        if name.lower() not in known:
            raise InvalidParameter(f"{name} is not a parameter of deployVirtualMachine")
    chosen = {name: str(uuid4()) for name in ("zoneid", "serviceofferingid", "templateid")}
    given = {**chosen, **params}
    parse(deploy.specs, given, command=deploy.name)


def create_profile(call: Call, args: dict[str, Any]) -> Submitted:
    user_id = args["autoscaleuserid"] or call.caller.user_id
    with call.read() as cursor:
        owner = cursor.execute(
            "SELECT u.account_id, a.domain_id, a.domain_path FROM users AS u "
            "JOIN accounts AS a ON a.id = u.account_id WHERE u.id = %s AND u.removed = 0",
            (str(user_id),),
        ).fetchone()
    if owner is None:
        raise not_found("autoscaleuserid", str(user_id))
    check_reach(
        call.caller,
        account_id=owner["account_id"],
        domain_path=owner["domain_path"],
        what="that account",
    )
    _exists(
        call,
        "SELECT id FROM zones WHERE id = %s AND removed = 0",
        args["zoneid"],
        "Unable to find zone by id",
    )
    _exists(
        call,
        "SELECT id FROM service_offerings WHERE id = %s AND removed = 0 AND is_system = 0",
        args["serviceofferingid"],
        "Unable to find service offering by id",
    )
    _exists(
        call,
        "SELECT id FROM templates WHERE id = %s AND removed = 0",
        args["templateid"],
        "Unable to use the given template.",
    )
    _check_deploy_params(call, args["otherdeployparams"] or "")
    grace = (
        DEFAULT_DESTROY_GRACE
        if args["destroyvmgraceperiod"] is None
        else args["destroyvmgraceperiod"]
    )
    spec = ProfileSpec(
        UUID(args["zoneid"]),
        UUID(args["serviceofferingid"]),
        UUID(args["templateid"]),
        args["otherdeployparams"] or "",
        grace,
        UUID(_autoscale_user(call, str(user_id), owner["account_id"])),
    )
    command = cmd.CreateProfile(uuid4(), UUID(owner["account_id"]), UUID(owner["domain_id"]), spec)
    display.hide_new(call, args, "AutoScaleVmProfile", command.profile_id)

    def work() -> dict[str, Any]:
        cmd.create_profile(call.store, command)
        return {"object": PROFILE_ITEM, "id": str(command.profile_id)}

    return autoscale_job(
        call, "AutoScaleVmProfile", command.profile_id, "AUTOSCALEVMPROFILE.CREATE", work, True
    )


def update_profile(call: Call, args: dict[str, Any]) -> Submitted:
    row = owned_row(call, PROFILES, args["id"], "Auto Scale Vm Profile")
    if args["templateid"]:
        _exists(
            call,
            "SELECT id FROM templates WHERE id = %s AND removed = 0",
            args["templateid"],
            "Unable to use the given template.",
        )
    user_id = args["autoscaleuserid"] or row["autoscale_user_id"]
    spec = ProfileSpec(
        UUID(row["zone_id"]),
        UUID(row["service_offering_id"]),
        UUID(args["templateid"] or row["template_id"]),
        row["other_deploy_params"],
        int(
            row["destroy_grace"]
            if args["destroyvmgraceperiod"] is None
            else args["destroyvmgraceperiod"]
        ),
        UUID(_autoscale_user(call, str(user_id), row["account_id"])),
    )

    display.change(call, args, "AutoScaleVmProfile", row["id"])

    def work() -> dict[str, Any]:
        cmd.update_profile(call.store, UUID(row["id"]), spec)
        return {"object": PROFILE_ITEM, "id": row["id"]}

    return autoscale_job(
        call, "AutoScaleVmProfile", UUID(row["id"]), "AUTOSCALEVMPROFILE.UPDATE", work, False
    )


def delete_profile(call: Call, args: dict[str, Any]) -> Submitted:
    row = owned_row(call, PROFILES, args["id"], "AutoScale Vm Profile")

    def work() -> dict[str, Any]:
        cmd.delete_profile(call.store, UUID(row["id"]))
        return {"success": True}

    return autoscale_job(
        call, "AutoScaleVmProfile", UUID(row["id"]), "AUTOSCALEVMPROFILE.DELETE", work, False
    )


def list_profiles(call: Call, args: dict[str, Any]) -> Listing:
    like = f"%{args['otherdeployparams']}%" if args["otherdeployparams"] else None
    count, rows = listed_page(
        call,
        args,
        PROFILES,
        [
            ("x.template_id = %s", args["templateid"]),
            ("x.service_offering_id = %s", args["serviceofferingid"]),
            ("x.zone_id = %s", args["zoneid"]),
            ("x.other_deploy_params LIKE %s", like),
        ],
        *display.clauses(call, args, "x.id"),
    )
    return Listing([render_profile(r) for r in rows], count)


# Groups -------------------------------------------------------------------------------------


def group_view(call: Call, group_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(GROUPS + " WHERE x.id = %s", (group_id,)).fetchone()
        if row is None:
            raise not_found("id", group_id)
        return render_groups(cursor, [dict(row)])[0]


def _policies(
    call: Call, given: list[str] | None, action: str, interval: int, account_id: str
) -> tuple[UUID, ...]:
    """4.3's checks of a group's policies of one kind: each found and reached, of the group's
    account, of that action, no shorter than the interval, all with one quiet time."""
    param = "scaleuppolicyids" if action == "scaleup" else "scaledownpolicyids"
    quiet_times = set()
    found = []
    for policy_id in dict.fromkeys(str(p) for p in given or ()):
        row = owned_row(call, POLICIES, policy_id, "AutoScale Policy")
        if row["account_id"] != account_id:
            raise PermissionDenied(ONE_ACCOUNT)
        if int(row["duration"]) < interval:
            raise InvalidParameter(
                f"duration : {row['duration']} specified in a policy cannot be less than vm "
                f"group's interval : {interval}"
            )
        if row["action"] != action:
            raise InvalidParameter(f"Only {action} policies can be specified in {param}")
        quiet_times.add(int(row["quiet_time"]))
        found.append(UUID(row["id"]))
    if len(quiet_times) > 1:
        raise InvalidParameter(
            f"quietTime should be same for all the policies specified in {param[:-1]}"
        )
    return tuple(found)


def create_group(call: Call, args: dict[str, Any]) -> Submitted:
    interval = DEFAULT_INTERVAL if args["interval"] is None else args["interval"]
    rule = rule_for(call, args["lbruleid"], RuleKind.LOAD_BALANCING, "lbruleid")
    with call.read() as cursor:
        taken = cursor.execute(
            "SELECT id FROM autoscale_vm_groups WHERE lb_rule_id = %s AND removed = 0",
            (rule["id"],),
        ).fetchone()
        members = members_of(cursor, [rule["id"]])[rule["id"]]
    if taken is not None:
        raise InvalidParameter(
            "an AutoScaleVmGroup is already attached to the lb rule, the existing vm group has "
            "to be first deleted"
        )
    if members:
        raise InvalidParameter(
            "there are Vms already bound to the specified LoadBalancing Rule. User bound Vms "
            "and AutoScaled Vm Group cannot co-exist on a Load Balancing Rule"
        )
    bounds = GroupBounds(args["minmembers"], args["maxmembers"], interval)
    up = _policies(call, args["scaleuppolicyids"], "scaleup", interval, rule["account_id"])
    down = _policies(call, args["scaledownpolicyids"], "scaledown", interval, rule["account_id"])
    profile = owned_row(call, PROFILES, args["vmprofileid"], "vmprofileid")
    if profile["account_id"] != rule["account_id"]:
        raise PermissionDenied(ONE_ACCOUNT)
    if profile["zone_id"] != rule["zone_id"]:
        raise InvalidParameter(
            "The AutoScale Vm Profile's zone is not the load balancer rule's zone"
        )
    command = cmd.CreateGroup(
        uuid4(),
        UUID(rule["account_id"]),
        UUID(rule["domain_id"]),
        UUID(rule["id"]),
        UUID(rule["network_id"]),
        UUID(rule["zone_id"]),
        UUID(profile["id"]),
        bounds,
        up,
        down,
    )
    display.hide_new(call, args, "AutoScaleVmGroup", command.group_id)

    def work() -> dict[str, Any]:
        cmd.create_group(call.store, command)
        return {"object": GROUP_ITEM, "id": str(command.group_id)}

    return autoscale_job(
        call, "AutoScaleVmGroup", command.group_id, "AUTOSCALEVMGROUP.CREATE", work, True
    )


def update_group(call: Call, args: dict[str, Any]) -> Submitted:
    row = owned_row(call, GROUPS, args["id"], "AutoScale Vm Group")

    def given(name: str, column: str) -> int:
        return int(row[column] if args[name] is None else args[name])

    bounds = GroupBounds(
        given("minmembers", "min_members"),
        given("maxmembers", "max_members"),
        given("interval", "interval_seconds"),
    )
    with call.read() as cursor:
        current = policies_of(cursor, [row["id"]])[row["id"]]
    chosen = {}
    for action, param in (("scaleup", "scaleuppolicyids"), ("scaledown", "scaledownpolicyids")):
        wanted = (
            args[param]
            if args[param] is not None
            else [p["id"] for p in current if p["action"] == action]
        )
        chosen[action] = _policies(call, wanted, action, bounds.interval, row["account_id"])
    command = cmd.UpdateGroup(UUID(row["id"]), bounds, chosen["scaleup"], chosen["scaledown"])
    display.change(call, args, "AutoScaleVmGroup", row["id"])

    def work() -> dict[str, Any]:
        cmd.update_group(call.store, command)
        return {"object": GROUP_ITEM, "id": row["id"]}

    return autoscale_job(
        call, "AutoScaleVmGroup", UUID(row["id"]), "AUTOSCALEVMGROUP.UPDATE", work, False
    )


def _state_change(call: Call, args: dict[str, Any], state: str, event: str) -> Submitted:
    row = owned_row(call, GROUPS, args["id"], "AutoScale Vm Group")

    def work() -> dict[str, Any]:
        cmd.change_group_state(call.store, UUID(row["id"]), state)
        return {"object": GROUP_ITEM, "id": row["id"]}

    return autoscale_job(call, "AutoScaleVmGroup", UUID(row["id"]), event, work, False)


def enable_group(call: Call, args: dict[str, Any]) -> Submitted:
    return _state_change(call, args, GroupState.ENABLED, "AUTOSCALEVMGROUP.ENABLE")


def disable_group(call: Call, args: dict[str, Any]) -> Submitted:
    return _state_change(call, args, GroupState.DISABLED, "AUTOSCALEVMGROUP.DISABLE")


def delete_group(call: Call, args: dict[str, Any]) -> Submitted:
    row = owned_row(call, GROUPS, args["id"], "AutoScale Vm Group")

    def work() -> dict[str, Any]:
        cmd.change_group_state(call.store, UUID(row["id"]), GroupState.REVOKE)
        call.runtime.runner.consistent(5.0)
        with call.read() as cursor:
            members = cursor.execute(
                "SELECT vm_id, destroy_at_ms FROM autoscale_group_members WHERE group_id = %s "
                "ORDER BY vm_id",
                (row["id"],),
            ).fetchall()
        dismantle(call, row, [dict(m) for m in members])
        return {"success": True}

    return autoscale_job(
        call, "AutoScaleVmGroup", UUID(row["id"]), "AUTOSCALEVMGROUP.DELETE", work, False
    )


def list_groups(call: Call, args: dict[str, Any]) -> Listing:
    count, rows = listed_page(
        call,
        args,
        GROUPS,
        [
            ("x.lb_rule_id = %s", args["lbruleid"]),
            ("x.profile_id = %s", args["vmprofileid"]),
            ("x.zone_id = %s", args["zoneid"]),
            (
                "x.id IN (SELECT group_id FROM autoscale_group_policies WHERE policy_id = %s)",
                args["policyid"],
            ),
        ],
        *display.clauses(call, args, "x.id"),
    )
    with call.read() as cursor:
        return Listing(render_groups(cursor, rows), count)


ID = Param("id", P.UUID, required=True)
GROUP_ASYNC = {
    "shape": "async",
    "is_async": True,
    "item_key": GROUP_ITEM,
    "render": group_view,
}
PROFILE_ASYNC = {
    "shape": "async",
    "is_async": True,
    "item_key": PROFILE_ITEM,
    "render": profile_view,
}
COUNTER_PARAM = Param(
    "counterparam",
    P.MAP,
    unsupported="counter parameters are for SNMP counters, which this cloud does not read",
)

COMMANDS = (
    ApiCommand(
        "createAutoScaleVmProfile",
        create_profile,
        (
            Param("zoneid", P.UUID, required=True),
            Param("serviceofferingid", P.UUID, required=True),
            Param("templateid", P.UUID, required=True),
            Param("otherdeployparams", P.STRING, max_length=None),
            Param("destroyvmgraceperiod", P.INTEGER),
            Param("autoscaleuserid", P.UUID),
            COUNTER_PARAM,
            FOR_DISPLAY,
        ),
        java_class=f"{PKG}.CreateAutoScaleVmProfileCmd",
        description=(
            "Creates a profile that contains information about the virtual machine which will "
            "be provisioned automatically by autoscale feature."
        ),
        **PROFILE_ASYNC,
    ),
    ApiCommand(
        "updateAutoScaleVmProfile",
        update_profile,
        (
            ID,
            Param("templateid", P.UUID),
            Param("destroyvmgraceperiod", P.INTEGER),
            Param("autoscaleuserid", P.UUID),
            COUNTER_PARAM,
            CUSTOM_ID,
            FOR_DISPLAY_CHANGE,
        ),
        java_class=f"{PKG}.UpdateAutoScaleVmProfileCmd",
        description="Updates an existing autoscale vm profile.",
        **PROFILE_ASYNC,
    ),
    ApiCommand(
        "deleteAutoScaleVmProfile",
        delete_profile,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteAutoScaleVmProfileCmd",
        description="Deletes a autoscale vm profile.",
    ),
    ApiCommand(
        "listAutoScaleVmProfiles",
        list_profiles,
        (
            *OWNER_PARAMS,
            LIST_PROJECT_ID,
            Param("id", P.UUID),
            Param("templateid", P.UUID),
            Param("serviceofferingid", P.UUID),
            Param("zoneid", P.UUID),
            Param("otherdeployparams", P.STRING, max_length=None),
            FOR_DISPLAY_CHANGE,
        ),
        shape="list",
        item_key=PROFILE_ITEM,
        java_class=f"{PKG}.ListAutoScaleVmProfilesCmd",
        description="Lists autoscale vm profiles.",
    ),
    ApiCommand(
        "createAutoScaleVmGroup",
        create_group,
        (
            Param("lbruleid", P.UUID, required=True),
            Param("minmembers", P.INTEGER, required=True),
            Param("maxmembers", P.INTEGER, required=True),
            Param("interval", P.INTEGER),
            Param("scaleuppolicyids", P.LIST, required=True, element=P.UUID),
            Param("scaledownpolicyids", P.LIST, required=True, element=P.UUID),
            Param("vmprofileid", P.UUID, required=True),
            FOR_DISPLAY,
        ),
        java_class=f"{PKG}.CreateAutoScaleVmGroupCmd",
        description=(
            "Creates and automatically starts a virtual machine based on a service offering, "
            "disk offering, and template."
        ),
        **GROUP_ASYNC,
    ),
    ApiCommand(
        "updateAutoScaleVmGroup",
        update_group,
        (
            ID,
            Param("minmembers", P.INTEGER),
            Param("maxmembers", P.INTEGER),
            Param("interval", P.INTEGER),
            Param("scaleuppolicyids", P.LIST, element=P.UUID),
            Param("scaledownpolicyids", P.LIST, element=P.UUID),
            CUSTOM_ID,
            FOR_DISPLAY_CHANGE,
        ),
        java_class=f"{PKG}.UpdateAutoScaleVmGroupCmd",
        description="Updates an existing autoscale vm group.",
        **GROUP_ASYNC,
    ),
    ApiCommand(
        "deleteAutoScaleVmGroup",
        delete_group,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteAutoScaleVmGroupCmd",
        description="Deletes a autoscale vm group.",
    ),
    ApiCommand(
        "enableAutoScaleVmGroup",
        enable_group,
        (ID,),
        java_class=f"{PKG}.EnableAutoScaleVmGroupCmd",
        description="Enables an AutoScale Vm Group",
        **GROUP_ASYNC,
    ),
    ApiCommand(
        "disableAutoScaleVmGroup",
        disable_group,
        (ID,),
        java_class=f"{PKG}.DisableAutoScaleVmGroupCmd",
        description="Disables an AutoScale Vm Group",
        **GROUP_ASYNC,
    ),
    ApiCommand(
        "listAutoScaleVmGroups",
        list_groups,
        (
            *OWNER_PARAMS,
            LIST_PROJECT_ID,
            Param("id", P.UUID),
            Param("lbruleid", P.UUID),
            Param("vmprofileid", P.UUID),
            Param("policyid", P.UUID),
            Param("zoneid", P.UUID),
            FOR_DISPLAY_CHANGE,
        ),
        shape="list",
        item_key=GROUP_ITEM,
        java_class=f"{PKG}.ListAutoScaleVmGroupsCmd",
        description="Lists autoscale vm groups.",
    ),
)
