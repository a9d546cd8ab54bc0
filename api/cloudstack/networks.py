"""Guest networks: createNetwork, listNetworks, updateNetwork, restartNetwork, deleteNetwork.

Isolated networks belong to one account; shared networks (root admins make them) are used by
every account of their domain, and of its subdomains unless made with subdomainaccess=false.
"""

from __future__ import annotations

import logging
from ipaddress import IPv4Network
from typing import Any
from uuid import UUID

import orjson

from api import display
from api.access import Role, can_reach, list_scope
from api.cloudstack import infrastructure as places
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    OWNER_PARAMS,
    account_row,
    domain_row,
    limit_sql,
    names_by_id,
    owner_of,
    resolve_owner_filters,
)
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.cloudstack.configuration import current_value
from api.cloudstack.jobs import run_async
from api.cloudstack.network_domains import changed_network_domain, network_domain_for
from api.cloudstack.network_offerings import lowest_free_vnets, render_services
from api.custom_ids import CUSTOM_ID
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import networks as cmd
from commands.network_devices import DeviceCandidates
from commands.network_public_ips import PublicPool, RangeRef
from commands.routers import current_router, refuse_if_upgrading
from commands.system_vms import destroy_system_vm
from domain.errors import DomainError, InvalidParameter, PermissionDenied
from domain.network_addressing import subnet
from domain.network_claims import ClaimKind
from domain.network_offering import DEVICE_PROVIDERS
from projections.network_devices import devices_with_room
from projections.networks import NETWORK_SELECT, held_values, network_by_id, vms_on_network
from stratus.db import contains

log = logging.getLogger(__name__)

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.network"
HINTS = 8  # free values read from the read models to try first
DISPLAY_NETWORK = "displaynetwork"  # a network's display flag (api/display.py)


# ---- reading ---------------------------------------------------------------------------------


def visible(call: Call, row: dict[str, Any]) -> bool:
    """Isolated networks to those who reach their account; shared ones also to their domain,
    and to its subdomains when the network allows them (`subdomainaccess`)."""
    caller = call.caller
    if can_reach(caller, account_id=row["account_id"], domain_path=row["domain_path"]):
        return True
    if row["guest_type"] != "Shared":
        return False
    if caller.domain_path == row["domain_path"]:
        return True
    reaches_subdomains = row.get("subdomain_access") in (None, 1, True)
    return reaches_subdomains and caller.domain_path.startswith(row["domain_path"])


def network_row(call: Call, network_id: str, name: str = "id") -> dict[str, Any]:
    """A network the caller may use: 431 when there is none, 531 when it is out of reach."""
    with call.read() as cursor:
        row = network_by_id(cursor, network_id)
    if row is None:
        raise not_found(name, network_id)
    if not visible(call, row):
        raise PermissionDenied("Caller does not have permission to operate on the network")
    return row


def render_network(row: dict[str, Any], zones: dict[str, str]) -> dict[str, Any]:
    uri = row["broadcast_uri"] or ""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "displaytext": row["display_text"],
        "broadcastdomaintype": {"vxlan": "Vxlan", "vlan": "Vlan"}.get(scheme, "Native"),
        "traffictype": "Guest",
        "gateway": row["gateway"],
        "netmask": row["netmask"],
        "cidr": row["cidr"],
        "zoneid": row["zone_id"],
        "zonename": zones.get(row["zone_id"], ""),
        "networkofferingid": row["offering_id"],
        "networkofferingname": row["offering_name"] or "",
        "networkofferingdisplaytext": row["offering_display_text"] or "",
        "networkofferingavailability": row["offering_availability"] or "",
        "issystem": False,
        "state": row["state"],
        "related": row["id"],
        "type": row["guest_type"],
        "acltype": "Account" if row["guest_type"] == "Isolated" else "Domain",
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "service": render_services(row["services"]),
        "restartrequired": False,
        "specifyipranges": row["guest_type"] == "Shared",
        "canusefordeploy": True,
        "ispersistent": bool(row.get("offering_persistent")),
        "displaynetwork": display.shown(row),
        "tags": [],
    }
    if uri:
        body["broadcasturi"] = uri
        body["vlan"] = row["vnet"]
    if row.get("isolated_pvlan"):  # 4.3 names a private VLAN by its two ids
        body["broadcasturi"] = f"pvlan://{row['vnet']}-i{row['isolated_pvlan']}"
        body["broadcastdomaintype"] = "Pvlan"
    if row.get("network_domain"):
        body["networkdomain"] = row["network_domain"]
    if row["guest_type"] == "Shared":
        body["subdomainaccess"] = row.get("subdomain_access") in (None, 1, True)
    body.update(reservation(row))
    if row["physical_network_id"]:
        body["physicalnetworkid"] = row["physical_network_id"]
    if row.get("vpc_id"):
        body["vpcid"] = row["vpc_id"]
        body["aclid"] = row["acl_id"]
    if row.get("ip6_cidr"):
        body["ip6cidr"], body["ip6gateway"] = row["ip6_cidr"], row["ip6_gateway"]
    if not row["cidr"]:  # an IPv6 network: no IPv4 plan to show, as 4.3 leaves them out
        for key in ("gateway", "netmask", "cidr"):
            body.pop(key)
    return body


def reservation(row: dict[str, Any]) -> dict[str, str]:
    """4.3's IP reservation as it answers it: `networkcidr`, the whole CIDR, beside `cidr`
    (the VMs' part), and `reservediprange`, the host addresses outside the VMs' part."""
    whole = row.get("network_cidr")
    if not whole or not row["cidr"]:
        return {}
    outer, inner = IPv4Network(whole), IPv4Network(row["cidr"])
    first, last = outer.network_address + 1, outer.broadcast_address - 1
    spans = []
    if inner.network_address + 1 > first:
        spans.append(f"{first}-{inner.network_address}")
    if inner.broadcast_address - 1 < last:
        spans.append(f"{inner.broadcast_address}-{last}")
    body = {"networkcidr": whole, "netmask": str(outer.netmask)}
    if spans:
        body["reservediprange"] = ",".join(spans)
    return body


def _render_all(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    zones = names_by_id(call, "zones", {r["zone_id"] for r in rows})
    for row in rows:
        if isinstance(row["services"], str | None):
            row["services"] = orjson.loads(row["services"] or "{}")
    return [render_network(r, zones) for r in display.mark(call, rows)]


def _network(call: Call, network_id: str) -> dict[str, Any]:
    return _render_all(call, [network_row(call, network_id)])[0]


_FILTERS = (
    ("id", "n.id = %s"),
    ("zoneid", "n.zone_id = %s"),
    ("physicalnetworkid", "n.physical_network_id = %s"),
    ("type", "lower(n.guest_type) = lower(%s)"),
    ("traffictype", "lower(%s) = 'guest'"),  # guest networks are the only ones listed
    (
        "acltype",
        "(CASE WHEN n.guest_type = 'Isolated' THEN 'account' ELSE 'domain' END) = lower(%s)",
    ),
    ("specifyipranges", "(CASE WHEN n.guest_type = 'Shared' THEN 1 ELSE 0 END) = %s"),
    ("issystem", "%s = 0"),  # system networks are never listed
    ("restartrequired", "%s = 0"),  # nothing marks a network for restart
    ("canusefordeploy", "%s = 1"),  # every listed network takes VMs
    ("vpcid", "n.vpc_id = %s"),
)


def list_networks(call: Call, args: dict[str, Any]) -> Listing:
    owner = resolve_owner_filters(call, args)
    scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
    visibility, params = f"({scope.clause})", list(scope.params)
    if not ({"account_id", "domain_path"} & owner.keys()):
        shared = (
            "n.guest_type = 'Shared' AND substr(%s, 1, length(d.path)) = d.path "
            "AND (n.subdomain_access = 1 OR d.path = %s)"
        )
        visibility = f"({visibility} OR ({shared}))"
        params += [call.caller.domain_path, call.caller.domain_path]
    where = ["n.removed = 0", visibility]
    for key, clause in _FILTERS:
        if args[key] is not None:
            where.append(clause)
            params.append(int(args[key]) if isinstance(args[key], bool) else args[key])
    if args["forvpc"] is not None:
        where.append("n.vpc_id IS NOT NULL" if args["forvpc"] else "n.vpc_id IS NULL")
    for service in args["supportedservices"] or ():
        where.append(
            "n.offering_id IN (SELECT id FROM network_offerings WHERE lower(services) LIKE %s)"
        )
        params.append(f'%"{service.lower()}"%')
    if args.get("keyword"):
        clause, values = contains(("n.name", "n.display_text"), args["keyword"])
        where.append(clause)
        params += values
    narrow(args, "Network", "n.id", where, params)
    display.narrow(call, args, "n.id", where, DISPLAY_NETWORK)
    sql = NETWORK_SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(sql + " ORDER BY n.seq" + limit_sql(args["paging"]), params)
        found = [dict(r) for r in rows.fetchall()]
    return Listing(_render_all(call, found), int(count))


# ---- creating and changing -------------------------------------------------------------------


def new_owner(call: Call, args: dict[str, Any], *, shared: bool = False) -> tuple[str, str]:
    """(account id, domain id) of a new network (or VPC): the caller's, or an account an admin
    names (`account` with `domainid`).

    A shared network is offered to a domain's subtree (`domainid`, the caller's by default).
    """
    caller = call.caller
    if shared:
        domain = domain_row(call, args["domainid"] or caller.domain_id)
        if not domain["path"].startswith(caller.domain_path):
            raise PermissionDenied("Caller does not have permission to operate on that domain")
        return caller.account_id, domain["id"]
    if args["projectid"]:
        owner = owner_of(call, args)
        return owner.account_id, owner.domain_id
    if not (args["account"] or args["domainid"]):
        return caller.account_id, caller.domain_id
    if not (args["account"] and args["domainid"]):
        raise InvalidParameter("Account must be specified with domainId parameter")
    domain = domain_row(call, args["domainid"])
    account = account_row(call, args["account"], domain["id"])
    if not can_reach(caller, account_id=account["id"], domain_path=account["domain_path"]):
        raise PermissionDenied("Caller does not have permission to operate on that account")
    return account["id"], domain["id"]


def _offering(call: Call, offering_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM network_offerings WHERE id = %s AND removed = 0", (offering_id,)
        ).fetchone()
    if row is None:
        raise not_found("networkofferingid", offering_id)
    return dict(row)


def _physical(
    call: Call, zone_id: str, physical_id: str | None, offering: dict[str, Any], domain_id: str
) -> dict[str, Any] | None:
    """The physical network named, or the zone's first one (with guest ranges, for isolated
    networks, which take their VLAN/VNI from them) that carries the offering's tag, as 4.3
    matches them, and is not dedicated to a domain outside the owner's."""
    shared = offering["guest_type"] == "Shared"
    where, params = "p.zone_id = %s AND p.removed = 0", [zone_id]
    if physical_id:
        where, params = where + " AND p.id = %s", [*params, physical_id]
    elif not shared:
        where += " AND p.vlan <> ''"
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT p.*, d.path AS dedicated_path FROM physical_networks AS p "
            f"LEFT JOIN domains AS d ON d.id = p.domain_id WHERE {where} "
            "ORDER BY p.created, p.id",
            params,
        ).fetchall()
    owner = domain_row(call, domain_id)
    if not rows and physical_id:
        raise not_found("physicalnetworkid", physical_id)
    found = [dict(r) for r in rows]
    if physical_id:
        _check_dedicated(found[0], owner["path"])
        return found[0]
    found = [r for r in found if _serves(r, owner["path"])]
    tag = offering.get("tags") or ""
    if tag:
        found = [r for r in found if tag in (r["tags"] or "").split(",")]
        if not found:
            raise InvalidParameter(f"Unable to find physical network which match the tags {tag}")
    return found[0] if found else None


def _serves(physical: dict[str, Any], domain_path: str) -> bool:
    """A physical network dedicated to a domain carries only networks of its subtree."""
    dedicated = physical.get("dedicated_path")
    return not physical.get("domain_id") or bool(dedicated and domain_path.startswith(dedicated))


def _check_dedicated(physical: dict[str, Any], domain_path: str) -> None:
    if not _serves(physical, domain_path):
        raise InvalidParameter(
            f"Physical network {physical['name']} is dedicated to another domain"
        )


def _check_acl_type(acl_type: str | None, shared: bool) -> None:
    """4.3's `acltype`: isolated networks belong to an account, shared ones (here) to a domain."""
    if acl_type is None or acl_type.lower() == ("domain" if shared else "account"):
        return
    if acl_type.lower() not in ("account", "domain"):
        raise InvalidParameter("Invalid acltype: use Account or Domain")
    raise InvalidParameter(
        "Shared networks of one account are not built yet: a shared network is a domain's"
        if shared
        else "An isolated network belongs to an account: acltype Domain is not supported"
    )


def create_network(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    zone = places._row(call, "zones", args["zoneid"], "zone")
    offering = _offering(call, args["networkofferingid"])
    shared = offering["guest_type"] == "Shared"
    _check_acl_type(args["acltype"], shared)
    if shared and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied("Only root administrators may create shared networks")
    account_id, domain_id = new_owner(call, args, shared=shared)
    physical = _physical(call, zone["id"], args["physicalnetworkid"], offering, domain_id)
    cidr = None
    if args["gateway"] and args["netmask"] and not shared:
        cidr = str(subnet(args["gateway"], args["netmask"]))
    tier = _tier(call, args, account_id) if args["vpcid"] else None
    if args["aclid"] and tier is None:
        raise InvalidParameter("An ACL list can be applied only to a VPC's network (vpcid)")
    command = cmd.CreateNetwork(
        args["name"],
        args["displaytext"] or args["name"],
        UUID(zone["id"]),
        UUID(offering["id"]),
        UUID(account_id),
        UUID(domain_id),
        UUID(physical["id"]) if physical else None,
        cidr=cidr,
        gateway=args["gateway"],
        netmask=args["netmask"],
        start_ip=args["startip"],
        end_ip=args["endip"],
        vlan=args["vlan"],
        ip6_cidr=args["ip6cidr"],
        ip6_gateway=args["ip6gateway"],
        start_ipv6=args["startipv6"],
        end_ipv6=args["endipv6"],
        preferred_vnets=lowest_free_vnets(call, physical) if physical and not shared else (),
        tier=tier,
        device_candidates=_device_candidates(call, offering, physical),
        network_domain=_tier_domain(call, args)
        or network_domain_for(
            call,
            args["networkdomain"],
            offering,
            (account_id, domain_id),
            zone["id"],
            shared=shared,
        ),
        subdomain_access=_subdomain_access(args["subdomainaccess"], shared),
        isolated_pvlan=args["isolatedpvlan"],
    )
    if offering["is_persistent"]:  # checked first: a network that cannot come up is not made
        _persistent_hypervisor(call, zone["id"], args["name"])
    display.hide_new(call, args, "Network", command.network_id, DISPLAY_NETWORK)
    outcome = call.write(cmd.create_network, command)
    if offering["is_persistent"]:
        _implement_persistent(call, str(outcome.id), zone["id"], args["name"])
    return _network(call, str(outcome.id))


def _persistent_hypervisor(call: Call, zone_id: str, name: str) -> str:
    """Where a persistent network's router runs: 534 when the zone has no Up host."""
    from api.cloudstack.vpcs import zone_hypervisor  # it imports this module

    return zone_hypervisor(call, zone_id, f"persistent network {name}")


def _implement_persistent(call: Call, network_id: str, zone_id: str, name: str) -> None:
    """A network of a persistent offering is implemented now, not at its first VM."""
    from api.cloudstack.network_nics import implement_persistent  # it imports this module

    implement_persistent(call, network_id, _persistent_hypervisor(call, zone_id, name))


def _tier_domain(call: Call, args: dict[str, Any]) -> str:
    """A VPC's tier takes its VPC's network domain, as in 4.3."""
    if not args["vpcid"]:
        return ""
    from api.cloudstack.vpcs import vpc_row

    return str(vpc_row(call, args["vpcid"], "vpcid")["network_domain"] or "")


def _subdomain_access(given: bool | None, shared: bool) -> bool:
    """Whether a shared network reaches its domain's subdomains (4.3's default: it does); only
    a domain's network takes the choice."""
    if given is None:
        return True
    if not shared:
        raise InvalidParameter(
            "Parameter subDomainAccess can be specified only with aclType=Domain"
        )
    return given


def default_network(call: Call, zone_id: str, account: dict[str, Any]) -> str:
    """The network 4.3 makes for an account that has none in the zone when a VM is moved to it:
    isolated, of the offering whose availability is Required, named `<account>-network`."""
    with call.read() as cursor:
        offering = cursor.execute(
            "SELECT * FROM network_offerings WHERE availability = 'Required' "
            "AND guest_type = 'Isolated' AND removed = 0 ORDER BY created, id"
        ).fetchone()
    if offering is None:
        raise InvalidParameter(
            "Unable to find network offering with availability=Required to automatically "
            "create the network as a part of vm creation"
        )
    if offering["state"] != "Enabled":
        raise InvalidParameter(
            f"Required network offering id={offering['id']} is not in Enabled state"
        )
    offering = dict(offering)
    owner = (str(account["id"]), str(account["domain_id"]))
    physical = _physical(call, zone_id, None, offering, owner[1])
    name = f"{account['name']}-network"
    command = cmd.CreateNetwork(
        name,
        name,
        UUID(zone_id),
        UUID(offering["id"]),
        UUID(owner[0]),
        UUID(owner[1]),
        UUID(physical["id"]) if physical else None,
        preferred_vnets=lowest_free_vnets(call, physical) if physical else (),
        device_candidates=_device_candidates(call, offering, physical),
        network_domain=network_domain_for(call, None, offering, owner, zone_id, shared=False),
    )
    return str(call.write(cmd.create_network, command).id)


def _device_candidates(
    call: Call, offering: dict[str, Any], physical: dict[str, Any] | None
) -> tuple[DeviceCandidates, ...]:
    """The devices of each device provider the offering names, on the network's physical
    network, freest first."""
    named = {p for ps in orjson.loads(offering["services"] or "{}").values() for p in ps}
    wanted = sorted(named & set(DEVICE_PROVIDERS))
    if not wanted or physical is None:
        return ()
    with call.read() as cursor:
        return tuple(
            DeviceCandidates(
                p, tuple(UUID(d) for d in devices_with_room(cursor, physical["id"], p))
            )
            for p in wanted
        )


def _tier(call: Call, args: dict[str, Any], account_id: str) -> cmd.TierRequest:
    """A VPC tier: gateway and netmask are required; the VPC must be the owner's."""
    from api.cloudstack.vpcs import vpc_row

    vpc = vpc_row(call, args["vpcid"], "vpcid")
    if not (args["gateway"] and args["netmask"]):
        raise InvalidParameter("Gateway/netmask are required when create network for VPC")
    if vpc["account_id"] != account_id:
        raise PermissionDenied(f"VPC {vpc['name']} belongs to another account than the network")
    most = int(current_value(call, "vpc.max.networks", "account", account_id))
    acl = UUID(args["aclid"]) if args["aclid"] else None
    return cmd.TierRequest(UUID(vpc["id"]), acl, most)


def _manage(call: Call, network_id: str) -> dict[str, Any]:
    """A network the caller may change: its owner's reach; shared ones are root admins'."""
    row = network_row(call, network_id)
    if not can_reach(call.caller, account_id=row["account_id"], domain_path=row["domain_path"]):
        raise PermissionDenied("Caller does not have permission to operate on the network")
    return row


def update_network(call: Call, args: dict[str, Any]) -> Submitted:
    """4.3 updates a network in a job; its result is the network as changed."""
    row = _manage(call, args["id"])
    refuse_if_upgrading(call.store, [UUID(row["id"])], f"update network {row['name']}")
    changes = {
        field: args[key]
        for key, field in (("name", "name"), ("displaytext", "display_text"))
        if args[key] is not None
    }
    offering = args["networkofferingid"]
    persistent = bool(offering) and bool(_offering(call, offering)["is_persistent"])
    if offering and args["changecidr"]:
        _check_vms_stopped(call, row["id"])
    command = cmd.UpdateNetwork(
        UUID(row["id"]),
        changes,
        UUID(offering) if offering else None,
        network_domain=(
            changed_network_domain(args["networkdomain"], row) if args["networkdomain"] else None
        ),
        guest_vm_cidr=args["guestvmcidr"],
        held_ips=_held_ips(call, row["id"]) if args["guestvmcidr"] else frozenset(),
    )
    display.change(call, args, "Network", row["id"], DISPLAY_NETWORK)

    def work() -> dict[str, Any]:
        cmd.update_network(call.store, command)
        if persistent and row["state"] == "Allocated":  # 4.3 implements it on the change
            _implement_persistent(call, row["id"], row["zone_id"], row["name"])
        return {"object": "network", "id": row["id"]}

    return _job(call, row, "NETWORK.UPDATE", f"Updating network {row['name']}", work)


def _held_ips(call: Call, network_id: str) -> frozenset[str]:
    """The guest addresses VMs of the network hold (their NICs' and secondary ones)."""
    with call.read() as cursor:
        return frozenset(held_values(cursor, ClaimKind.GUEST_IP, network_id))


def _check_vms_stopped(call: Call, network_id: str) -> None:
    """4.3's `changecidr` with a new offering: every VM of the network must be stopped."""
    with call.read() as cursor:
        running = cursor.execute(
            "SELECT count(*) AS n FROM vm_nics AS n JOIN vms AS v ON v.id = n.vm_id "
            "WHERE n.network_id = %s AND n.removed = 0 AND v.state <> 'Stopped'",
            (network_id,),
        ).fetchone()["n"]
    if running:
        raise InvalidParameter(
            "All user vm of network of specified id should be stopped before changing CIDR!"
        )


def public_pool(call: Call, zone_id: str, account_id: str) -> PublicPool:
    """Where a public address of the zone may come from for an account: free ones first, then
    every range; ranges dedicated to the account before the others, none dedicated to another
    account (4.3's dedicated public ranges)."""
    mine = "CASE WHEN r.account_id = %s THEN 0 ELSE 1 END"
    usable = "(r.account_id IS NULL OR r.account_id = %s)"
    with call.read() as cursor:
        free = cursor.execute(
            "SELECT p.vlan_range_id, p.address FROM public_ips AS p JOIN vlan_ip_ranges AS r "
            "ON r.id = p.vlan_range_id WHERE p.zone_id = %s AND p.state = 'Free' AND "
            f"r.removed = 0 AND r.for_virtual_network = 1 AND {usable} "
            f"ORDER BY {mine}, p.ordinal LIMIT {HINTS}",
            (zone_id, account_id, account_id),
        ).fetchall()
        ranges = cursor.execute(
            "SELECT r.id, r.start_ip, r.end_ip FROM vlan_ip_ranges AS r WHERE r.zone_id = %s "
            f"AND r.removed = 0 AND r.for_virtual_network = 1 AND {usable} "
            f"ORDER BY {mine}, r.created, r.id",
            (zone_id, account_id, account_id),
        ).fetchall()
    return PublicPool(
        tuple((UUID(r["vlan_range_id"]), r["address"]) for r in free),
        tuple(RangeRef(UUID(r["id"]), r["start_ip"], r["end_ip"]) for r in ranges),
    )


def _job(call: Call, row: dict[str, Any], event: str, text: str, work: Any) -> Submitted:
    return run_async(
        call,
        instance_type="Network",
        instance_id=UUID(row["id"]),
        event_type=event,
        description=text,
        work=work,
    )


def restart_network(call: Call, args: dict[str, Any]) -> Submitted:
    row = _manage(call, args["id"])
    refuse_if_upgrading(call.store, [UUID(row["id"])], f"restart network {row['name']}")
    command = cmd.RestartNetwork(
        UUID(row["id"]), bool(args["cleanup"]), public_pool(call, row["zone_id"], row["account_id"])
    )

    def work() -> dict[str, Any]:
        cmd.restart_network(call.store, command)
        return {}

    return _job(call, row, "NETWORK.RESTART", f"Restarting network {row['name']}", work)


def delete_network(call: Call, args: dict[str, Any]) -> Submitted:
    row = _manage(call, args["id"])
    forced = bool(args["forced"])
    if forced and call.caller.role != Role.ROOT_ADMIN:
        raise InvalidParameter(
            "Delete network with 'forced' option can only be called by root admins"
        )

    def work() -> dict[str, Any]:
        with call.read() as cursor:
            using = vms_on_network(cursor, row["id"])
            addresses = cursor.execute(
                "SELECT id FROM public_ips WHERE network_id = %s AND state = 'Allocated'",
                (row["id"],),
            ).fetchall()
        ips = tuple(UUID(r["id"]) for r in addresses)
        command = cmd.DeleteNetwork(UUID(row["id"]), using, ips, forced)
        if using:  # refused before anything is cleaned up
            cmd.delete_network(call.store, command)
        _destroy_router(call, UUID(row["id"]), forced)
        cmd.delete_network(call.store, command)
        from api.cloudstack.internal_lb import drop_internal_balancers  # it imports this module

        drop_internal_balancers(call, UUID(row["id"]))
        return {}

    return _job(call, row, "NETWORK.DELETE", f"Deleting network {row['name']}", work)


def _destroy_router(call: Call, network_id: UUID, forced: bool) -> None:
    """A deleted network's virtual router goes first (its host is asked to remove it). When
    that fails (e.g. it is starting) the network stays, as 4.3 keeps a network it could not
    shut down, unless the delete is `forced`: then the operator destroys the router later."""
    router = current_router(call.store, network_id)
    if router is None:
        return
    try:
        destroy_system_vm(call.store, router.id, None)
    except DomainError as error:
        if not forced:
            raise DomainError(
                f"Failed to delete network: its router {router.id} could not be destroyed: "
                f"{error.message}"
            ) from error
        log.warning("the router %s of deleted network %s stays: %s", router.id, network_id, error)


# ---- the table -------------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)

COMMANDS = (
    ApiCommand(
        "createNetwork",
        create_network,
        (
            Param("name", P.STRING, required=True),
            Param("displaytext", P.STRING, required=True),
            Param("networkofferingid", P.UUID, required=True),
            Param("zoneid", P.UUID, required=True),
            Param("physicalnetworkid", P.UUID),
            Param("gateway", P.STRING),
            Param("netmask", P.STRING),
            Param("startip", P.STRING),
            Param("endip", P.STRING),
            Param("vlan", P.STRING),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("acltype", P.STRING),
            Param("networkdomain", P.STRING),
            Param("ip6cidr", P.STRING),
            Param("ip6gateway", P.STRING),
            Param("startipv6", P.STRING),
            Param("endipv6", P.STRING),
            Param("aclid", P.UUID),
            Param("vpcid", P.UUID),
            Param(DISPLAY_NETWORK, P.BOOLEAN, default=True),
            Param("isolatedpvlan", P.STRING),
            OWNER_PROJECT_ID,
            Param("subdomainaccess", P.BOOLEAN),
        ),
        item_key="network",
        java_class=f"{PKG}.CreateNetworkCmd",
        description="Creates a network",
    ),
    ApiCommand(
        "listNetworks",
        list_networks,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("zoneid", P.UUID),
            Param("type", P.STRING),
            Param("physicalnetworkid", P.UUID),
            Param("traffictype", P.STRING),
            Param("acltype", P.STRING),
            Param("canusefordeploy", P.BOOLEAN),
            Param("issystem", P.BOOLEAN),
            Param("restartrequired", P.BOOLEAN),
            Param("specifyipranges", P.BOOLEAN),
            Param("supportedservices", P.LIST, element=P.STRING),
            Param(DISPLAY_NETWORK, P.BOOLEAN),
            Param("forvpc", P.BOOLEAN),
            Param("vpcid", P.UUID),
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="network",
        java_class=f"{PKG}.ListNetworksCmd",
        description="Lists all available networks",
    ),
    ApiCommand(
        "updateNetwork",
        update_network,
        (
            ID,
            Param("name", P.STRING),
            Param("displaytext", P.STRING),
            Param("networkofferingid", P.UUID),
            Param("changecidr", P.BOOLEAN, default=False),
            Param("guestvmcidr", P.STRING),
            Param("networkdomain", P.STRING),
            CUSTOM_ID,
            Param(DISPLAY_NETWORK, P.BOOLEAN),
        ),
        shape="async",
        is_async=True,
        item_key="network",
        render=_network,
        java_class=f"{PKG}.UpdateNetworkCmd",
        description="Updates a network",
    ),
    ApiCommand(
        "restartNetwork",
        restart_network,
        (ID, Param("cleanup", P.BOOLEAN, default=False)),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.RestartNetworkCmd",
        description="Restarts the network; implements it if no VM has used it yet",
    ),
    ApiCommand(
        "deleteNetwork",
        delete_network,
        (
            ID,
            Param("forced", P.BOOLEAN, default=False),
        ),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteNetworkCmd",
        description="Deletes a network",
    ),
)
