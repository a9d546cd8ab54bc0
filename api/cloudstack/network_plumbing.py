"""What a physical network carries (root admins; router elements also domain admins, as 4.3):
traffic types and their hypervisor labels, network service providers and their router
elements, pods' storage network ranges, and the catalogues of services, isolation methods and
traffic implementors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import limit_sql
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Paging, Param, ParamType, not_found
from commands import network_plumbing as cmd
from commands import network_storage as ranges
from domain.errors import InvalidParameter
from domain.lb_stickiness import capability_text
from domain.network_addressing import ISOLATION_LIMITS
from domain.network_providers import INTERNAL_LB_VM, PROVIDER_SERVICES, Labels
from domain.network_storage import checked_range
from stratus.db import contains

P = ParamType
RA = Role.ROOT_ADMIN
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"

# What Stratus knows of each service beyond its providers (4.3's capability names).
CAPABILITIES: dict[str, list[tuple[str, str]]] = {
    "Firewall": [("SupportedProtocols", "tcp,udp,icmp"), ("MultipleIps", "true")],
    "Lb": [
        ("SupportedLbAlgorithms", "roundrobin,leastconn,source"),
        ("SupportedProtocols", "tcp, udp, tcp-proxy, ssl"),
        ("SupportedLBIsolation", "dedicated"),
        ("SupportedStickinessMethods", capability_text()),
        ("SslTermination", "true"),
    ],
    "SourceNat": [("SupportedSourceNatTypes", "peraccount"), ("RedundantRouter", "false")],
    "Gateway": [("RedundantRouter", "false")],
    "Vpn": [("SupportedVpnTypes", "pptp,l2tp,ipsec"), ("VpnTypes", "removeaccessvpn")],
}
# Who implements each kind of traffic in Stratus (4.3 names its network gurus here).
IMPLEMENTORS: dict[str, tuple[str, ...]] = {
    "Public": ("PublicNetworkGuru",),
    "Guest": ("GuestNetworkGuru", "VxlanGuestNetworkGuru", "DirectNetworkGuru"),
    "Management": ("PodBasedNetworkGuru",),
    "Control": ("ControlNetworkGuru",),
    "Storage": ("StorageNetworkGuru",),
}


def _one(call: Call, table: str, row_id: str, name: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(f"SELECT * FROM {table} WHERE id = %s", (row_id,)).fetchone()
    if row is None:
        raise not_found(name, row_id)
    return dict(row)


def _physical(call: Call, physical_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM physical_networks WHERE id = %s AND removed = 0", (physical_id,)
        ).fetchone()
    if row is None:
        raise not_found("physicalnetworkid", physical_id)
    return dict(row)


def _count(call: Call, sql: str, params: tuple[Any, ...]) -> int:
    with call.read() as cursor:
        return int(cursor.execute(sql, params).fetchone()["n"])


def _page(
    call: Call, table: str, where: list[str], params: list[Any], args: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    sql = f" FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            f"SELECT *{sql} ORDER BY created, ordinal, id" + limit_sql(args["paging"]), params
        ).fetchall()
    return [dict(r) for r in rows], int(count)


def _sliced(items: list[dict[str, Any]], paging: Paging) -> Listing:
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(items[paging.offset : end], len(items))


def _job(
    call: Call, physical_id: str, event: str, text: str, work: Callable[[], dict[str, Any]]
) -> Submitted:
    """4.3 runs these as jobs on the physical network."""
    return run_async(
        call,
        instance_type="PhysicalNetwork",
        instance_id=UUID(physical_id),
        event_type=event,
        description=text,
        work=work,
    )


# ---- traffic types ---------------------------------------------------------------------------


def render_traffic_type(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "traffictype": row["traffic_type"],
        "physicalnetworkid": row["physical_network_id"],
    }
    for hypervisor in ("kvm", "xen", "vmware", "hyperv"):
        if row[f"{hypervisor}_label"]:
            body[f"{hypervisor}networklabel"] = row[f"{hypervisor}_label"]
    return body


def _traffic_type(call: Call, traffic_id: str) -> dict[str, Any]:
    return render_traffic_type(_one(call, "physical_network_traffic_types", traffic_id, "id"))


def _labels(args: dict[str, Any]) -> Labels:
    return Labels(
        args["kvmnetworklabel"],
        args["xennetworklabel"],
        args["vmwarenetworklabel"],
        args["hypervnetworklabel"],
    )


def add_traffic_type(call: Call, args: dict[str, Any]) -> Submitted:
    physical = _physical(call, args["physicalnetworkid"])
    command = cmd.AddTrafficType(
        UUID(physical["id"]),
        args["traffictype"],
        _labels(args),
        args["vlan"],
        args["isolationmethod"],
    )

    def work() -> dict[str, Any]:
        outcome = cmd.add_traffic_type(call.store, command)
        return {"object": "traffictype", "id": str(outcome.id)}

    text = f"Adding {args['traffictype']} traffic to physical network {physical['name']}"
    return _job(call, physical["id"], "TRAFFIC.TYPE.CREATE", text, work)


def update_traffic_type(call: Call, args: dict[str, Any]) -> Submitted:
    row = _one(call, "physical_network_traffic_types", args["id"], "id")

    def work() -> dict[str, Any]:
        cmd.update_traffic_type(
            call.store, UUID(row["physical_network_id"]), UUID(row["id"]), _labels(args)
        )
        return {"object": "traffictype", "id": row["id"]}

    text = f"Updating {row['traffic_type']} traffic labels"
    return _job(call, row["physical_network_id"], "TRAFFIC.TYPE.UPDATE", text, work)


def _traffic_users(call: Call, row: dict[str, Any]) -> int:
    """What still rides on a traffic type: guest networks, public or storage ranges."""
    physical_id = row["physical_network_id"]
    if row["traffic_type"] == "Guest":
        sql = "SELECT count(*) AS n FROM networks WHERE physical_network_id = %s AND removed = 0"
    elif row["traffic_type"] == "Public":
        sql = "SELECT count(*) AS n FROM vlan_ip_ranges WHERE physical_network_id = %s"
        sql += " AND removed = 0 AND network_id IS NULL"  # a guest network's ranges ride Guest
    else:
        return 0
    return _count(call, sql, (physical_id,))


def delete_traffic_type(call: Call, args: dict[str, Any]) -> Submitted:
    row = _one(call, "physical_network_traffic_types", args["id"], "id")

    def work() -> dict[str, Any]:
        users = _traffic_users(call, row)
        cmd.delete_traffic_type(
            call.store, UUID(row["physical_network_id"]), UUID(row["id"]), users
        )
        return {"success": True}

    text = f"Deleting {row['traffic_type']} traffic"
    return _job(call, row["physical_network_id"], "TRAFFIC.TYPE.DELETE", text, work)


def list_traffic_types(call: Call, args: dict[str, Any]) -> Listing:
    physical = _physical(call, args["physicalnetworkid"])
    where, params = ["physical_network_id = %s"], [physical["id"]]
    if args["keyword"]:
        clause, values = contains(("traffic_type",), args["keyword"])
        where.append(clause)
        params += values
    rows, count = _page(call, "physical_network_traffic_types", where, params, args)
    return Listing([render_traffic_type(r) for r in rows], count)


def list_traffic_type_implementors(call: Call, args: dict[str, Any]) -> Listing:
    wanted = (args["traffictype"] or "").strip().lower()
    if wanted and wanted not in {t.lower() for t in IMPLEMENTORS}:
        known = ", ".join(IMPLEMENTORS)
        raise InvalidParameter(f"Invalid traffic type {args['traffictype']}: use one of {known}")
    items = [
        {"traffictype": kind, "traffictypeimplementor": name}
        for kind, names in IMPLEMENTORS.items()
        if not wanted or kind.lower() == wanted
        for name in names
    ]
    return _sliced(_keyword(items, args, "traffictypeimplementor"), args["paging"])


def _keyword(items: list[dict[str, Any]], args: dict[str, Any], key: str) -> list[dict[str, Any]]:
    word = (args.get("keyword") or "").lower()
    return [i for i in items if word in str(i[key]).lower()] if word else items


# ---- service providers -----------------------------------------------------------------------


def render_provider(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "physicalnetworkid": row["physical_network_id"],
        "state": row["state"],
        "servicelist": [s for s in row["services"].split(",") if s],
        "canenableindividualservice": row["name"] != "SecurityGroupProvider",
    }


def _provider(call: Call, provider_id: str) -> dict[str, Any]:
    return render_provider(_one(call, "network_service_providers", provider_id, "id"))


def add_provider(call: Call, args: dict[str, Any]) -> Submitted:
    physical = _physical(call, args["physicalnetworkid"])
    if args["destinationphysicalnetworkid"]:
        raise InvalidParameter("Bridging providers between physical networks is not built yet")
    command = cmd.AddProvider(UUID(physical["id"]), args["name"], args["servicelist"])

    def work() -> dict[str, Any]:
        outcome = cmd.add_provider(call.store, command)
        return {"object": "networkserviceprovider", "id": str(outcome.id)}

    text = f"Adding provider {args['name']} to physical network {physical['name']}"
    return _job(call, physical["id"], "SERVICE.PROVIDER.CREATE", text, work)


def update_provider(call: Call, args: dict[str, Any]) -> Submitted:
    row = _one(call, "network_service_providers", args["id"], "id")
    command = cmd.UpdateProvider(
        UUID(row["physical_network_id"]), UUID(row["id"]), args["state"], args["servicelist"]
    )

    def work() -> dict[str, Any]:
        cmd.update_provider(call.store, command)
        return {"object": "networkserviceprovider", "id": row["id"]}

    text = f"Updating provider {row['name']}"
    return _job(call, row["physical_network_id"], "SERVICE.PROVIDER.UPDATE", text, work)


def _networks_served(call: Call, row: dict[str, Any]) -> int:
    """Live guest networks on the provider's physical network whose offering names it."""
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT o.services FROM networks n JOIN network_offerings o ON o.id = n.offering_id "
            "WHERE n.physical_network_id = %s AND n.removed = 0",
            (row["physical_network_id"],),
        ).fetchall()
    return sum(1 for r in rows if f'"{row["name"]}"' in (r["services"] or ""))


def delete_provider(call: Call, args: dict[str, Any]) -> Submitted:
    row = _one(call, "network_service_providers", args["id"], "id")

    def work() -> dict[str, Any]:
        using = _networks_served(call, row)
        cmd.delete_provider(call.store, UUID(row["physical_network_id"]), UUID(row["id"]), using)
        return {"success": True}

    text = f"Deleting provider {row['name']}"
    return _job(call, row["physical_network_id"], "SERVICE.PROVIDER.DELETE", text, work)


def list_providers(call: Call, args: dict[str, Any]) -> Listing:
    where, params = [], []
    if args["physicalnetworkid"]:
        where.append("physical_network_id = %s")
        params.append(_physical(call, args["physicalnetworkid"])["id"])
    for key in ("name", "state"):
        if args[key]:
            where.append(f"lower({key}) = lower(%s)")
            params.append(args[key])
    if args["keyword"]:
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    rows, count = _page(call, "network_service_providers", where, params, args)
    return Listing([render_provider(r) for r in rows], count)


def list_supported_services(call: Call, args: dict[str, Any]) -> Listing:
    provider_filter = (args["provider"] or "").lower()
    service_filter = (args["service"] or "").lower()
    services = sorted({s for offered in PROVIDER_SERVICES.values() for s in offered})
    items = []
    for service in services:
        providers = [p for p, offered in PROVIDER_SERVICES.items() if service in offered]
        if service_filter and service.lower() != service_filter:
            continue
        if provider_filter and provider_filter not in {p.lower() for p in providers}:
            continue
        items.append(
            {
                "name": service,
                "provider": [{"name": p} for p in providers],
                "capability": [
                    {"name": n, "value": v, "canchooseservicecapability": False}
                    for n, v in CAPABILITIES.get(service, ())
                ],
            }
        )
    return _sliced(_keyword(items, args, "name"), args["paging"])


def list_isolation_methods(call: Call, args: dict[str, Any]) -> Listing:
    items = [{"name": method} for method in ISOLATION_LIMITS]
    return _sliced(_keyword(items, args, "name"), args["paging"])


# ---- virtual router and internal load balancer elements -------------------------------------
# Both kinds live in `virtual_router_elements`; a provider's name tells them apart.

_PROVIDERS_NAMED = "provider_id IN (SELECT id FROM network_service_providers WHERE name {} '{}')"
_OF_KIND = {
    False: _PROVIDERS_NAMED.format("<>", INTERNAL_LB_VM),
    True: _PROVIDERS_NAMED.format("=", INTERNAL_LB_VM),
}
_ITEM = {False: "virtualrouterelement", True: "internalloadbalancerelement"}


def render_element(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "nspid": row["provider_id"], "enabled": bool(row["enabled"])}


def _element_row(call: Call, element_id: str, internal: bool) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            f"SELECT * FROM virtual_router_elements WHERE id = %s AND {_OF_KIND[internal]}",
            (element_id,),
        ).fetchone()
    if row is None:
        raise not_found("id", element_id)
    return dict(row)


def _element(call: Call, element_id: str) -> dict[str, Any]:
    return render_element(_element_row(call, element_id, False))


def _internal_element(call: Call, element_id: str) -> dict[str, Any]:
    return render_element(_element_row(call, element_id, True))


def create_element(call: Call, args: dict[str, Any]) -> Submitted:
    provider = _one(call, "network_service_providers", args["nspid"], "nspid")
    command = cmd.CreateRouterElement(
        UUID(provider["physical_network_id"]), UUID(provider["id"]), args.get("providertype")
    )
    internal = call.command.name == "createInternalLoadBalancerElement"
    create = cmd.create_internal_lb_element if internal else cmd.create_router_element

    def work() -> dict[str, Any]:
        outcome = create(call.store, command)
        return {"object": _ITEM[internal], "id": str(outcome.id)}

    text = f"Creating an element for provider {provider['name']}"
    return _job(call, provider["physical_network_id"], "SERVICE.PROVIDER.CREATE", text, work)


def configure_element(call: Call, args: dict[str, Any]) -> Submitted:
    internal = call.command.name == "configureInternalLoadBalancerElement"
    row = _element_row(call, args["id"], internal)

    def work() -> dict[str, Any]:
        cmd.configure_router_element(
            call.store, UUID(row["physical_network_id"]), UUID(row["id"]), args["enabled"]
        )
        return {"object": _ITEM[internal], "id": row["id"]}

    text = f"Configuring {'an internal load balancer' if internal else 'a virtual router'} element"
    return _job(call, row["physical_network_id"], "NETWORK.ELEMENT.CONFIGURE", text, work)


def list_elements(call: Call, args: dict[str, Any]) -> Listing:
    internal = call.command.name == "listInternalLoadBalancerElements"
    where, params = [_OF_KIND[internal]], []
    for key, column in (("id", "id"), ("nspid", "provider_id")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args["enabled"] is not None:
        where.append("enabled = %s")
        params.append(int(args["enabled"]))
    rows, count = _page(call, "virtual_router_elements", where, params, args)
    return Listing([render_element(r) for r in rows], count)


# ---- storage network ranges ------------------------------------------------------------------


def render_storage_range(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "podid": row["pod_id"],
        "zoneid": row["zone_id"],
        "startip": row["start_ip"],
        "endip": row["end_ip"],
        "gateway": row["gateway"],
        "netmask": row["netmask"],
    }
    if row["vlan"] is not None:
        body["vlan"] = row["vlan"]
    return body


def _storage_range(call: Call, range_id: str) -> dict[str, Any]:
    return render_storage_range(_one(call, "storage_ip_ranges", range_id, "id"))


def _pod(call: Call, pod_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM pods WHERE id = %s AND removed = 0", (pod_id,)
        ).fetchone()
    if row is None:
        raise not_found("podid", pod_id)
    return dict(row)


def _pod_range(pod: dict[str, Any]) -> tuple[str, str] | None:
    return (pod["start_ip"], pod["end_ip"]) if pod["start_ip"] and pod["end_ip"] else None


def _check_storage_traffic(call: Call, zone_id: str) -> None:
    """As 4.3: storage ranges need a physical network of the zone carrying Storage traffic."""
    found = _count(
        call,
        "SELECT count(*) AS n FROM physical_network_traffic_types t JOIN physical_networks p "
        "ON p.id = t.physical_network_id WHERE p.zone_id = %s AND p.removed = 0 "
        "AND t.traffic_type = 'Storage'",
        (zone_id,),
    )
    if not found:
        raise InvalidParameter(
            "The zone has no physical network carrying Storage traffic: add the Storage "
            "traffic type first"
        )


def _range_job(
    call: Call, range_id: UUID, event: str, text: str, work: Callable[[], dict[str, Any]]
) -> Submitted:
    return run_async(
        call,
        instance_type="StorageNetworkIpRange",
        instance_id=range_id,
        event_type=event,
        description=text,
        work=work,
        creates=event.endswith("CREATE"),
    )


def create_storage_range(call: Call, args: dict[str, Any]) -> Submitted:
    pod = _pod(call, args["podid"])
    _check_storage_traffic(call, pod["zone_id"])
    terms = checked_range(
        args["startip"], args["endip"], args["gateway"], args["netmask"], args["vlan"]
    )
    command = ranges.CreateStorageRange(UUID(pod["id"]), terms, _pod_range(pod))

    def work() -> dict[str, Any]:
        outcome = ranges.create_storage_range(call.store, command)
        return {"object": "storagenetworkiprange", "id": str(outcome.id)}

    text = f"Creating storage network range {terms['start_ip']}-{terms['end_ip']}"
    return _range_job(call, command.range_id, "STORAGE.IP.RANGE.CREATE", text, work)


def update_storage_range(call: Call, args: dict[str, Any]) -> Submitted:
    row = _one(call, "storage_ip_ranges", args["id"], "id")
    pod = _pod(call, row["pod_id"])
    changes = {
        "start_ip": args["startip"],
        "end_ip": args["endip"],
        "netmask": args["netmask"],
        "vlan": args["vlan"],
    }
    command = ranges.UpdateStorageRange(UUID(pod["id"]), UUID(row["id"]), changes, _pod_range(pod))

    def work() -> dict[str, Any]:
        ranges.update_storage_range(call.store, command)
        return {"object": "storagenetworkiprange", "id": row["id"]}

    text = f"Updating storage network range {row['start_ip']}-{row['end_ip']}"
    return _range_job(call, UUID(row["id"]), "STORAGE.IP.RANGE.UPDATE", text, work)


def delete_storage_range(call: Call, args: dict[str, Any]) -> Submitted:
    row = _one(call, "storage_ip_ranges", args["id"], "id")

    def work() -> dict[str, Any]:
        ranges.delete_storage_range(call.store, UUID(row["pod_id"]), UUID(row["id"]))
        return {"success": True}

    text = f"Deleting storage network range {row['start_ip']}-{row['end_ip']}"
    return _range_job(call, UUID(row["id"]), "STORAGE.IP.RANGE.DELETE", text, work)


def list_storage_ranges(call: Call, args: dict[str, Any]) -> Listing:
    where, params = [], []
    for key, column in (("id", "id"), ("podid", "pod_id"), ("zoneid", "zone_id")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    sql = " FROM storage_ip_ranges" + (" WHERE " + " AND ".join(where) if where else "")
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            f"SELECT *{sql} ORDER BY created, id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render_storage_range(dict(r)) for r in rows], int(count))


# ---- the table -------------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)
LABELS = tuple(
    Param(f"{h}networklabel", P.STRING, max_length=255) for h in ("kvm", "xen", "vmware", "hyperv")
)
SERVICE_LIST = Param("servicelist", P.LIST, element=P.STRING)
NETWORK_PKG = f"{ADMIN_PKG}.network"
ROUTER_PKG = f"{ADMIN_PKG}.router"
INTERNAL_LB_PKG = f"{ADMIN_PKG}.internallb"
DA = Role.DOMAIN_ADMIN

COMMANDS = (
    ApiCommand(
        "addTrafficType",
        add_traffic_type,
        (
            Param("physicalnetworkid", P.UUID, required=True),
            Param("traffictype", P.STRING, required=True),
            *LABELS,
            Param("vlan", P.STRING),
            Param("isolationmethod", P.STRING),
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="traffictype",
        render=_traffic_type,
        java_class=f"{ADMIN_PKG}.usage.AddTrafficTypeCmd",
        description="Adds traffic type to a physical network",
    ),
    ApiCommand(
        "updateTrafficType",
        update_traffic_type,
        (ID, *LABELS),
        role=RA,
        shape="async",
        is_async=True,
        item_key="traffictype",
        render=_traffic_type,
        java_class=f"{ADMIN_PKG}.usage.UpdateTrafficTypeCmd",
        description="Updates traffic type of a physical network",
    ),
    ApiCommand(
        "deleteTrafficType",
        delete_traffic_type,
        (ID,),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.usage.DeleteTrafficTypeCmd",
        description="Deletes traffic type of a physical network",
    ),
    ApiCommand(
        "listTrafficTypes",
        list_traffic_types,
        (Param("physicalnetworkid", P.UUID, required=True),),
        role=RA,
        shape="list",
        item_key="traffictype",
        java_class=f"{ADMIN_PKG}.usage.ListTrafficTypesCmd",
        description="Lists traffic types of a given physical network.",
    ),
    ApiCommand(
        "listTrafficTypeImplementors",
        list_traffic_type_implementors,
        (Param("traffictype", P.STRING),),
        role=RA,
        shape="list",
        item_key="traffictypeimplementor",
        java_class=f"{ADMIN_PKG}.usage.ListTrafficTypeImplementorsCmd",
        description="Lists implementors of implementor of a network traffic type",
    ),
    ApiCommand(
        "listSupportedNetworkServices",
        list_supported_services,
        (Param("provider", P.STRING), Param("service", P.STRING)),
        role=RA,
        shape="list",
        item_key="networkservice",
        java_class=f"{ADMIN_PKG}.network.ListSupportedNetworkServicesCmd",
        description="Lists all network services provided by CloudStack or for the given Provider.",
    ),
    ApiCommand(
        "listNetworkIsolationMethods",
        list_isolation_methods,
        (),
        role=RA,
        shape="list",
        item_key="isolationmethod",
        java_class=f"{NETWORK_PKG}.ListNetworkIsolationMethodsCmd",
        description="Lists supported methods of network isolation",
    ),
    ApiCommand(
        "addNetworkServiceProvider",
        add_provider,
        (
            Param("name", P.STRING, required=True),
            Param("physicalnetworkid", P.UUID, required=True),
            Param("destinationphysicalnetworkid", P.UUID),
            SERVICE_LIST,
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="networkserviceprovider",
        render=_provider,
        java_class=f"{NETWORK_PKG}.AddNetworkServiceProviderCmd",
        description="Adds a network serviceProvider to a physical network",
    ),
    ApiCommand(
        "updateNetworkServiceProvider",
        update_provider,
        (ID, Param("state", P.STRING), SERVICE_LIST),
        role=RA,
        shape="async",
        is_async=True,
        item_key="networkserviceprovider",
        render=_provider,
        java_class=f"{NETWORK_PKG}.UpdateNetworkServiceProviderCmd",
        description="Updates a network serviceProvider of a physical network",
    ),
    ApiCommand(
        "deleteNetworkServiceProvider",
        delete_provider,
        (ID,),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{NETWORK_PKG}.DeleteNetworkServiceProviderCmd",
        description="Deletes a Network Service Provider.",
    ),
    ApiCommand(
        "listNetworkServiceProviders",
        list_providers,
        (Param("name", P.STRING), Param("physicalnetworkid", P.UUID), Param("state", P.STRING)),
        role=RA,
        shape="list",
        item_key="networkserviceprovider",
        java_class=f"{NETWORK_PKG}.ListNetworkServiceProvidersCmd",
        description="Lists network serviceproviders for a given physical network.",
    ),
    ApiCommand(
        "createVirtualRouterElement",
        create_element,
        (Param("nspid", P.UUID, required=True), Param("providertype", P.STRING)),
        role=DA,
        shape="async",
        is_async=True,
        item_key="virtualrouterelement",
        render=_element,
        java_class=f"{ROUTER_PKG}.CreateVirtualRouterElementCmd",
        description="Create a virtual router element.",
    ),
    ApiCommand(
        "configureVirtualRouterElement",
        configure_element,
        (ID, Param("enabled", P.BOOLEAN, required=True)),
        role=DA,
        shape="async",
        is_async=True,
        item_key="virtualrouterelement",
        render=_element,
        java_class=f"{ROUTER_PKG}.ConfigureVirtualRouterElementCmd",
        description="Configures a virtual router element.",
    ),
    ApiCommand(
        "createStorageNetworkIpRange",
        create_storage_range,
        (
            Param("podid", P.UUID, required=True),
            Param("gateway", P.STRING, required=True),
            Param("netmask", P.STRING, required=True),
            Param("startip", P.STRING, required=True),
            Param("endip", P.STRING),
            Param("vlan", P.INTEGER),
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="storagenetworkiprange",
        render=_storage_range,
        java_class=f"{NETWORK_PKG}.CreateStorageNetworkIpRangeCmd",
        description="Creates a Storage network IP range.",
    ),
    ApiCommand(
        "updateStorageNetworkIpRange",
        update_storage_range,
        (
            ID,
            Param("startip", P.STRING),
            Param("endip", P.STRING),
            Param("netmask", P.STRING),
            Param("vlan", P.INTEGER),
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="storagenetworkiprange",
        render=_storage_range,
        java_class=f"{NETWORK_PKG}.UpdateStorageNetworkIpRangeCmd",
        description="Update a Storage network IP range, only allowed when no IPs in this range "
        "have been allocated.",
    ),
    ApiCommand(
        "deleteStorageNetworkIpRange",
        delete_storage_range,
        (ID,),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{NETWORK_PKG}.DeleteStorageNetworkIpRangeCmd",
        description="Deletes a storage network IP Range.",
    ),
    ApiCommand(
        "listStorageNetworkIpRange",
        list_storage_ranges,
        (Param("id", P.UUID), Param("podid", P.UUID), Param("zoneid", P.UUID)),
        role=RA,
        shape="list",
        item_key="storagenetworkiprange",
        java_class=f"{NETWORK_PKG}.ListStorageNetworkIpRangeCmd",
        description="List a storage network IP range.",
    ),
    ApiCommand(
        "listVirtualRouterElements",
        list_elements,
        (Param("id", P.UUID), Param("nspid", P.UUID), Param("enabled", P.BOOLEAN)),
        role=DA,
        shape="list",
        item_key="virtualrouterelement",
        java_class=f"{ROUTER_PKG}.ListVirtualRouterElementsCmd",
        description="Lists all available virtual router elements.",
    ),
    ApiCommand(
        "createInternalLoadBalancerElement",
        create_element,
        (Param("nspid", P.UUID, required=True),),
        role=DA,
        shape="async",
        is_async=True,
        item_key="internalloadbalancerelement",
        render=_internal_element,
        java_class=f"{INTERNAL_LB_PKG}.CreateInternalLoadBalancerElementCmd",
        description="Create an Internal Load Balancer element.",
    ),
    ApiCommand(
        "configureInternalLoadBalancerElement",
        configure_element,
        (ID, Param("enabled", P.BOOLEAN, required=True)),
        role=DA,
        shape="async",
        is_async=True,
        item_key="internalloadbalancerelement",
        render=_internal_element,
        java_class=f"{INTERNAL_LB_PKG}.ConfigureInternalLoadBalancerElementCmd",
        description="Configures an Internal Load Balancer element.",
    ),
    ApiCommand(
        "listInternalLoadBalancerElements",
        list_elements,
        (Param("id", P.UUID), Param("nspid", P.UUID), Param("enabled", P.BOOLEAN)),
        role=DA,
        shape="list",
        item_key="internalloadbalancerelement",
        java_class=f"{INTERNAL_LB_PKG}.ListInternalLoadBalancerElementsCmd",
        description="Lists all available Internal Load Balancer elements.",
    ),
)
