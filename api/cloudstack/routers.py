"""Virtual routers: listRouters, the router lifecycle as async jobs, changeServiceForRouter,
upgradeRouterTemplate, and `ensure_router` (a network's router, for the networks part).

Router commands are for root administrators, as in CloudStack. `version` is what the router
reports (UNKNOWN when it reported nothing); `requiresupgrade` compares it with the zone's
`minreq.sysvmtemplate.version`. Each router of an upgrade is rebooted by its own job; the
answer lists the jobs, at most `router.upgrade.parallelism` of them run at once.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any
from uuid import UUID

import orjson

from api.access import Role, list_scope
from api.cloudstack import infrastructure as places
from api.cloudstack.common import (
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    account_row,
    domain_row,
    limit_sql,
    resolve_owner_filters,
)
from api.cloudstack.configuration import current_value
from api.cloudstack.system_vms import (
    SELECT,
    appliance_row,
    lifecycle_commands,
    new_compute,
)
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.fragments import Kept, marker, quoted, template
from api.params import Param, ParamType, not_found
from commands import routers as cmd
from commands import system_vms as lifecycle
from domain.compute import Compute
from domain.configuration import DEFINITIONS
from domain.errors import InvalidParameter, ResourceUnavailable
from domain.router import DEFAULT_NETWORK_SERVICES, UNKNOWN, version_key
from domain.system_vm import Role as VmRole
from projections.configuration import overrides
from projections.listed import fill_listed
from stratus.db import contains, in_list

P = ParamType
ADMIN_PKG = "org.apache.cloudstack.api.command.admin.router"
TEMPLATE_SETTING = {
    "kvm": "kvm",
    "xenserver": "xen",
    "vmware": "vmware",
    "hyperv": "hyperv",
    "simulator": "simulator",
}
MIN_VERSION_SETTING = "minreq.sysvmtemplate.version"


# ---- reading routers ----------------------------------------------------------------------


def min_versions(call: Call, zone_ids: set[str]) -> dict[str, str]:
    return {z: current_value(call, MIN_VERSION_SETTING, "zone", z) for z in zone_ids}


def render_router(call: Call, row: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
    version = row["version"] or UNKNOWN
    zone = names["zones"].get(row["zone_id"], {})
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "zoneid": row["zone_id"],
        "zonename": zone.get("name", ""),
        "dns1": zone.get("dns1", ""),
        "dns2": zone.get("dns2", ""),
        "podid": row["pod_id"],
        "hypervisor": row["hypervisor"],
        "templateid": row["template_id"],
        "created": format_stored_date(row["created"]),
        "state": row["state"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "serviceofferingid": row["service_offering_id"],
        "serviceofferingname": names["offerings"].get(row["service_offering_id"], ""),
        "isredundantrouter": False,
        "redundantstate": "UNKNOWN",
        "version": version,
        # The stored key sorts as versions compare ('' for unknown): no parsing per row.
        "requiresupgrade": row["version_key"] < names["minimum"][row["zone_id"]],
        "role": row["role"],
        "nic": [],
    }
    if row["guest_network_id"]:
        body["guestnetworkid"] = row["guest_network_id"]
    if row["vpc_id"]:
        body["vpcid"] = row["vpc_id"]
        # A VPC's domain never changes, so a kept router's JSON may carry it.
        if row.get("vpc_network_domain"):
            body["networkdomain"] = row["vpc_network_domain"]
    if row["host_id"]:
        body["hostid"] = row["host_id"]
        body["hostname"] = names["hosts"].get(row["host_id"], "")
    if row["pending_job_id"]:
        body["jobid"], body["jobstatus"] = row["pending_job_id"], 0
    return body


def render_routers(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's routers, with every name and setting they show read in one go."""
    with call.read() as cursor:
        names = {
            "zones": _by_id(cursor, "id, name, dns1, dns2", "zones", {r["zone_id"] for r in rows}),
            "hosts": _by_id(cursor, "id, name", "hosts", {r["host_id"] for r in rows}),
            "offerings": _by_id(
                cursor, "id, name", "service_offerings", {r["service_offering_id"] for r in rows}
            ),
            "minimum": _minimum_keys(cursor, {r["zone_id"] for r in rows}),
        }
    names["hosts"] = {i: r["name"] for i, r in names["hosts"].items()}
    names["offerings"] = {i: r["name"] for i, r in names["offerings"].items()}
    return [render_router(call, row, names) for row in rows]


# A page of routers: the columns they are rendered from, and the names they show joined in.
_NAMES = (
    "a.name AS account_name, a.domain_name AS domain_name, z.id AS zone_found, "
    "z.name AS zone_name, z.dns1 AS zone_dns1, z.dns2 AS zone_dns2, h.name AS host_name, "
    "o.name AS offering_name FROM system_vms AS r JOIN accounts AS a ON a.id = r.account_id "
    "LEFT JOIN zones AS z ON z.id = r.zone_id LEFT JOIN hosts AS h ON h.id = r.host_id "
    "LEFT JOIN service_offerings AS o ON o.id = r.service_offering_id"
)
_LISTED = (
    "SELECT r.id, r.name, r.zone_id, r.pod_id, r.hypervisor, r.template_id, r.created, "
    "r.state, r.domain_id, r.service_offering_id, r.version, r.version_key, r.role, "
    "r.guest_network_id, r.vpc_id, r.host_id, r.pending_job_id, r.revision, "
    "vpc.network_domain AS vpc_network_domain, "
    + _NAMES
    + " LEFT JOIN vpcs AS vpc ON vpc.id = r.vpc_id"
)
# What a page of kept routers reads: each one's kept JSON and the values of its slots.
_SPLICED = "SELECT r.id, r.listed, r.zone_id, r.host_id, r.version_key, " + _NAMES


def _joined_names(rows: list[dict[str, Any]], minimum: dict[str, str]) -> dict[str, Any]:
    """The names render_router looks up, from rows read with them joined."""
    zones, hosts, offerings = {}, {}, {}
    for row in rows:
        if row["zone_found"] is not None:
            zones[row["zone_id"]] = {
                "name": row["zone_name"], "dns1": row["zone_dns1"], "dns2": row["zone_dns2"]
            }  # fmt: skip
        if row["host_name"] is not None:
            hosts[row["host_id"]] = row["host_name"]
        if row["offering_name"] is not None:
            offerings[row["service_offering_id"]] = row["offering_name"]
    return {"zones": zones, "hosts": hosts, "offerings": offerings, "minimum": minimum}


_KEPT = Kept(__name__, partial(fill_listed, table="system_vms"))


def spliced_routers(call: Call, rows: list[dict[str, Any]]) -> list[Any]:
    """A page's routers from their kept JSON; routers with none (new, or changed since) are
    rendered in full and their JSON kept for the revision they were read at."""
    missing = [row["id"] for row in rows if _KEPT.text(row["listed"]) is None]
    with call.read() as cursor:
        minimum = _minimum_keys(cursor, {r["zone_id"] for r in rows})
        full = _full_rows(cursor, missing) if missing else {}
    kept = {}
    if full:
        kept = _KEPT.keep(call.runtime.db, full.values(), lambda row: keepable(call, row))
    names = _joined_names(list(full.values()), minimum)
    items: list[Any] = []
    for row in rows:
        listed = _KEPT.text(row["listed"]) or kept.get(row["id"])
        if listed is None:  # nothing to keep (see keepable): rendered as before
            items.append(render_router(call, full[row["id"]], names))
        else:
            items.append(orjson.Fragment(listed % _values(row, minimum)))
    return items


def _full_rows(cursor: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    among, params = in_list(cursor, "r.id", ids)
    rows = cursor.execute(f"{_LISTED} WHERE {among}", params).fetchall()
    return {row["id"]: row for row in rows}


_SLOTTED = (
    ("zonename", "zone_name"),
    ("dns1", "zone_dns1"),
    ("dns2", "zone_dns2"),
    ("account", "account_name"),
    ("domain", "domain_name"),
    ("serviceofferingname", "offering_name"),
    ("requiresupgrade", "upgrade"),
)


def _slots(row: dict[str, Any]) -> tuple[str, ...]:
    """The slots of a router's kept JSON, in the order render_router writes them."""
    slots = tuple(slot for _, slot in _SLOTTED)
    return (*slots, "host_name") if row["host_id"] else slots


def _values(row: dict[str, Any], minimum: dict[str, str]) -> tuple[str, ...]:
    zone = row["zone_found"] is not None
    values = [
        quoted(row["zone_name"] if zone else ""),
        quoted(row["zone_dns1"] if zone else ""),
        quoted(row["zone_dns2"] if zone else ""),
        quoted(row["account_name"]),
        quoted(row["domain_name"]),
        quoted(row["offering_name"] if row["offering_name"] is not None else ""),
        "true" if row["version_key"] < minimum[row["zone_id"]] else "false",
    ]
    if row["host_id"]:
        values.append(quoted(row["host_name"] if row["host_name"] is not None else ""))
    return tuple(values)


def keepable(call: Call, row: dict[str, Any]) -> str | None:
    """A router's JSON as render_router writes it, with slots; None when the slots do not come
    out in their order (a marker inside a router's own text): it is then rendered in full."""
    names = {"zones": {}, "hosts": {}, "offerings": {}, "minimum": {row["zone_id"]: ""}}
    body = render_router(call, row, names)
    for key, slot in _SLOTTED:
        body[key] = marker(slot)
    if "hostname" in body:
        body["hostname"] = marker("host_name")
    text, slots = template(body)
    return text if slots == _slots(row) else None


def _by_id(cursor: Any, columns: str, table: str, ids: set[str | None]) -> dict[str, Any]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    marks = ", ".join(["%s"] * len(wanted))
    rows = cursor.execute(f"SELECT {columns} FROM {table} WHERE id IN ({marks})", wanted)
    return {r["id"]: dict(r) for r in rows.fetchall()}


def _minimum_keys(cursor: Any, zone_ids: set[str]) -> dict[str, str]:
    """Each zone's minimum router version, as a sortable key."""
    values = overrides(cursor, MIN_VERSION_SETTING)
    default = values.get(
        (MIN_VERSION_SETTING, "global", ""), DEFINITIONS[MIN_VERSION_SETTING].default
    )
    return {z: version_key(values.get((MIN_VERSION_SETTING, "zone", z), default)) for z in zone_ids}


def _router(call: Call, router_id: str) -> dict[str, Any]:
    return render_routers(call, [appliance_row(call, router_id, VmRole.ROUTER)])[0]


def _router_any(call: Call, router_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(SELECT + " WHERE r.id = %s", (router_id,)).fetchone()
    if row is None:
        raise not_found("id", router_id)
    return render_routers(call, [dict(row)])[0]


_NEEDS_ACCOUNTS = re.compile(r"\ba\.")
_FILTERS = (
    ("id", "r.id = %s"),
    ("state", "r.state = %s"),
    ("hostid", "r.host_id = %s"),
    ("zoneid", "r.zone_id = %s"),
    ("podid", "r.pod_id = %s"),
    ("clusterid", "r.cluster_id = %s"),
    ("vpcid", "r.vpc_id = %s"),
)


def router_filters(call: Call, args: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """The WHERE clauses of listRouters (the caller's scope and every §4.1 filter)."""
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where = ["r.role = %s", "r.removed = 0", scope.clause]
    params: list[Any] = [VmRole.ROUTER, *scope.params]
    for key, clause in _FILTERS:
        if args.get(key):
            where.append(clause)
            params.append(args[key])
    if args.get("networkid"):
        where.append("r.id IN (SELECT router_id FROM router_networks WHERE network_id = %s)")
        params.append(args["networkid"])
    if args.get("forvpc") is not None:
        where.append("r.vpc_id IS NOT NULL" if args["forvpc"] else "r.vpc_id IS NULL")
    if args.get("version"):
        clause, values = contains(("r.version",), args["version"], anywhere=False)
        where.append(clause)
        params += values
    for key in ("name", "keyword"):
        if args.get(key):
            clause, values = contains(("r.name", "r.instance_name", "r.state"), args[key])
            where.append(clause)
            params += values
    return where, params


def list_routers(call: Call, args: dict[str, Any]) -> Listing:
    """Count and page on the narrow (role, removed, seq) index, then read only the page's rows;
    the owners' accounts are joined for the keys only when the scope needs them (deep OFFSETs
    otherwise paid an account lookup per skipped router)."""
    where, params = router_filters(call, args)
    clause = " WHERE " + " AND ".join(where)
    source = " FROM system_vms AS r"
    if _NEEDS_ACCOUNTS.search(clause):
        source += " JOIN accounts AS a ON a.id = r.account_id"
    keys = f"SELECT r.seq{source}{clause} ORDER BY r.seq{limit_sql(args['paging'])}"
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n{source}{clause}", params).fetchone()["n"]
        rows = cursor.execute(
            f"{_SPLICED} JOIN ({keys}) AS p ON p.seq = r.seq ORDER BY p.seq", params
        ).fetchall()
    return Listing(spliced_routers(call, rows), int(count))


# ---- changing routers ---------------------------------------------------------------------


def change_service(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = appliance_row(call, args["id"], VmRole.ROUTER)
    compute = new_compute(call, row, args, VmRole.ROUTER)
    call.write(lambda store, _: lifecycle.change_compute(store, UUID(row["id"]), compute), None)
    return _router(call, row["id"])


def router_template(call: Call, zone_id: str, hypervisor: str) -> tuple[str, str]:
    """(id, name) of the template `router.template.<hypervisor>` names in this zone: of several
    of that name, the newest one registered (as 4.3 picks it, so an image an operator adds
    overrides the built-in one), unless its download into the zone failed."""
    key = TEMPLATE_SETTING.get(hypervisor.lower())
    if key is None:
        raise InvalidParameter(f"Routers cannot run on {hypervisor} hosts")
    name = current_value(call, f"router.template.{key}", "zone", zone_id)
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT t.id FROM templates AS t LEFT JOIN template_zones AS z "
            "ON z.template_id = t.id AND z.zone_id = %s WHERE t.name = %s AND t.removed = 0 "
            "AND lower(t.hypervisor) = lower(%s) ORDER BY CASE WHEN z.state = 'Failed' "
            "THEN 1 ELSE 0 END, t.created DESC, t.id LIMIT 1",
            (zone_id, name, hypervisor),
        ).fetchone()
    if row is None:
        raise ResourceUnavailable(
            f"No {hypervisor} template named {name!r} is registered for routers; register it "
            f"or point router.template.{key} at another one"
        )
    return row["id"], name


def ensure_router(
    call: Call,
    network_id: str,
    zone_id: str,
    owner: tuple[str, str],
    hypervisor: str,
    services: tuple[str, ...] = DEFAULT_NETWORK_SERVICES,
    vpc_id: str | None = None,
) -> cmd.EnsuredRouter:
    """The network's router, created and started when it has none (`owner`: account and
    domain ids). For the networks part: call it when a network is implemented."""
    template_id, _name = router_template(call, zone_id, hypervisor)
    # Candidates are chosen by hypervisor; room is decided by the reservation, not here.
    shape = Compute(UUID(int=0), 1, 1, 1, False, UUID(template_id), hypervisor, 0)
    from api.cloudstack.vms import candidates

    command = cmd.EnsureNetworkRouter(
        UUID(network_id),
        UUID(zone_id),
        UUID(owner[0]),
        UUID(owner[1]),
        hypervisor,
        UUID(template_id),
        candidates(call, zone_id, shape, None),
        network_services=services,
        vpc_id=UUID(vpc_id) if vpc_id else None,
        user_id=UUID(call.caller.user_id),
    )
    with call.acting():
        ensured = cmd.ensure_network_router(call.store, command)
    call.settle(ensured.position, str(ensured.router_id))
    return ensured


def ensure_network_router_command(call: Call, args: dict[str, Any]) -> Submitted:
    """Stratus extension (root admin): the router of a network, as the networks part will
    ask for it; lets operators and tests bring a router up before networks exist here."""
    zone = places._row(call, "zones", args["zoneid"], "zone")
    domain = domain_row(call, args["domainid"])
    account = account_row(call, args["account"], domain["id"])
    ensured = ensure_router(
        call,
        args["networkid"],
        zone["id"],
        (account["id"], domain["id"]),
        args["hypervisor"],
        tuple(args["services"] or DEFAULT_NETWORK_SERVICES),
    )
    if ensured.job_id is None:
        raise InvalidParameter(f"Network {args['networkid']} already has a running router")
    return Submitted(str(ensured.job_id), str(ensured.router_id))


# 4.3 lets domain admins manage their domain's routers; here routers stay with root admins
# until the router actions check the caller's reach over the router's networks.
ROUTERS_ROOT_ONLY = "virtual routers are managed by root admins only"

COMMANDS = (
    ApiCommand(
        "listRouters",
        list_routers,
        (
            *OWNER_PARAMS,
            LIST_PROJECT_ID,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("state", P.STRING),
            Param("hostid", P.UUID),
            Param("podid", P.UUID),
            Param("clusterid", P.UUID),
            Param("zoneid", P.UUID),
            Param("networkid", P.UUID),
            Param("vpcid", P.UUID),
            Param("forvpc", P.BOOLEAN),
            Param("version", P.STRING),
        ),
        role=Role.ROOT_ADMIN,
        role_extension=ROUTERS_ROOT_ONLY,
        shape="list",
        item_key="router",
        java_class=f"{ADMIN_PKG}.ListRoutersCmd",
        description="Lists routers",
    ),
    *lifecycle_commands(VmRole.ROUTER, ADMIN_PKG, "Router", _router_any, ROUTERS_ROOT_ONLY),
    ApiCommand(
        "changeServiceForRouter",
        change_service,
        (Param("id", P.UUID, required=True), Param("serviceofferingid", P.UUID, required=True)),
        role=Role.ROOT_ADMIN,
        role_extension=ROUTERS_ROOT_ONLY,
        item_key="router",
        java_class=f"{ADMIN_PKG}.UpgradeRouterCmd",
        description="Changes the system offering of a stopped router",
    ),
    ApiCommand(
        "ensureNetworkRouter",
        ensure_network_router_command,
        (
            Param("networkid", P.UUID, required=True),
            Param("zoneid", P.UUID, required=True),
            Param("account", P.STRING, required=True),
            Param("domainid", P.UUID, required=True),
            Param("hypervisor", P.STRING, required=True),
            Param("services", P.LIST, element=P.STRING),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        java_class="stratus.api.EnsureNetworkRouterCmd",
        extension="readies a network's router ahead of its first VM, which CloudStack waits for",
        description="Creates and starts the router of a network if it has none (Stratus)",
    ),
)
