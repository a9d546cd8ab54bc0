"""Physical networks (root admins only) and network offerings (managed by root admins, listed by
everyone): create, update, delete and list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import orjson

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.common import domain_row, limit_sql
from api.cloudstack.configuration import current_value
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from commands import network_offerings as offers
from commands import networks as cmd
from commands.offerings import seed_id
from commands.routers import ROUTER_OFFERING
from domain.errors import InvalidParameter
from domain.network_addressing import VnetRanges
from domain.network_claims import ClaimKind
from domain.network_offering import BalancerLimits, OfferingTerms
from domain.network_physical import PhysicalOptions
from projections.networks import held_values
from stratus.db import contains

P = ParamType
RA = Role.ROOT_ADMIN
MAX_CONNECTIONS_SETTING = "network.loadbalancer.haproxy.max.conn"
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"
USER_PKG = "org.apache.cloudstack.api.command.user"


def _row(call: Call, table: str, row_id: str, name: str = "id") -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            f"SELECT * FROM {table} WHERE id = %s AND removed = 0", (row_id,)
        ).fetchone()
    if row is None:
        raise not_found(name, row_id)
    return dict(row)


def _count(call: Call, sql: str, params: tuple[Any, ...]) -> int:
    with call.read() as cursor:
        return int(cursor.execute(sql, params).fetchone()["n"])


def _listed(
    call: Call,
    table: str,
    where: list[str],
    params: list[Any],
    args: dict[str, Any],
    order: str = "created, id",
) -> tuple[list[dict[str, Any]], int]:
    if args.get("keyword"):
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    sql = f" FROM {table} WHERE " + " AND ".join(["removed = 0", *where])
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            f"SELECT *{sql} ORDER BY {order}" + limit_sql(args["paging"]), params
        ).fetchall()
    return [dict(r) for r in rows], int(count)


# ---- physical networks -----------------------------------------------------------------------


def render_physical_network(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "name": row["name"],
        "zoneid": row["zone_id"],
        "state": row["state"],
        "isolationmethods": row["isolation"],
        "broadcastdomainrange": row.get("broadcast_domain_range") or "ZONE",
        "networkspeed": row["speed"],
    }
    if row["vlan"]:
        body["vlan"] = row["vlan"]
    if row["tags"]:
        body["tags"] = row["tags"]
    if row.get("domain_id"):
        body["domainid"] = row["domain_id"]
    return body


def _physical(call: Call, physical_id: str) -> dict[str, Any]:
    return render_physical_network(_row(call, "physical_networks", physical_id))


def _physical_job(
    call: Call, physical_id: UUID, event: str, text: str, work: Callable[[], dict[str, Any]]
) -> Submitted:
    """4.3 runs every change of a physical network as a job; creates also answer the id."""
    return run_async(
        call,
        instance_type="PhysicalNetwork",
        instance_id=physical_id,
        event_type=f"PHYSICAL.NETWORK.{event}",
        description=text,
        work=work,
        creates=event == "CREATE",
    )


def create_physical_network(call: Call, args: dict[str, Any]) -> Submitted:
    zone = places._row(call, "zones", args["zoneid"], "zone")
    methods = [m for m in (args["isolationmethods"] or ["VLAN"]) if m]
    if len(methods) != 1:
        raise InvalidParameter("Specify exactly one isolation method: VLAN or VXLAN")
    domain = domain_row(call, args["domainid"]) if args["domainid"] else None
    command = cmd.CreatePhysicalNetwork(
        UUID(zone["id"]),
        args["name"],
        methods[0],
        args["vlan"],
        options=PhysicalOptions(
            speed=args["networkspeed"],
            tags=args["tags"],
            domain_id=UUID(domain["id"]) if domain else None,
        ),
        broadcast_domain_range=args["broadcastdomainrange"],
    )
    return _physical_job(
        call,
        command.physical_network_id,
        "CREATE",
        f"Creating physical network {args['name']}",
        lambda: _physical_result(cmd.create_physical_network(call.store, command)),
    )


def update_physical_network(call: Call, args: dict[str, Any]) -> Submitted:
    row = _row(call, "physical_networks", args["id"])
    in_use: frozenset[int] = frozenset()
    if args["vlan"] is not None:
        with call.read() as cursor:
            held = held_values(cursor, ClaimKind.GUEST_VNET, row["id"])
        in_use = frozenset(int(v) for v in held if v.isdigit())
    command = cmd.UpdatePhysicalNetwork(
        UUID(row["id"]),
        args["vlan"],
        args["state"],
        in_use,
        speed=args["networkspeed"],
        tags=args["tags"],
    )
    return _physical_job(
        call,
        UUID(row["id"]),
        "UPDATE",
        f"Updating physical network {row['name']}",
        lambda: _physical_result(cmd.update_physical_network(call.store, command)),
    )


def delete_physical_network(call: Call, args: dict[str, Any]) -> Submitted:
    row = _row(call, "physical_networks", args["id"])

    def work() -> dict[str, Any]:
        using = _count(
            call,
            "SELECT count(*) AS n FROM networks WHERE physical_network_id = %s AND removed = 0",
            (row["id"],),
        )
        cmd.delete_physical_network(call.store, UUID(row["id"]), using)
        return {"success": True}

    return _physical_job(
        call, UUID(row["id"]), "DELETE", f"Deleting physical network {row['name']}", work
    )


def _physical_result(outcome: Any) -> dict[str, Any]:
    return {"object": "physicalnetwork", "id": str(outcome.id)}


def list_physical_networks(call: Call, args: dict[str, Any]) -> Listing:
    where, params = [], []
    for key, column in (("id", "id"), ("zoneid", "zone_id"), ("name", "name")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    rows, count = _listed(call, "physical_networks", where, params, args)
    return Listing([render_physical_network(r) for r in rows], count)


def lowest_free_vnets(call: Call, physical: dict[str, Any], limit: int = 8) -> tuple[int, ...]:
    """Guest ids the read model shows free, lowest first: where an allocation looks first."""
    if not physical["vlan"]:
        return ()
    with call.read() as cursor:
        held = held_values(cursor, ClaimKind.GUEST_VNET, physical["id"])
    pool = VnetRanges.parse(physical["vlan"], physical["isolation"])
    free: list[int] = []
    for vnet in pool.probe(0):
        if str(vnet) not in held:
            free.append(vnet)
            if len(free) == limit:
                break
    return tuple(free)


# ---- network offerings -----------------------------------------------------------------------


ROUTER_PROVIDERS = frozenset({"VirtualRouter", "VpcVirtualRouter"})


def _router_offering_of(row: dict[str, Any], services: dict[str, list[str]]) -> str | None:
    """The system offering its networks' routers start with: its own, else (when a virtual
    router provides any of its services) the default router offering, as 4.3 answers it."""
    if row["router_offering_id"]:
        return str(row["router_offering_id"])
    if any(ROUTER_PROVIDERS & set(providers) for providers in services.values()):
        return str(seed_id("service", ROUTER_OFFERING))
    return None


def render_network_offering(row: dict[str, Any]) -> dict[str, Any]:
    services = orjson.loads(row["services"] or "{}")
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "displaytext": row["display_text"],
        "traffictype": "Guest",
        "isdefault": bool(row["is_default"]),
        "specifyvlan": bool(row["specify_vlan"]),
        "conservemode": bool(row["conserve_mode"]),
        "specifyipranges": bool(row["specify_ip_ranges"]),
        "availability": row["availability"],
        "state": row["state"],
        "guestiptype": row["guest_type"],
        "forvpc": bool(row.get("for_vpc")),
        "ispersistent": bool(row["is_persistent"]),
        "egressdefaultpolicy": bool(row["egress_default_policy"]),
        "created": format_stored_date(row["created"]),
        "service": render_services(services),
    }
    if row["network_rate"] is not None:
        body["networkrate"] = row["network_rate"]
    if row["tags"]:
        body["tags"] = row["tags"]
    if row["max_connections"] is not None:
        body["maxconnections"] = row["max_connections"]
    router_offering = _router_offering_of(row, services)
    if router_offering:
        body["serviceofferingid"] = router_offering
    details = orjson.loads(row["details"] or "{}")
    if details:
        body["details"] = details
    return body


def render_services(services: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {"name": name, "provider": [{"name": p} for p in providers], "capability": []}
        for name, providers in sorted(services.items())
    ]


def _offering(call: Call, offering_id: str) -> dict[str, Any]:
    return render_network_offering(_row(call, "network_offerings", offering_id))


def _services(args: dict[str, Any]) -> dict[str, list[str]]:
    """`supportedservices`, with providers from `serviceproviderlist` (VirtualRouter default)."""
    providers: dict[str, list[str]] = {}
    for group in args["serviceproviderlist"] or ():
        if "service" in group and "provider" in group:
            providers.setdefault(group["service"].lower(), []).append(group["provider"])
    return {s: providers.get(s.lower(), []) for s in args["supportedservices"] or ()}


def _lb_isolation(groups: Any) -> str:
    """`servicecapabilitylist`: the Lb service's SupportedLBIsolation (dedicated or shared);
    the other capabilities 4.3 lets an offering choose are refused by name."""
    found = ""
    for group in groups:
        service = str(group.get("service", ""))
        kind = str(group.get("capabilitytype", ""))
        if service.lower() != "lb" or kind.lower() != "supportedlbisolation":
            raise InvalidParameter(
                f"Choosing the capability {kind} of the {service} service is not built yet: "
                "servicecapabilitylist takes SupportedLBIsolation of the Lb service"
            )
        found = str(group.get("capabilityvalue", ""))
        if not found:
            raise InvalidParameter("SupportedLBIsolation needs a capabilityvalue")
    return found


def _balancing(call: Call, args: dict[str, Any], services: dict[str, list[str]]) -> BalancerLimits:
    """`maxconnections` and `keepaliveenabled`; an offering with the Lb service and no limit
    takes the limit in force now (`network.loadbalancer.haproxy.max.conn`), as 4.3 does."""
    limit = args["maxconnections"]
    if limit is None and any(name.lower() == "lb" for name in services):
        limit = int(current_value(call, MAX_CONNECTIONS_SETTING))
    return BalancerLimits(limit, bool(args["keepaliveenabled"]))


def router_offering(call: Call, offering_id: str | None) -> str | None:
    """`serviceofferingid`: a system offering for virtual routers (4.3's checks and texts)."""
    if offering_id is None:
        return None
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id, system_vm_type FROM service_offerings WHERE id = %s AND removed = 0",
            (offering_id,),
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"Cannot find specified service offering: {offering_id}")
    if (row["system_vm_type"] or "").lower() != "domainrouter":
        raise InvalidParameter(
            f"The specified service offering {offering_id} cannot be used by virtual router!"
        )
    return str(row["id"])


def _details(groups: Any) -> dict[str, str]:
    """`details[0].<detail>=<value>`: every group's pairs (4.3 reads the first group)."""
    found: dict[str, str] = {}
    for group in groups:
        found.update({str(k): str(v) for k, v in group.items()})
    return found


def create_network_offering(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if (args["traffictype"] or "Guest").lower() != "guest":
        raise InvalidParameter("Only network offerings for Guest traffic are supported")
    services = _services(args)
    terms = OfferingTerms(
        args["name"],
        args["displaytext"],
        args["guestiptype"],
        services,
        specify_vlan=bool(args["specifyvlan"]),
        specify_ip_ranges=bool(args["specifyipranges"]),
        conserve_mode=args["conservemode"] is not False,
        availability=args["availability"] or "Optional",
        network_rate=args["networkrate"],
        tags=args["tags"] or "",
        egress_default_policy=args["egressdefaultpolicy"] is not False,
        lb_isolation=_lb_isolation(args["servicecapabilitylist"] or ()),
        balancing=_balancing(call, args, services),
        is_persistent=bool(args["ispersistent"]),
        router_offering_id=router_offering(call, args["serviceofferingid"]),
        details=_details(args["details"] or ()),
    )
    outcome = call.write(offers.create_network_offering, offers.CreateNetworkOffering(terms))
    return _offering(call, str(outcome.id))


def update_network_offering(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if args["id"] is None:  # 4.3 takes the id as optional, then fails to find the offering
        raise InvalidParameter("Specify the id of the network offering to update")
    row = _row(call, "network_offerings", args["id"])
    changes = {
        field: args[key]
        for key, field in (
            ("name", "name"),
            ("displaytext", "display_text"),
            ("state", "state"),
            ("availability", "availability"),
            ("maxconnections", "max_connections"),
            ("keepaliveenabled", "keep_alive"),
            ("sortkey", "sort_key"),
        )
        if args[key] is not None
    }
    call.write(
        lambda store, _: offers.update_network_offering(store, UUID(row["id"]), changes), None
    )
    return _offering(call, row["id"])


def delete_network_offering(call: Call, args: dict[str, Any]) -> None:
    row = _row(call, "network_offerings", args["id"])
    using = _count(
        call,
        "SELECT count(*) AS n FROM networks WHERE offering_id = %s AND removed = 0",
        (row["id"],),
    )
    call.write(lambda store, _: offers.delete_network_offering(store, UUID(row["id"]), using), None)


_OFFERING_FILTERS = (
    ("id", "id = %s"),
    ("name", "lower(name) = lower(%s)"),
    ("displaytext", "display_text = %s"),
    ("state", "lower(state) = lower(%s)"),
    ("guestiptype", "lower(guest_type) = lower(%s)"),
    ("availability", "lower(availability) = lower(%s)"),
    ("isdefault", "is_default = %s"),
    ("specifyvlan", "specify_vlan = %s"),
    ("specifyipranges", "specify_ip_ranges = %s"),
    ("tags", "tags = %s"),
    ("traffictype", "lower(%s) = 'guest'"),  # every network offering is for guest traffic
    ("forvpc", "for_vpc = %s"),
)


def list_network_offerings(call: Call, args: dict[str, Any]) -> Listing:
    where, params = [], []
    for key, clause in _OFFERING_FILTERS:
        if args[key] is not None:
            where.append(clause)
            params.append(int(args[key]) if isinstance(args[key], bool) else args[key])
    if args["istagged"] is not None:
        where.append("tags <> ''" if args["istagged"] else "tags = ''")
    if args["networkid"] is not None:
        clauses, values = _upgrades_of(call, args["networkid"])
        where += clauses
        params += values
    rows, count = _listed(
        call, "network_offerings", where, params, args, order="sort_key, created, id"
    )
    wanted = {s.lower() for s in args["supportedservices"] or ()}
    if args["sourcenatsupported"] is not None:
        rows = [r for r in rows if ("SourceNat" in r["services"]) == args["sourcenatsupported"]]
        count = len(rows)
    items = [render_network_offering(r) for r in rows]
    if wanted:
        items = [i for i in items if wanted <= {s["name"].lower() for s in i["service"]}]
        count = len(items)
    return Listing(items, count)


def _upgrades_of(call: Call, network_id: str) -> tuple[list[str], list[Any]]:
    """The offerings a network may change to, as 4.3 lists them: enabled, of the same guest
    type and `specifyvlan`, for VPC tiers exactly when the network is one, not its own."""
    from api.cloudstack.networks import network_row  # it imports this module

    network = network_row(call, network_id, "networkid")
    with call.read() as cursor:
        current = cursor.execute(
            "SELECT id, guest_type, specify_vlan FROM network_offerings WHERE id = %s",
            (network["offering_id"],),
        ).fetchone()
    return (
        [
            "id <> %s",
            "state = 'Enabled'",
            "guest_type = %s",
            "specify_vlan = %s",
            "for_vpc = %s",
        ],
        [
            current["id"],
            current["guest_type"],
            int(current["specify_vlan"]),
            int(bool(network.get("vpc_id"))),
        ],
    )


# ---- the table -------------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)
SERVICES = Param("supportedservices", P.LIST, element=P.STRING)

BALANCER_LIMITS = (
    Param("keepaliveenabled", P.BOOLEAN),
    Param("maxconnections", P.INTEGER, min_value=1),
)
PHYSICAL_TERMS = (
    Param("networkspeed", P.STRING, max_length=255),
    Param("tags", P.LIST, element=P.STRING),
)

COMMANDS = (
    ApiCommand(
        "createPhysicalNetwork",
        create_physical_network,
        (
            Param("zoneid", P.UUID, required=True),
            Param("name", P.STRING, required=True),
            Param("isolationmethods", P.LIST, element=P.STRING),
            Param("vlan", P.STRING, max_length=4096),
            Param("broadcastdomainrange", P.STRING),
            *PHYSICAL_TERMS,
            Param("domainid", P.UUID),
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="physicalnetwork",
        render=_physical,
        java_class=f"{ADMIN_PKG}.network.CreatePhysicalNetworkCmd",
        description="Creates a physical network",
    ),
    ApiCommand(
        "updatePhysicalNetwork",
        update_physical_network,
        (
            ID,
            Param("vlan", P.STRING, max_length=4096),
            Param("state", P.STRING),
            *PHYSICAL_TERMS,
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="physicalnetwork",
        render=_physical,
        java_class=f"{ADMIN_PKG}.network.UpdatePhysicalNetworkCmd",
        description="Updates a physical network",
    ),
    ApiCommand(
        "deletePhysicalNetwork",
        delete_physical_network,
        (ID,),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.network.DeletePhysicalNetworkCmd",
        description="Deletes a physical network",
    ),
    ApiCommand(
        "listPhysicalNetworks",
        list_physical_networks,
        (Param("id", P.UUID), Param("zoneid", P.UUID), Param("name", P.STRING)),
        role=RA,
        shape="list",
        item_key="physicalnetwork",
        java_class=f"{ADMIN_PKG}.network.ListPhysicalNetworksCmd",
        description="Lists physical networks",
    ),
    ApiCommand(
        "createNetworkOffering",
        create_network_offering,
        (
            Param("name", P.STRING, required=True),
            Param("displaytext", P.STRING, required=True),
            Param("guestiptype", P.STRING, required=True),
            Param("traffictype", P.STRING, required=True),
            Param("supportedservices", P.LIST, element=P.STRING, required=True),
            Param("serviceproviderlist", P.MAP),
            Param("specifyvlan", P.BOOLEAN),
            Param("specifyipranges", P.BOOLEAN),
            Param("conservemode", P.BOOLEAN),
            Param("availability", P.STRING),
            Param("networkrate", P.INTEGER, min_value=0),
            Param("tags", P.STRING),
            *BALANCER_LIMITS,
            Param("details", P.MAP),
            Param("egressdefaultpolicy", P.BOOLEAN),
            Param("ispersistent", P.BOOLEAN, default=False),
            Param("servicecapabilitylist", P.MAP),
            Param("serviceofferingid", P.UUID),
        ),
        role=RA,
        item_key="networkoffering",
        java_class=f"{ADMIN_PKG}.network.CreateNetworkOfferingCmd",
        description="Creates a network offering",
    ),
    ApiCommand(
        "updateNetworkOffering",
        update_network_offering,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("displaytext", P.STRING),
            Param("state", P.STRING),
            Param("availability", P.STRING),
            *BALANCER_LIMITS,
            Param("sortkey", P.INTEGER),
        ),
        role=RA,
        item_key="networkoffering",
        java_class=f"{ADMIN_PKG}.network.UpdateNetworkOfferingCmd",
        description="Updates a network offering",
    ),
    ApiCommand(
        "deleteNetworkOffering",
        delete_network_offering,
        (ID,),
        role=RA,
        shape="success",
        java_class=f"{ADMIN_PKG}.network.DeleteNetworkOfferingCmd",
        description="Deletes a network offering",
    ),
    ApiCommand(
        "listNetworkOfferings",
        list_network_offerings,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("state", P.STRING),
            Param("guestiptype", P.STRING),
            Param("isdefault", P.BOOLEAN),
            Param("zoneid", P.UUID),
            SERVICES,
            Param("availability", P.STRING),
            Param("displaytext", P.STRING),
            Param("istagged", P.BOOLEAN),
            Param("sourcenatsupported", P.BOOLEAN),
            Param("specifyipranges", P.BOOLEAN),
            Param("specifyvlan", P.BOOLEAN),
            Param("tags", P.STRING),
            Param("traffictype", P.STRING),
            Param("forvpc", P.BOOLEAN),
            Param("networkid", P.UUID),
        ),
        shape="list",
        item_key="networkoffering",
        java_class=f"{USER_PKG}.network.ListNetworkOfferingsCmd",
        description="Lists all available network offerings",
    ),
)
