"""upgradeRouterTemplate: reboot the routers of one scope onto the current router template.

Exactly one selector names the scope (a router, a zone, a pod, a cluster, a domain, or an
account with its domain). Of its Running routers, those below the zone's minimum version
(`minreq.sysvmtemplate.version`; an unknown version counts as below) each get their own
RebootRouter job; the answer lists the jobs. `router.upgrade.parallelism` bounds how many run
at once: the routers wait in that many lanes, each result starting the next of its lane.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import account_row, domain_row
from api.cloudstack.configuration import current_value
from api.cloudstack.routers import ADMIN_PKG, min_versions, router_template
from api.cloudstack.system_vms import SELECT
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands import routers as cmd
from domain.errors import InvalidParameter
from domain.router import requires_upgrade
from domain.system_vm import Role as VmRole

MULTIPLE = (
    "Multiple parameters not supported. Specify only one among "
    "routerId/zoneId/podId/clusterId/accountId/domainId"
)
_SELECTORS = (("id", "r.id"), ("zoneid", "r.zone_id"), ("podid", "r.pod_id"))
_SELECTORS += (("clusterid", "r.cluster_id"),)


def _scope(call: Call, args: dict[str, Any]) -> tuple[str, list[Any]]:
    """The one selector given, as SQL on the routers; 431 for none or several."""
    given = [(key, column) for key, column in _SELECTORS if args.get(key)]
    if args.get("account") and not args.get("domainid"):
        raise InvalidParameter("Account must be specified with domainId parameter")
    if args.get("domainid"):
        given.append(("domainid", ""))
    if len(given) != 1:
        raise InvalidParameter(MULTIPLE if given else f"Specify one of: {_names()}")
    key, column = given[0]
    if key != "domainid":
        return f"{column} = %s", [args[key]]
    domain = domain_row(call, args["domainid"])
    if args.get("account"):
        account = account_row(call, args["account"], domain["id"])
        return "r.account_id = %s", [account["id"]]
    return "r.domain_id = %s", [domain["id"]]


def _names() -> str:
    return "id, zoneid, podid, clusterid, domainid (with or without account)"


def _outdated(call: Call, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Running routers of the scope that fail the version check, in creation order."""
    clause, params = _scope(call, args)
    with call.read() as cursor:
        rows = cursor.execute(
            f"{SELECT} WHERE r.role = %s AND r.removed = 0 AND r.state = 'Running' "
            f"AND r.upgrading = 0 AND {clause} ORDER BY r.seq",
            [VmRole.ROUTER, *params],
        ).fetchall()
    zones = {r["zone_id"] for r in rows}
    minimum = min_versions(call, zones)
    checked = {z: current_value(call, "router.version.check", "zone", z) == "true" for z in zones}
    return [
        dict(r)
        for r in rows
        if checked[r["zone_id"]] and requires_upgrade(r["version"], minimum[r["zone_id"]])
    ]


def upgrade_router_template(call: Call, args: dict[str, Any]) -> Listing:
    routers = _outdated(call, args)
    templates: dict[tuple[str, str], tuple[str, str]] = {}
    targets = []
    for row in routers:
        key = (row["zone_id"], row["hypervisor"])
        if key not in templates:
            templates[key] = router_template(call, *key)
        template_id, name = templates[key]
        targets.append(cmd.UpgradeTarget(UUID(row["id"]), UUID(template_id), name))
    parallelism = int(current_value(call, "router.upgrade.parallelism"))
    command = cmd.UpgradeRouters(
        targets, parallelism, UUID(call.caller.account_id), UUID(call.caller.user_id)
    )
    with call.acting():
        planned = cmd.upgrade_routers(call.store, command)
    call.accepted(planned.position)
    return Listing([{"jobid": str(job_id)} for job_id in planned.job_ids], len(planned.job_ids))


COMMANDS = (
    ApiCommand(
        "upgradeRouterTemplate",
        upgrade_router_template,
        (
            Param("id", ParamType.UUID),
            Param("zoneid", ParamType.UUID),
            Param("podid", ParamType.UUID),
            Param("clusterid", ParamType.UUID),
            Param("domainid", ParamType.UUID),
            Param("account", ParamType.STRING),
        ),
        role=Role.ROOT_ADMIN,
        shape="list",
        paged=False,
        item_key="asyncjobs",
        java_class=f"{ADMIN_PKG}.UpgradeRouterTemplateCmd",
        description="Upgrades routers to the current router template",
    ),
)
