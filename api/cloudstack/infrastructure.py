"""Zones, pods, clusters, hosts, capacity, the infrastructure summary and alerts (admin only)."""

from __future__ import annotations

import logging
import re
from ipaddress import IPv4Address, IPv6Address
from typing import Any
from uuid import UUID

import orjson

from api.access import Role
from api.cloudstack.capacity import scoped_capacities
from api.cloudstack.common import limit_sql, names_by_id, names_of
from api.cloudstack.nexus_vsms import VSM_PARAMS, vsm_of_cluster
from api.cloudstack.templates import fetch_limits
from api.cloudstack.unbuilt import TAGS_MAP
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from api.tagging import narrow
from commands import infrastructure as cmd
from commands.builtin_templates import EnsureBuiltinTemplates, ensure_builtin_templates
from domain.errors import InvalidParameter, NotFound
from domain.infrastructure import Cluster, Pod, Zone, check_hypervisor
from projections.configuration import overprovisioning
from stratus.db import contains

P = ParamType
RA = Role.ROOT_ADMIN
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"
NETWORK_DOMAIN = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)

log = logging.getLogger(__name__)


def _row(call: Call, table: str, row_id: str, what: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            f"SELECT * FROM {table} WHERE id = %s AND removed = 0", (row_id,)
        ).fetchone()
    if row is None:
        raise NotFound(f"Unable to find {what} with id {row_id}", resource_ids=(row_id,))
    return row


def _page(
    call: Call,
    table: str,
    where: list[str],
    params: list[Any],
    args: dict[str, Any],
    order: str = "created, id",
) -> tuple[list[dict[str, Any]], int]:
    sql = f" FROM {table} WHERE " + " AND ".join(["removed = 0", *where])
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(_page_sql(table, sql, order, args), params).fetchall()
    return rows, int(count)


def _page_sql(table: str, sql: str, order: str, args: dict[str, Any]) -> str:
    """A page's rows. Deep pages are found on the ordering index alone (ids only), and only
    that page's rows are read: sorting whole rows to skip most of them cost PostgreSQL a sort
    spilled to disk per request once a table held thousands of hosts."""
    limit = limit_sql(args["paging"])
    if not limit:
        return f"SELECT *{sql} ORDER BY {order}"
    outer = ", ".join(f"t.{column.strip()}" for column in order.split(","))
    return (
        f"SELECT t.* FROM (SELECT id{sql} ORDER BY {order}{limit}) AS page "
        f"JOIN {table} AS t ON t.id = page.id ORDER BY {outer}"
    )


def _filters(
    args: dict[str, Any], columns: dict[str, str], *, name_part: bool = False
) -> tuple[list[str], list[Any]]:
    """Equality filters, but `name` as 4.3 matches it (on MySQL's case-insensitive collation):
    in any case, and for pods and clusters (`name_part`) a part of the name."""
    where, params = [], []
    if columns.get("name") == "name" and args.get("name") is not None:
        columns = {k: v for k, v in columns.items() if k != "name"}
        clause, values = _name_filter(args["name"], part=name_part)
        where.append(clause)
        params += values
    for key, column in columns.items():
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("keyword"):
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    return where, params


def _name_filter(name: str, *, part: bool) -> tuple[str, list[Any]]:
    if part:
        return contains(("lower(name)",), name.lower())
    return "lower(name) = lower(%s)", [name]


# ---- zones, pods, clusters ----------------------------------------------------------


def render_zone(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "networktype": row["network_type"],
        "dns1": row["dns1"],
        "dns2": row["dns2"] or None,
        "internaldns1": row["internal_dns1"],
        "internaldns2": row["internal_dns2"] or None,
        "guestcidraddress": row["guest_cidr"],
        "domainid": row["domain_id"],
        "allocationstate": row["allocation_state"],
        "securitygroupsenabled": row["network_type"] == "Basic",  # as basic networking offers
        "localstorageenabled": bool(row["local_storage"]),
        "zonetoken": row["id"],
        "dhcpprovider": "VirtualRouter",
        "domain": row["network_domain"] or None,
        "ip6dns1": row["ip6_dns1"] or None,
        "ip6dns2": row["ip6_dns2"] or None,
        "resourcedetails": orjson.loads(row["details"] or "{}") or None,
    }


def list_zones(call: Call, args: dict[str, Any]) -> Listing:
    where, params = _filters(args, {"id": "id", "name": "name"})
    narrow(args, "Zone", "zones.id", where, params)
    rows, count = _page(call, "zones", where, params, args)
    zones = [_strip(render_zone(r)) for r in rows]
    if args["showcapacities"]:
        for zone in zones:
            zone["capacity"] = scoped_capacities(call, zone["id"])
    return Listing(zones, count)


def _strip(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def create_zone(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    dns = {
        k: args[p] or ""
        for k, p in (
            ("dns1", "dns1"),
            ("dns2", "dns2"),
            ("internal_dns1", "internaldns1"),
            ("internal_dns2", "internaldns2"),
        )
    }
    outcome = call.write(
        cmd.create_zone,
        cmd.CreateZone(
            args["name"],
            args["networktype"],
            dns,
            args["guestcidraddress"] or "",
            UUID(args["domainid"]) if args["domainid"] else None,
            args["allocationstate"] or "Enabled",
            bool(args["localstorageenabled"]),
            _network_settings(args),
        ),
    )
    return _strip(render_zone(_row(call, "zones", str(outcome.id), "zone")))


def _update(
    call: Call,
    kind: type,
    table: str,
    what: str,
    row_id: str,
    changes: dict[str, Any],
    keep_none: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Change a zone, pod or cluster: the changes given (None: not given, unless its key is in
    `keep_none`, where None is the new value)."""
    _row(call, table, row_id, what)
    changes = {k: v for k, v in changes.items() if v is not None or k in keep_none}
    call.write(cmd.update_container, cmd.UpdateContainer(kind, UUID(row_id), changes))
    return _row(call, table, row_id, what)


def update_zone(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    _check_zone_changes(args)
    row = _update(
        call,
        Zone,
        "zones",
        "zone",
        args["id"],
        {
            "name": args["name"],
            "allocation_state": args["allocationstate"],
            "guest_cidr": args["guestcidraddress"],
            "dns1": args["dns1"],
            "dns2": args["dns2"],
            "internal_dns1": args["internaldns1"],
            "internal_dns2": args["internaldns2"],
            "local_storage": args["localstorageenabled"],
            **_network_settings(args),
            "details": _zone_details(args) or None,
            # 4.3 turns a domain's zone public (never the reverse): no domain, no network domain
            **({"domain_id": None, "network_domain": ""} if args["ispublic"] else {}),
        },
        keep_none=("domain_id",) if args["ispublic"] else (),
    )
    return _strip(render_zone(row))


DNS_SEARCH_ORDER = "network.guestnetwork.dns.search.order"  # the zone detail 4.3 keeps it as


def _zone_details(args: dict[str, Any]) -> dict[str, str]:
    """The details given (`details[i].key`/`details[i].value`), with the DNS search order
    kept as 4.3 keeps it: a detail of the domains joined by commas."""
    details: dict[str, str] = {}
    for group in args["details"] or ():
        lowered = {name.lower(): value for name, value in group.items()}
        if lowered.get("key") is None or lowered.get("value") is None:
            raise InvalidParameter(
                "Invalid zone detail: each needs a key and a value, given as "
                "details[0].key=XXX&details[0].value=YYY"
            )
        details[str(lowered["key"])] = str(lowered["value"])
    order = args["dnssearchorder"]
    if order is not None:
        for name in order:
            if not NETWORK_DOMAIN.fullmatch(name):
                raise InvalidParameter(
                    f"Invalid DNS search order {name}: each entry is a domain name of labels "
                    "of letters, digits and hyphens (1 to 63 characters, no hyphen at either end)"
                )
        details[DNS_SEARCH_ORDER] = ",".join(order)
    return details


def _network_settings(args: dict[str, Any]) -> dict[str, str]:
    """`domain`, `ip6dns1`, `ip6dns2` as given (None: not given), checked."""
    settings = {"network_domain": args["domain"], "ip6_dns1": args["ip6dns1"]}
    settings["ip6_dns2"] = args["ip6dns2"]
    for name in ("ip6dns1", "ip6dns2"):
        if args[name]:
            try:
                IPv6Address(args[name])
            except ValueError:
                raise InvalidParameter(f"Please enter a valid IPv6 address for {name}") from None
    if args["domain"] and not NETWORK_DOMAIN.fullmatch(args["domain"]):
        raise InvalidParameter(f"Invalid network domain {args['domain']}: use a DNS name")
    return {k: v for k, v in settings.items() if v is not None}


def _check_zone_changes(args: dict[str, Any]) -> None:
    """DNS servers are IPv4 addresses; Stratus's zones get DHCP from their virtual routers."""
    for name in ("dns1", "dns2", "internaldns1", "internaldns2"):
        if args[name]:
            try:
                IPv4Address(args[name])
            except ValueError:
                raise InvalidParameter(f"Please enter a valid IP address for {name}") from None
    wanted = args["dhcpprovider"]
    if wanted is not None and wanted.strip().lower() != "virtualrouter":
        raise InvalidParameter(
            f"Invalid dhcp provider {wanted}: a zone's DHCP is provided by VirtualRouter"
        )


def _delete(call: Call, kind: type, table: str, what: str, row_id: str) -> None:
    _row(call, table, row_id, what)
    call.write(cmd.delete_container, cmd.DeleteContainer(kind, UUID(row_id)))


def render_pod(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    zones = names_by_id(call, "zones", {row["zone_id"]})
    return {
        "id": row["id"],
        "name": row["name"],
        "zoneid": row["zone_id"],
        "zonename": zones.get(row["zone_id"], ""),
        "gateway": row["gateway"],
        "netmask": row["netmask"],
        "startip": row["start_ip"],
        "endip": row["end_ip"],
        "allocationstate": row["allocation_state"],
    }


def list_pods(call: Call, args: dict[str, Any]) -> Listing:
    where, params = _filters(
        args,
        {
            "id": "id",
            "name": "name",
            "zoneid": "zone_id",
            "allocationstate": "allocation_state",
        },
        name_part=True,
    )
    rows, count = _page(call, "pods", where, params, args)
    pods = [render_pod(call, r) for r in rows]
    if args["showcapacities"]:
        for pod in pods:
            pod["capacity"] = scoped_capacities(call, pod["zoneid"], pod_id=pod["id"])
    return Listing(pods, count)


def create_pod(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    _row(call, "zones", args["zoneid"], "zone")
    outcome = call.write(
        cmd.create_pod,
        cmd.CreatePod(
            UUID(args["zoneid"]),
            args["name"],
            args["gateway"],
            args["netmask"],
            args["startip"],
            args["endip"] or "",
            args["allocationstate"] or "Enabled",
        ),
    )
    return render_pod(call, _row(call, "pods", str(outcome.id), "pod"))


def update_pod(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _update(
        call,
        Pod,
        "pods",
        "pod",
        args["id"],
        {
            "name": args["name"],
            "allocation_state": args["allocationstate"],
            "gateway": args["gateway"],
            "netmask": args["netmask"],
            "start_ip": args["startip"],
            "end_ip": args["endip"],
        },
    )
    return render_pod(call, row)


def render_cluster(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    names = names_of(call, {"zones": {row["zone_id"]}, "pods": {row["pod_id"]}})
    zones, pods = names["zones"], names["pods"]
    with call.read() as cursor:
        cpu, memory = overprovisioning(cursor).of(row["id"])
    return {
        "id": row["id"],
        "name": row["name"],
        "podid": row["pod_id"],
        "podname": pods.get(row["pod_id"], ""),
        "zoneid": row["zone_id"],
        "zonename": zones.get(row["zone_id"], ""),
        "hypervisortype": row["hypervisor"],
        "clustertype": row["cluster_type"],
        "allocationstate": row["allocation_state"],
        "managedstate": row["managed_state"],
        "cpuovercommitratio": _ratio(cpu),
        "memoryovercommitratio": _ratio(memory),
    }


def _ratio(factor: float) -> str:
    """A factor as 4.3 shows a cluster's ratio: as the setting's text would read (1.0, 1.5)."""
    return repr(float(factor))


def list_clusters(call: Call, args: dict[str, Any]) -> Listing:
    where, params = _filters(
        args,
        {
            "id": "id",
            "name": "name",
            "zoneid": "zone_id",
            "podid": "pod_id",
            "hypervisor": "hypervisor",
            "clustertype": "cluster_type",
            "allocationstate": "allocation_state",
        },
        name_part=True,
    )
    rows, count = _page(call, "clusters", where, params, args)
    clusters = [render_cluster(call, r) for r in rows]
    if args["showcapacities"]:
        for cluster in clusters:
            cluster["capacity"] = scoped_capacities(
                call, cluster["zoneid"], cluster_id=cluster["id"]
            )
    return Listing(clusters, count)


def add_cluster(call: Call, args: dict[str, Any]) -> Listing:
    # Here, not at the top: adding a vCenter cluster's hosts goes through addHost's module,
    # which reads places from this one.
    from api.cloudstack.vcenter_clusters import add_vcenter_hosts, source_of, switches_of

    hypervisor = check_hypervisor(args["hypervisor"])
    switches, source = switches_of(args, hypervisor), source_of(call, args, hypervisor)
    outcome = call.write(
        cmd.add_cluster,
        cmd.AddCluster(
            UUID(args["zoneid"]),
            UUID(args["podid"]),
            args["clustername"],
            hypervisor,
            args["clustertype"],
            args["allocationstate"] or "Enabled",
            vsm=vsm_of_cluster(call, args, hypervisor),
            switches=switches,
        ),
    )
    row = _row(call, "clusters", str(outcome.id), "cluster")
    if source is not None:
        add_vcenter_hosts(call, row, source)
    _builtin_templates(call, args["zoneid"], hypervisor)
    return Listing([render_cluster(call, row)], 1)


def _builtin_templates(call: Call, zone_id: str, hypervisor: str) -> None:
    """A zone with a cluster of a hypervisor gets that hypervisor's built-in templates."""
    command = EnsureBuiltinTemplates(
        UUID(zone_id),
        hypervisor,
        UUID(call.caller.account_id),
        fetch_limits(call),
        call.runtime.settings.builtin_image_mirror,
    )
    try:
        call.write(ensure_builtin_templates, command)
    except InvalidParameter as refused:
        # The cluster is made; only the operator's mirror was refused (a loopback or link-local
        # host outside secstorage.allowed.internal.sites). The next cluster tries again.
        log.warning("built-in templates not registered for zone %s: %s", zone_id, refused)


def update_cluster(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    row = _update(
        call,
        Cluster,
        "clusters",
        "cluster",
        args["id"],
        {
            "name": args["clustername"],
            "allocation_state": args["allocationstate"],
            "managed_state": args["managedstate"],
        },
    )
    return render_cluster(call, row)


ZONE_ID = Param("zoneid", P.UUID, required=True)
ID = Param("id", P.UUID, required=True)
ALLOCATION = Param("allocationstate", P.STRING)
LIST_FILTERS = (Param("id", P.UUID), Param("name", P.STRING))

# updateZone settings whose change is not carried to the zone yet.
ZONE_NETWORK_SETTINGS = (
    Param("domain", P.STRING, max_length=253),
    Param("ip6dns1", P.STRING),
    Param("ip6dns2", P.STRING),
)
ZONE_DETAIL_PARAMS = (
    Param("dnssearchorder", P.LIST, element=P.STRING),
    Param("details", P.MAP),
    Param("ispublic", P.BOOLEAN),
)

COMMANDS = (
    ApiCommand(
        "listZones",
        list_zones,
        (
            *LIST_FILTERS,
            Param("available", P.BOOLEAN),
            Param("domainid", P.UUID),
            Param("networktype", P.STRING),
            Param("showcapacities", P.BOOLEAN),
            TAGS_MAP,
        ),
        shape="list",
        item_key="zone",
        description="Lists zones",
    ),
    ApiCommand(
        "createZone",
        create_zone,
        (
            Param("name", P.STRING, required=True),
            Param("networktype", P.STRING, required=True),
            Param("dns1", P.STRING, required=True),
            Param("internaldns1", P.STRING, required=True),
            Param("dns2", P.STRING),
            Param("internaldns2", P.STRING),
            Param("guestcidraddress", P.STRING),
            Param("domainid", P.UUID),
            ALLOCATION,
            Param("localstorageenabled", P.BOOLEAN),
            Param("securitygroupenabled", P.BOOLEAN),
            *ZONE_NETWORK_SETTINGS,
        ),
        role=RA,
        item_key="zone",
        description="Creates a zone",
    ),
    ApiCommand(
        "updateZone",
        update_zone,
        (
            ID,
            Param("name", P.STRING),
            ALLOCATION,
            Param("guestcidraddress", P.STRING),
            *(Param(name, P.STRING) for name in ("dns1", "dns2", "internaldns1", "internaldns2")),
            Param("localstorageenabled", P.BOOLEAN),
            Param("dhcpprovider", P.STRING),
            *ZONE_NETWORK_SETTINGS,
            *ZONE_DETAIL_PARAMS,
        ),
        role=RA,
        item_key="zone",
        description="Updates a zone",
    ),
    ApiCommand(
        "deleteZone",
        lambda c, a: _delete(c, Zone, "zones", "zone", a["id"]),
        (ID,),
        role=RA,
        shape="success",
        description="Deletes a zone",
    ),
    ApiCommand(
        "listPods",
        list_pods,
        (*LIST_FILTERS, Param("zoneid", P.UUID), ALLOCATION, Param("showcapacities", P.BOOLEAN)),
        role=RA,
        shape="list",
        item_key="pod",
        description="Lists pods",
    ),
    ApiCommand(
        "createPod",
        create_pod,
        (
            Param("name", P.STRING, required=True),
            ZONE_ID,
            Param("gateway", P.STRING, required=True),
            Param("netmask", P.STRING, required=True),
            Param("startip", P.STRING, required=True),
            Param("endip", P.STRING),
            ALLOCATION,
        ),
        role=RA,
        item_key="pod",
        description="Creates a pod",
    ),
    ApiCommand(
        "updatePod",
        update_pod,
        (
            ID,
            Param("name", P.STRING),
            ALLOCATION,
            Param("gateway", P.STRING),
            Param("netmask", P.STRING),
            Param("startip", P.STRING),
            Param("endip", P.STRING),
        ),
        role=RA,
        item_key="pod",
        description="Updates a pod",
    ),
    ApiCommand(
        "deletePod",
        lambda c, a: _delete(c, Pod, "pods", "pod", a["id"]),
        (ID,),
        role=RA,
        shape="success",
        description="Deletes a pod",
    ),
    ApiCommand(
        "listClusters",
        list_clusters,
        (
            *LIST_FILTERS,
            Param("zoneid", P.UUID),
            Param("podid", P.UUID),
            Param("hypervisor", P.STRING),
            Param("clustertype", P.STRING),
            ALLOCATION,
            Param("managedstate", P.STRING),
            Param("showcapacities", P.BOOLEAN),
        ),
        role=RA,
        shape="list",
        item_key="cluster",
        description="Lists clusters",
    ),
    ApiCommand(
        "addCluster",
        add_cluster,
        (
            Param("clustername", P.STRING, required=True),
            Param("podid", P.UUID, required=True),
            ZONE_ID,
            Param("hypervisor", P.STRING, required=True),
            Param("clustertype", P.STRING, required=True),
            ALLOCATION,
            *(Param(name, P.STRING) for name in ("url", "username", "password")),
            *(
                Param(name, P.STRING)
                for name in (
                    "guestvswitchname",
                    "guestvswitchtype",
                    "publicvswitchname",
                    "publicvswitchtype",
                )
            ),
            *VSM_PARAMS,
        ),
        role=RA,
        shape="list",
        paged=False,
        item_key="cluster",
        description="Adds a cluster",
    ),
    ApiCommand(
        "updateCluster",
        update_cluster,
        (
            ID,
            Param("clustername", P.STRING),
            ALLOCATION,
            Param("managedstate", P.STRING),
            Param("clustertype", P.STRING),
            Param("hypervisor", P.STRING),
        ),
        role=RA,
        item_key="cluster",
        description="Updates a cluster",
    ),
    ApiCommand(
        "deleteCluster",
        lambda c, a: _delete(c, Cluster, "clusters", "cluster", a["id"]),
        (ID,),
        role=RA,
        shape="success",
        description="Deletes a cluster",
    ),
)
