"""Public addresses: zone ranges (createVlanIpRange, listVlanIpRanges, deleteVlanIpRange; root
admins only) and addresses of accounts (associateIpAddress, disassociateIpAddress,
listPublicIpAddresses)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address
from typing import Any
from uuid import UUID

from api import display
from api.access import ANY_OWNER, SKIP_PROJECTS, Role, check_reach, list_scope
from api.cloudstack import infrastructure as places
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    OWNER_PARAMS,
    account_row,
    domain_row,
    limit_sql,
    names_by_id,
    names_of,
    owner_of,
    project_row,
    resolve_owner_filters,
)
from api.cloudstack.common import PROJECT_ID as OWNER_PROJECT_ID
from api.cloudstack.jobs import run_async
from api.cloudstack.networks import network_row, public_pool
from api.cloudstack.portable_ips import portable_request
from api.cloudstack.vpn import vpn_on_address
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import network_ipv4_ranges as ipv4_ranges
from commands import network_ipv6_ranges as ipv6_ranges
from commands import network_public_ips as cmd
from commands.portable_ips import associate_portable_ip
from commands.routers import refuse_if_upgrading
from commands.vpn import delete_vpn
from domain.errors import InvalidParameter
from domain.network import ZoneRange
from domain.network_addressing import is_address
from domain.network_claims import ClaimKind
from domain.network_ipv6 import Ipv6Plan
from projections.network_rules import static_nat_of
from projections.networks import held_values
from stratus.db import contains

P = ParamType
RA = Role.ROOT_ADMIN
ADMIN_PKG = "org.apache.cloudstack.api.command.admin.vlan"
USER_PKG = "org.apache.cloudstack.api.command.user.address"


# ---- ranges ----------------------------------------------------------------------------------


def _range_row(call: Call, range_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM vlan_ip_ranges WHERE id = %s AND removed = 0", (range_id,)
        ).fetchone()
    if row is None:
        raise not_found("id", range_id)
    return _with_owners(call, [dict(row)])[0]


def _with_owners(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranges with the names of the account and domain each is dedicated to, if any."""
    names = names_of(
        call,
        {
            "accounts": {r["account_id"] for r in rows if r.get("account_id")},
            "domains": {r["domain_id"] for r in rows if r.get("domain_id")},
            "pods": {r["pod_id"] for r in rows if r.get("pod_id")},
        },
    )
    pods = names["pods"]
    for row in rows:
        row["account_name"] = names["accounts"].get(row.get("account_id") or "")
        row["domain_name"] = names["domains"].get(row.get("domain_id") or "")
        row["pod_name"] = pods.get(row.get("pod_id") or "")
    return rows


def render_range(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "forvirtualnetwork": bool(row["for_virtual_network"]),
        "zoneid": row["zone_id"],
        "vlan": row["vlan"] if row["vlan"] == "untagged" else f"vlan://{row['vlan']}",
        "gateway": row["gateway"],
        "netmask": row["netmask"],
        "startip": row["start_ip"],
        "endip": row["end_ip"],
    }
    if not row["start_ip"]:  # a network's IPv6 range: no IPv4 part
        for key in ("gateway", "netmask", "startip", "endip"):
            body.pop(key)
    if row.get("network_id"):
        body["networkid"] = row["network_id"]
    if row.get("start_ipv6"):
        body["ip6cidr"], body["ip6gateway"] = row["ip6_cidr"], row["ip6_gateway"]
        body["startipv6"], body["endipv6"] = row["start_ipv6"], row["end_ipv6"]
    if row["physical_network_id"]:
        body["physicalnetworkid"] = row["physical_network_id"]
    if row.get("pod_id"):  # a basic zone's range for one pod
        body["podid"], body["podname"] = row["pod_id"], row.get("pod_name") or ""
    if row.get("account_id"):  # dedicated (dedicatePublicIpRange)
        body["domainid"] = row["domain_id"]
        if row.get("account_name"):
            body["account"] = row["account_name"]
        if row.get("domain_name"):
            body["domain"] = row["domain_name"]
    return body


def _zone_ranges(call: Call, zone_id: str) -> tuple[cmd.RangeRef, ...]:
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT id, start_ip, end_ip FROM vlan_ip_ranges WHERE zone_id = %s AND removed = 0 "
            "AND start_ip <> ''",
            (zone_id,),
        ).fetchall()
    return tuple(cmd.RangeRef(UUID(r["id"]), r["start_ip"], r["end_ip"]) for r in rows)


def create_vlan_ip_range(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    if args["networkid"] and args["startip"]:
        return _network_ipv4_range(call, args)
    if args["startipv6"] or args["networkid"]:
        return _network_ipv6_range(call, args)
    if args["ip6cidr"] or args["ip6gateway"] or args["endipv6"]:
        raise InvalidParameter("startipv6 is required with ip6cidr, ip6gateway or endipv6")
    if args["zoneid"] is None:  # 4.3 may take it from the range's network or pod: not built
        raise InvalidParameter("Specify zoneid: the zone of the range")
    zone = places._row(call, "zones", args["zoneid"], "zone")
    if not (args["gateway"] and args["netmask"] and args["startip"]):
        raise InvalidParameter("Please specify gateway, netmask and startip of the range")
    command = cmd.CreateVlanIpRange(
        UUID(zone["id"]),
        args["vlan"],
        args["gateway"],
        args["netmask"],
        args["startip"],
        args["endip"] or args["startip"],
        args["forvirtualnetwork"] is not False,
        UUID(args["physicalnetworkid"]) if args["physicalnetworkid"] else None,
        existing=_zone_ranges(call, zone["id"]),
        dedicated_to=_dedicated_to(call, args),
        pod_id=UUID(args["podid"]) if args["podid"] else None,
    )
    outcome = call.write(cmd.create_vlan_ip_range, command)
    return render_range(_range_row(call, str(outcome.id)))


def _network_ipv4_range(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """An IPv4 range for a shared network (4.3: `networkid` with `startip`; gateway and netmask
    may be left out when the range is in a subnet the network has, or name a new subnet on its
    VLAN)."""
    if args["startipv6"] or args["endipv6"] or args["ip6cidr"] or args["ip6gateway"]:
        raise InvalidParameter(
            "Add a network's IPv4 and IPv6 ranges in separate calls: give startip or startipv6"
        )
    network = network_row(call, args["networkid"], "networkid")
    if args["zoneid"] and args["zoneid"] != network["zone_id"]:
        raise InvalidParameter(f"Network {network['name']} is not in zone {args['zoneid']}")
    if args["forvirtualnetwork"]:
        raise InvalidParameter("A guest network's ranges are not for virtual networks")
    if args["physicalnetworkid"] and args["physicalnetworkid"] != network["physical_network_id"]:
        raise InvalidParameter(
            f"Network {network['name']} is not on physical network {args['physicalnetworkid']}"
        )
    if args["account"] or args["domainid"] or args["projectid"]:
        raise InvalidParameter("A shared network's ranges are not dedicated to an account")
    command = ipv4_ranges.AddIpv4Range(
        UUID(network["id"]),
        uuid.uuid4(),
        args["startip"],
        args["endip"],
        args["gateway"],
        args["netmask"],
        args["vlan"],
        _zone_ipv4_ranges(call, network["zone_id"]),
    )
    outcome = call.write(ipv4_ranges.add_ipv4_range, command)
    return render_range(_range_row(call, str(outcome.id)))


def _zone_ipv4_ranges(call: Call, zone_id: str) -> tuple[ZoneRange, ...]:
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT start_ip, end_ip, gateway, netmask, vlan FROM vlan_ip_ranges "
            "WHERE zone_id = %s AND removed = 0 AND start_ip <> ''",
            (zone_id,),
        ).fetchall()
    return tuple(
        ZoneRange(r["start_ip"], r["end_ip"], r["gateway"], r["netmask"], r["vlan"]) for r in rows
    )


def _network_ipv6_range(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """An IPv6 range for a shared network (4.3: `networkid` with `startipv6`; the network's
    own /64 and gateway when not given)."""
    if not args["networkid"]:
        raise InvalidParameter("IPv6 ranges are given to shared networks: specify networkid")
    if not args["startipv6"]:
        raise InvalidParameter("Please specify startip or startipv6 of the range for the network")
    if args["endip"] or args["gateway"] or args["netmask"]:
        raise InvalidParameter(
            "Add a network's IPv4 and IPv6 ranges in separate calls: give startip or startipv6"
        )
    network = network_row(call, args["networkid"], "networkid")
    if args["zoneid"] and args["zoneid"] != network["zone_id"]:
        raise InvalidParameter(f"Network {network['name']} is not in zone {args['zoneid']}")
    if args["forvirtualnetwork"]:
        raise InvalidParameter("IPv6 is not supported for public (virtual) networks' ranges")
    plan = Ipv6Plan.checked(
        args["ip6cidr"] or network.get("ip6_cidr"),
        args["ip6gateway"] or network.get("ip6_gateway"),
        args["startipv6"],
        args["endipv6"],
    )
    command = ipv6_ranges.AddIpv6Range(UUID(network["id"]), uuid.uuid4(), plan, args["vlan"])
    outcome = call.write(ipv6_ranges.add_ipv6_range, command)
    return render_range(_range_row(call, str(outcome.id)))


def _ipv6_held(call: Call, row: dict[str, Any]) -> int:
    """Addresses of a network's IPv6 range that NICs hold, as the read model shows them."""
    with call.read() as cursor:
        held = held_values(cursor, ClaimKind.GUEST_IP, row["network_id"])
    first, last = IPv6Address(row["start_ipv6"]), IPv6Address(row["end_ipv6"])
    return sum(1 for value in held if ":" in value and first <= IPv6Address(value) <= last)


def _dedicated_to(call: Call, args: dict[str, Any]) -> tuple[UUID, UUID] | None:
    """The account a new range is dedicated to (`account` with `domainid`, or a project's own
    account by `projectid`), if any."""
    if args["projectid"]:
        owner = owner_of(call, args)
        return UUID(owner.account_id), UUID(owner.domain_id)
    if not (args["account"] or args["domainid"]):
        return None
    if not (args["account"] and args["domainid"]):
        raise InvalidParameter(DOMAIN_RANGES)
    account = account_row(call, args["account"], domain_row(call, str(args["domainid"]))["id"])
    return UUID(account["id"]), UUID(account["domain_id"])


def _ipv4_held(call: Call, row: dict[str, Any]) -> int:
    """Addresses of a network's IPv4 range that NICs hold, as the read model shows them."""
    with call.read() as cursor:
        held = held_values(cursor, ClaimKind.GUEST_IP, row["network_id"])
    first, last = IPv4Address(row["start_ip"]), IPv4Address(row["end_ip"])
    return sum(1 for value in held if is_address(value) and first <= IPv4Address(value) <= last)


def delete_vlan_ip_range(call: Call, args: dict[str, Any]) -> None:
    row = _range_row(call, args["id"])
    if row.get("network_id") and row["start_ip"]:  # a shared network's IPv4 range
        network_id, range_id, held = UUID(row["network_id"]), UUID(row["id"]), _ipv4_held(call, row)
        call.write(
            lambda store, _: ipv4_ranges.remove_ipv4_range(store, network_id, range_id, held),
            None,
        )
        return
    if row.get("network_id"):  # a shared network's IPv6 range
        network_id, range_id, held = UUID(row["network_id"]), UUID(row["id"]), _ipv6_held(call, row)
        call.write(
            lambda store, _: ipv6_ranges.remove_ipv6_range(store, network_id, range_id, held),
            None,
        )
        return
    with call.read() as cursor:
        allocated = cursor.execute(
            "SELECT count(*) AS n FROM public_ips WHERE vlan_range_id = %s AND state = 'Allocated'",
            (row["id"],),
        ).fetchone()["n"]
    call.write(
        lambda store, _: cmd.delete_vlan_ip_range(store, UUID(row["id"]), int(allocated)), None
    )


def list_vlan_ip_ranges(call: Call, args: dict[str, Any]) -> Listing:
    where, params = ["removed = 0"], []
    for key, column in (
        ("id", "id"),
        ("zoneid", "zone_id"),
        ("physicalnetworkid", "physical_network_id"),
        ("vlan", "vlan"),
        ("networkid", "network_id"),
        ("podid", "pod_id"),
    ):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args["forvirtualnetwork"] is not None:
        where.append("for_virtual_network = %s")
        params.append(int(args["forvirtualnetwork"]))
    dedicated = _dedicated_to(call, args) if not args["projectid"] else None
    if dedicated is not None:
        where.append("account_id = %s")
        params.append(str(dedicated[0]))
    if args["projectid"]:  # a project's ranges, whatever state the project is in
        where.append("account_id = %s")
        params.append(project_row(call, args["projectid"])["account_id"])
    sql = " FROM vlan_ip_ranges WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT *" + sql + " ORDER BY created, id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing(
        [render_range(r) for r in _with_owners(call, [dict(r) for r in rows])], int(count)
    )


# ---- addresses -------------------------------------------------------------------------------

_SELECT = (
    "SELECT p.*, a.name AS account_name, a.domain_path AS domain_path, d.name AS domain_name, "
    "n.name AS network_name, r.vlan AS vlan, r.physical_network_id AS physical_network_id, "
    "r.for_virtual_network AS for_virtual_network, pp.region_id AS portable_region "
    "FROM public_ips AS p "
    "LEFT JOIN accounts AS a ON a.id = p.account_id LEFT JOIN domains AS d ON d.id = p.domain_id "
    "LEFT JOIN networks AS n ON n.id = p.network_id "
    "LEFT JOIN vlan_ip_ranges AS r ON r.id = p.vlan_range_id"
    " LEFT JOIN portable_ips AS pp ON pp.id = p.id"
)


def render_public_ip(row: dict[str, Any], zones: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row["id"],
        "ipaddress": row["address"],
        "zoneid": row["zone_id"],
        "zonename": zones.get(row["zone_id"], ""),
        "issourcenat": bool(row["source_nat"]),
        "isstaticnat": False,
        "issystem": bool(row["is_system"]),
        "forvirtualnetwork": bool(row["for_virtual_network"] in (None, 1)),
        "vlanid": row["vlan_range_id"],
        "vlanname": row["vlan"] or "",
        "state": row["state"],
        "isportable": row["portable_region"] is not None,
        "fordisplay": display.shown(row),
        "tags": [],
    }
    if row["physical_network_id"]:
        body["physicalnetworkid"] = row["physical_network_id"]
    if row["account_id"]:
        body.update(
            account=row["account_name"],
            domainid=row["domain_id"],
            domain=row["domain_name"],
            allocated=format_stored_date(row["allocated"]),
        )
    if row["network_id"]:
        body.update(
            associatednetworkid=row["network_id"], associatednetworkname=row["network_name"]
        )
    if row.get("vpc_id"):
        body["vpcid"] = row["vpc_id"]
    return body


def _public_row(call: Call, public_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(_SELECT + " WHERE p.id = %s", (public_id,)).fetchone()
    if row is None:
        raise not_found("id", public_id)
    return dict(row)


def _rendered(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    zones = names_by_id(call, "zones", {r["zone_id"] for r in rows})
    with call.read() as cursor:
        nats = static_nat_of(cursor, [r["id"] for r in rows])
    rows = display.mark(call, rows)
    return [with_static_nat(render_public_ip(r, zones), nats.get(r["id"])) for r in rows]


def with_static_nat(body: dict[str, Any], nat: dict[str, Any] | None) -> dict[str, Any]:
    """`isstaticnat` and the VM it sends to (domain/network_rules.py keeps the mapping)."""
    if nat is not None:
        body.update(isstaticnat=True, virtualmachineid=nat["vm_id"], vmipaddress=nat["vm_ip"])
    return body


def _address_object(call: Call, address_id: str) -> dict[str, Any]:
    return _rendered(call, [_public_row(call, address_id)])[0]


def _associate_owner(call: Call, args: dict[str, Any]) -> tuple[str, str, str | None, str]:
    """(account, domain, network, zone) of a new association: the network's, the VPC's (no
    network until a rule places it on a tier), or the caller's (or the account an admin
    names) in `zoneid`."""
    if args["vpcid"]:
        from api.cloudstack.vpcs import vpc_row

        if args["networkid"]:
            raise InvalidParameter("Specify networkid or vpcid, not both")
        vpc = vpc_row(call, args["vpcid"], "vpcid")
        return vpc["account_id"], vpc["domain_id"], None, vpc["zone_id"]
    if args["networkid"]:
        network = network_row(call, args["networkid"], "networkid")
        if network["guest_type"] != "Isolated":
            raise InvalidParameter("Public ip addresses are associated with isolated networks")
        return network["account_id"], network["domain_id"], network["id"], network["zone_id"]
    if not args["zoneid"]:
        raise InvalidParameter("Please specify networkid or zoneid")
    zone = places._row(call, "zones", args["zoneid"], "zone")
    owner = owner_of(call, args)
    return owner.account_id, owner.domain_id, None, zone["id"]


def associate_ip_address(call: Call, args: dict[str, Any]) -> Submitted:
    shown = display.new(call, args)
    owner = _associate_owner(call, args)
    account_id, domain_id, network_id, zone_id = owner
    if network_id:
        refuse_if_upgrading(call.store, [UUID(network_id)], "associate an ip address")
    if args["isportable"]:
        request = portable_request(call, args, owner)
        if args["vpcid"]:
            request = replace(request, vpc_id=UUID(args["vpcid"]))
        return _associate_portable(call, request, shown)
    if args["regionid"] is not None:
        raise InvalidParameter(
            "regionid names where a portable ip address comes from: give it with isportable=true"
        )
    request = cmd.Acquire(
        UUID(zone_id),
        UUID(account_id),
        UUID(domain_id),
        UUID(network_id) if network_id else None,
        public_pool(call, zone_id, account_id),
        vpc_id=UUID(args["vpcid"]) if args["vpcid"] else None,
    )

    def work() -> dict[str, Any]:
        outcome = cmd.associate_ip_address(call.store, request)
        display.record_new(call, "IpAddress", outcome.id, shown)
        return {"object": "ipaddress", "id": str(outcome.id)}

    return run_async(
        call,
        instance_type="IpAddress",
        instance_id=None,
        event_type="NET.IPASSIGN",
        description="Associating a public ip address",
        work=work,
    )


def _associate_portable(call: Call, request: Any, shown: bool) -> Submitted:
    def work() -> dict[str, Any]:
        outcome = associate_portable_ip(call.store, request)
        display.record_new(call, "IpAddress", outcome.id, shown)
        return {"object": "ipaddress", "id": str(outcome.id)}

    return run_async(
        call,
        instance_type="IpAddress",
        instance_id=None,
        event_type="PORTABLE.IP.ASSIGN",
        description=f"Associating a portable ip address of region {request.region_id}",
        work=work,
    )


def disassociate_ip_address(call: Call, args: dict[str, Any]) -> Submitted:
    row = _public_row(call, args["id"])
    if row["state"] != "Allocated":
        raise InvalidParameter(f"Ip address {row['address']} is not allocated")
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"] or "",
        what="the ip address",
    )

    vpn = vpn_on_address(call, row["id"])

    def work() -> dict[str, Any]:
        # As 4.3 does, the address's remote access VPN goes with it (its router told to stop).
        if vpn is not None:
            delete_vpn(call.store, *vpn, None)
        cmd.disassociate_ip_address(call.store, UUID(row["id"]))
        return {}

    return run_async(
        call,
        instance_type="IpAddress",
        instance_id=UUID(row["id"]),
        event_type="NET.IPRELEASE",
        description=f"Releasing ip address {row['address']}",
        work=work,
    )


_FILTERS = (
    ("id", "p.id"),
    ("zoneid", "p.zone_id"),
    ("associatednetworkid", "p.network_id"),
    ("vlanid", "p.vlan_range_id"),
    ("ipaddress", "p.address"),
    ("state", "p.state"),
    ("physicalnetworkid", "r.physical_network_id"),
    ("vpcid", "p.vpc_id"),
)


def list_public_ip_addresses(call: Call, args: dict[str, Any]) -> Listing:
    owner = resolve_owner_filters(call, args)
    where, params = [], []
    chosen = owner["projects"] not in (SKIP_PROJECTS, ANY_OWNER)  # a project's, or every one's
    if args["allocatedonly"] is not False or call.caller.role != Role.ROOT_ADMIN or chosen:
        scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
        where, params = ["p.state = 'Allocated'", scope.clause], list(scope.params)
    for key, column in _FILTERS:
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    static_nat = (
        "(CASE WHEN EXISTS (SELECT 1 FROM network_rules AS nat WHERE nat.public_ip_id = p.id "
        "AND nat.kind = 'StaticNat') THEN 1 ELSE 0 END)"
    )
    for key, column in (("issourcenat", "p.source_nat"), ("isstaticnat", static_nat)):
        if args[key] is not None:
            where.append(f"{column} = %s")
            params.append(int(args[key]))
    if args["forloadbalancing"]:  # as in 4.3, only `true` filters
        where.append(
            "EXISTS (SELECT 1 FROM network_rules AS lb WHERE lb.public_ip_id = p.id "
            "AND lb.kind = 'LoadBalancing')"
        )
    if args.get("keyword"):
        clause, values = contains(("p.address",), args["keyword"])
        where.append(clause)
        params += values
    narrow(args, "PublicIpAddress", "p.id", where, params)
    display.narrow(call, args, "p.id", where)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY p.zone_id, p.ordinal" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing(_rendered(call, [dict(r) for r in rows]), int(count))


# ---- the table -------------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)

# Ranges for one pod (4.3) are not built yet.
POD = Param("podid", P.UUID)
DOMAIN_RANGES = (
    "ranges dedicated to a domain are not built yet: name the account (with its domainid)"
)
RANGE_OWNER = (Param("account", P.STRING), Param("domainid", P.UUID), OWNER_PROJECT_ID)

COMMANDS = (
    ApiCommand(
        "createVlanIpRange",
        create_vlan_ip_range,
        (
            Param("zoneid", P.UUID),
            Param("vlan", P.STRING),
            Param("gateway", P.STRING),
            Param("netmask", P.STRING),
            Param("startip", P.STRING),
            Param("endip", P.STRING),
            Param("forvirtualnetwork", P.BOOLEAN),
            Param("physicalnetworkid", P.UUID),
            POD,
            Param("networkid", P.UUID),
            *RANGE_OWNER,
            Param("ip6cidr", P.STRING),
            Param("ip6gateway", P.STRING),
            Param("startipv6", P.STRING),
            Param("endipv6", P.STRING),
        ),
        role=RA,
        item_key="vlan",
        java_class=f"{ADMIN_PKG}.CreateVlanIpRangeCmd",
        description="Creates a VLAN IP range",
    ),
    ApiCommand(
        "deleteVlanIpRange",
        delete_vlan_ip_range,
        (ID,),
        role=RA,
        shape="success",
        java_class=f"{ADMIN_PKG}.DeleteVlanIpRangeCmd",
        description="Deletes a VLAN IP range",
    ),
    ApiCommand(
        "listVlanIpRanges",
        list_vlan_ip_ranges,
        (
            Param("id", P.UUID),
            Param("zoneid", P.UUID),
            Param("physicalnetworkid", P.UUID),
            Param("forvirtualnetwork", P.BOOLEAN),
            Param("vlan", P.STRING),
            POD,
            Param("networkid", P.UUID),
            *RANGE_OWNER,
        ),
        role=RA,
        shape="list",
        item_key="vlaniprange",
        java_class=f"{ADMIN_PKG}.ListVlanIpRangesCmd",
        description="Lists all VLAN IP ranges",
    ),
    ApiCommand(
        "associateIpAddress",
        associate_ip_address,
        (
            Param("networkid", P.UUID),
            Param("zoneid", P.UUID),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            display.FOR_DISPLAY,
            Param("isportable", P.BOOLEAN),
            Param("regionid", P.INTEGER),
            OWNER_PROJECT_ID,
            Param("vpcid", P.UUID),
        ),
        shape="async",
        is_async=True,
        item_key="ipaddress",
        render=_address_object,
        java_class=f"{USER_PKG}.AssociateIPAddrCmd",
        description="Acquires and associates a public IP to an account",
    ),
    ApiCommand(
        "disassociateIpAddress",
        disassociate_ip_address,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{USER_PKG}.DisassociateIPAddrCmd",
        description="Disassociates an ip address from the account",
    ),
    ApiCommand(
        "listPublicIpAddresses",
        list_public_ip_addresses,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("zoneid", P.UUID),
            Param("associatednetworkid", P.UUID),
            Param("vlanid", P.UUID),
            Param("ipaddress", P.STRING),
            Param("issourcenat", P.BOOLEAN),
            Param("isstaticnat", P.BOOLEAN),
            Param("allocatedonly", P.BOOLEAN, default=True),
            Param(
                "state",
                P.STRING,
                extension="filters by address state, as later CloudStack versions allow",
            ),
            Param("forvirtualnetwork", P.BOOLEAN),
            Param("forloadbalancing", P.BOOLEAN),
            Param("physicalnetworkid", P.UUID),
            display.FOR_DISPLAY_CHANGE,
            Param("vpcid", P.UUID),
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="publicipaddress",
        java_class=f"{USER_PKG}.ListPublicIpAddressesCmd",
        description="Lists all public ip addresses",
    ),
)
