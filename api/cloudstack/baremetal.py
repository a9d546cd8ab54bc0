"""Bare metal: hosts given by the operator (IPMI login, CPU, memory, MAC), and the DHCP and PXE
servers registered on a physical network with its bare-metal providers.

A bare-metal host has no hypervisor to ask its inventory, so the operator gives it, as 4.3's
addBaremetalHost takes it (`cpunumber`, `cpuspeed` in MHz, `memory` in MB, `hostmac`). The
servers are records: their logins are sealed in the log and never answered.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid4

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.common import limit_sql
from api.cloudstack.hosts import ADD_HOST, record_host
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import baremetal as cmd
from commands import baremetal_boot as cmd_boot
from domain.baremetal import (
    DHCP,
    KICK_START,
    PING,
    PXE,
    ServerSpec,
    check_dhcp_type,
    check_kickstart_url,
    check_pxe_type,
)
from domain.errors import InvalidParameter, ResourceUnavailable
from projections.baremetal import servers

P = ParamType
RA = Role.ROOT_ADMIN
PKG = "org.apache.cloudstack.api"
MIB = 1024 * 1024
_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
DHCP_ITEM = "baremetaldhcp"
PXE_ITEM = "baremetalpxeserver"


# ---- hosts ---------------------------------------------------------------------------------


def add_baremetal_host(call: Call, args: dict[str, Any]) -> Listing:
    if args["hypervisor"].lower() != "baremetal":
        raise InvalidParameter("addBaremetalHost adds BareMetal hosts only")
    if not args["url"].lower().startswith("http://"):
        raise InvalidParameter(
            f"Invalid URL {args['url']}: a bare-metal host's URL is http://<its IPMI address>"
        )
    return record_host(call, args, _inventory(args))


def _inventory(args: dict[str, Any]) -> dict[str, Any]:
    mac = (args["hostmac"] or "").strip().lower().replace("-", ":")
    if not _MAC.fullmatch(mac):
        raise InvalidParameter(f"Invalid MAC address {args['hostmac']} (hostmac)")
    inventory = {
        "cpu_sockets": 1,
        "cpu_cores": args["cpunumber"],
        "cpu_speed_mhz": args["cpuspeed"],
        "memory_bytes": args["memory"] * MIB,
        "mac_address": mac,
    }
    if args["ipaddress"]:
        inventory["ip_address"] = args["ipaddress"]
    return inventory


# ---- deploys --------------------------------------------------------------------------------


def deploy_plan(call: Call, zone_id: str, template_id: str, url: str) -> cmd_boot.BaremetalPlan:
    """The servers a bare-metal deploy in the zone boots its host with: the zone's DHCP server
    and its PXE servers of the template's kind (a kickstart template's URL is 4.3's
    `ks=…;kernel=…;initrd=…`, any other is a PING image); the deploy takes the one of the
    chosen host's pod, else the zone's."""
    kind = KICK_START if url.strip().startswith("ks=") else PING
    if kind == KICK_START:
        check_kickstart_url(url)
    with call.read() as cursor:
        dhcp, _ = servers(cursor, DHCP, {"zone_id": zone_id}, "")
        pxe, _ = servers(cursor, PXE, {"zone_id": zone_id, "server_type": kind}, "")
    if not dhcp:
        raise ResourceUnavailable(f"No bare-metal DHCP server found in zone {zone_id}")
    if not pxe:
        raise ResourceUnavailable(f"No bare-metal {kind} PXE server found in zone {zone_id}")
    return cmd_boot.BaremetalPlan(
        UUID(template_id), url, tuple(UUID(row["id"]) for row in pxe), UUID(dhcp[0]["id"])
    )


# ---- DHCP and PXE servers ------------------------------------------------------------------


def _physical_network(call: Call, physical_network_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id, zone_id FROM physical_networks WHERE id = %s AND removed = 0",
            (physical_network_id,),
        ).fetchone()
    if row is None:
        raise not_found("physicalnetworkid", physical_network_id)
    return dict(row)


def _spec(call: Call, args: dict[str, Any], kind: str, server_type: str) -> ServerSpec:
    network = _physical_network(call, args["physicalnetworkid"])
    pod_id = None
    if args.get("podid"):
        pod = places._row(call, "pods", args["podid"], "pod")
        if pod["zone_id"] != network["zone_id"]:
            raise InvalidParameter("The pod is not in the physical network's zone")
        pod_id = UUID(pod["id"])
    return ServerSpec(
        kind=kind,
        server_type=server_type,
        physical_network_id=UUID(network["id"]),
        zone_id=UUID(network["zone_id"]),
        url=args["url"],
        username=args["username"],
        password=args["password"],
        pod_id=pod_id,
        tftp_dir=args.get("tftpdir") or "",
        ping_dir=args.get("pingdir") or "",
        ping_storage_server_ip=args.get("pingstorageserverip") or "",
        ping_cifs_username=args.get("pingcifsusername") or "",
        ping_cifs_password=args.get("pingcifspassword") or "",
    )


def _register(call: Call, spec: ServerSpec, item: str, event: str) -> Submitted:
    command = cmd.RegisterServer(uuid4(), spec)

    def work() -> dict[str, Any]:
        cmd.register_server(call.store, command)
        return {"object": item, "id": str(command.server_id)}

    return run_async(
        call,
        instance_type="Host",
        instance_id=command.server_id,
        event_type=event,
        description=f"Adding a bare-metal {spec.kind.upper()} server at {spec.url}",
        work=work,
        creates=True,
    )


def add_dhcp(call: Call, args: dict[str, Any]) -> Submitted:
    spec = _spec(call, args, DHCP, check_dhcp_type(args["dhcpservertype"]))
    return _register(call, spec, DHCP_ITEM, "PHYSICAL.DHCP.ADD")


def add_kickstart(call: Call, args: dict[str, Any]) -> Submitted:
    spec = _spec(call, args, PXE, check_pxe_type(args["pxeservertype"], KICK_START))
    return _register(call, spec, PXE_ITEM, "PHYSICAL.PXE.ADD")


def add_ping(call: Call, args: dict[str, Any]) -> Submitted:
    spec = _spec(call, args, PXE, check_pxe_type(args["pxeservertype"], PING))
    return _register(call, spec, PXE_ITEM, "PHYSICAL.PXE.ADD")


def _render(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "physicalnetworkid": row["physical_network_id"],
        "provider": row["provider_id"],
        "url": row["address"],
    }
    if row["kind"] == DHCP:
        body["dhcpservertype"] = row["server_type"]
        return body
    body["pxeservertype"] = row["server_type"]
    body["tftpdir"] = row["tftp_dir"]
    if row["server_type"] == PING:
        body["pingdir"] = row["ping_dir"]
        body["pingstorageserverip"] = row["ping_storage_server_ip"]
    return body


def _listed(call: Call, kind: str, filters: dict[str, Any], args: dict[str, Any]) -> Listing:
    with call.read() as cursor:
        rows, count = servers(cursor, kind, filters, limit_sql(args["paging"]))
    return Listing([_render(r) for r in rows], count)


def _view(kind: str) -> Any:
    def view(call: Call, server_id: str) -> dict[str, Any]:
        with call.read() as cursor:
            rows, _ = servers(cursor, kind, {"id": server_id}, "")
        if not rows:
            raise not_found("id", server_id)
        return _render(rows[0])

    return view


def list_dhcp(call: Call, args: dict[str, Any]) -> Listing:
    filters = {"id": args["id"]} if args["id"] else {}
    if args["dhcpservertype"]:
        filters["server_type"] = check_dhcp_type(args["dhcpservertype"])
    return _listed(call, DHCP, filters, args)


def list_pxe(call: Call, args: dict[str, Any]) -> Listing:
    return _listed(call, PXE, {"id": args["id"]} if args["id"] else {}, args)


LOGIN = (
    Param("url", P.STRING, required=True),
    Param("username", P.STRING, required=True),
    Param("password", P.STRING, required=True),
    Param("physicalnetworkid", P.UUID, required=True),
)
PXE_PARAMS = (
    *LOGIN,
    Param("pxeservertype", P.STRING, required=True),
    Param("tftpdir", P.STRING, required=True),
    Param("podid", P.UUID),
)
# 4.3 reads these from the request's own parameters; its reference does not list them.
INVENTORY = (
    Param("cpunumber", P.INTEGER, required=True, min_value=1, extension="4.3 reads it"),
    Param("cpuspeed", P.INTEGER, required=True, min_value=1, extension="4.3 reads it (MHz)"),
    Param("memory", P.LONG, required=True, min_value=1, extension="4.3 reads it (MB)"),
    Param("hostmac", P.STRING, required=True, extension="4.3 reads it (the host's NIC MAC)"),
)

COMMANDS = (
    ApiCommand(
        "addBaremetalHost",
        add_baremetal_host,
        (*ADD_HOST, Param("ipaddress", P.STRING), *INVENTORY),
        role=RA,
        shape="list",
        paged=False,
        item_key="host",
        description="Adds a bare-metal host with the inventory the operator gives",
    ),
    ApiCommand(
        "addBaremetalDhcp",
        add_dhcp,
        (*LOGIN, Param("dhcpservertype", P.STRING, required=True)),
        role=RA,
        shape="async",
        is_async=True,
        item_key=DHCP_ITEM,
        render=_view(DHCP),
        java_class=f"{PKG}.AddBaremetalDhcpCmd",
        description="Registers a bare-metal DHCP server",
    ),
    ApiCommand(
        "addBaremetalPxeKickStartServer",
        add_kickstart,
        PXE_PARAMS,
        role=RA,
        shape="async",
        is_async=True,
        item_key=PXE_ITEM,
        render=_view(PXE),
        java_class=f"{PKG}.AddBaremetalKickStartPxeCmd",
        description="Registers a bare-metal kickstart PXE server",
    ),
    ApiCommand(
        "addBaremetalPxePingServer",
        add_ping,
        (
            *PXE_PARAMS,
            Param("pingdir", P.STRING, required=True),
            Param("pingstorageserverip", P.STRING, required=True),
            Param("pingcifsusername", P.STRING),
            Param("pingcifspassword", P.STRING),
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key=PXE_ITEM,
        java_class=f"{PKG}.AddBaremetalPxePingServerCmd",
        description="Registers a bare-metal PING PXE server",
    ),
    ApiCommand(
        "listBaremetalDhcp",
        list_dhcp,
        (Param("id", P.UUID), Param("dhcpservertype", P.STRING)),
        role=RA,
        shape="list",
        item_key=DHCP_ITEM,
        description="Lists bare-metal DHCP servers",
    ),
    ApiCommand(
        "listBaremetalPxeServers",
        list_pxe,
        (Param("id", P.UUID),),
        role=RA,
        shape="list",
        item_key=PXE_ITEM,
        description="Lists bare-metal PXE servers",
    ),
)
