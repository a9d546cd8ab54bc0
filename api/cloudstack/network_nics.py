"""What deploying a VM needs from guest networks (its NIC requests, with the free addresses to
try first), what listing VMs shows of them (each VM's `nic` list), `listNics`, and the
secondary addresses of a NIC (addIpToNic, removeIpFromNic)."""

from __future__ import annotations

import uuid
from ipaddress import IPv4Address
from typing import Any
from uuid import UUID

from api import display
from api.access import check_reach
from api.cloudstack.jobs import run_async
from api.cloudstack.networks import HINTS, network_row, public_pool
from api.cloudstack.routers import ensure_router
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import networks as cmd
from commands import nic_addresses as addresses
from commands.network_public_ips import PublicPool
from commands.routers import refuse_if_upgrading
from domain.errors import InvalidParameter, InvalidState, PermissionDenied
from domain.network_addressing import address
from domain.network_claims import ClaimKind
from domain.network_ipv6 import ipv6_address
from domain.vm import nic_id
from projections.network_plumbing import providers_not_enabled
from projections.networks import (
    Secondaries,
    held_values,
    nic_by_id,
    nics_of_vms,
    secondary_ip_row,
    secondary_ips_of,
)
from stratus.db import Cursor

# ---- NIC requests of a deploy ---------------------------------------------------------------


def prepare_network_services(
    call: Call, requests: list[cmd.NicRequest], hypervisor: str, what: str
) -> int:
    """Before a VM joins networks: refused while a router of one of them is upgrading, every
    isolated network gets its virtual router (created and started under its own job when it
    has none; the VM's deploy does not wait for it), and a network no VM used yet is
    implemented (the network's own commit: the deploy's then holds only what is the VM's)."""
    network_ids = [request.network_id for request in requests]
    refuse_if_upgrading(call.store, network_ids, what)
    for network_id in network_ids:
        row = network_row(call, str(network_id), "networkids")
        _refuse_unless_providers_enabled(call, row)
        if row.get("vpc_id"):
            _ensure_vpc_router(call, row["vpc_id"])
        elif row["guest_type"] == "Isolated":
            owner = (row["account_id"], row["domain_id"])
            ensure_router(call, row["id"], row["zone_id"], owner, hypervisor, _services(row))
    position = 0
    for request in requests:
        outcome = cmd.implement_network(call.store, request.network_id, request.public)
        position = max(position, outcome.position)
    return position  # of the last implementation saved (0: none was needed)


def implement_persistent(call: Call, network_id: str, hypervisor: str) -> None:
    """A network of a persistent offering is implemented when it is created, as a VM's
    deploy would implement it (4.3): its router started under its own job on `hypervisor`,
    its source NAT address taken."""
    row = network_row(call, network_id)
    what = f"implement network {row['name']}"
    position = prepare_network_services(call, [nic_request(call, row, None)], hypervisor, what)
    call.settle(position, row["id"])


def _ensure_vpc_router(call: Call, vpc_id: str) -> None:
    """A tier's VMs are served by their VPC's router: started when it is not running."""
    from api.cloudstack.vpcs import start_router, vpc_row
    from commands.vpcs import vpc_router

    router = vpc_router(call.store, UUID(vpc_id))
    if router is None or router.state not in ("Running", "Starting"):
        start_router(call, vpc_row(call, vpc_id, "networkids"))


def _refuse_unless_providers_enabled(call: Call, row: dict[str, Any]) -> None:
    """As 4.3: a network is implemented only once the providers its offering needs are
    enabled on its physical network (the network's implementation checks it again)."""
    if row["state"] != "Allocated":
        return
    with call.read() as cursor:
        missing = providers_not_enabled(cursor, row["id"])
    if missing:
        provider, service, physical = missing[0]
        raise InvalidState(
            f"Service provider {provider} (for {service}) either does not exist or is not "
            f"enabled in physical network {physical}"
        )


def _services(row: dict[str, Any]) -> tuple[str, ...]:
    services = row["services"]
    return tuple(services) if services else ()


def guest_nic_requests(
    call: Call, args: dict[str, Any], zone_id: str, account_id: str
) -> list[cmd.NicRequest]:
    """The NICs a deploy asks for: `iptonetworklist` (each network with its addresses), or
    `networkids` (the first is the default NIC, which gets `ipaddress` and `ip6address`), or
    the account's only isolated network in the zone, or none."""
    asked = _asked_networks(args)
    if not asked:
        asked = [
            (i, args.get("ipaddress"), args.get("ip6address"))
            for i in _only_isolated_network(call, zone_id, account_id)
        ]
    rows = [network_row(call, network_id, "networkids") for network_id, _, _ in asked]
    for row in rows:
        if row["zone_id"] != zone_id:
            raise InvalidParameter(f"Network {row['name']} is not in the zone of the VM")
        if row["guest_type"] == "Isolated" and row["account_id"] != account_id:
            raise PermissionDenied(f"Network {row['name']} belongs to another account")
    if (args.get("ipaddress") or args.get("ip6address")) and not rows:
        raise InvalidParameter("An ip address can be asked for only with a network")
    return [nic_request(call, row, ip, ip6) for row, (_, ip, ip6) in zip(rows, asked, strict=True)]


Asked = list[tuple[str, str | None, str | None]]  # (network id, IPv4, IPv6) of each NIC


def _asked_networks(args: dict[str, Any]) -> Asked:
    """The networks named and the addresses asked for on each, as 4.3 reads them: the map, or
    the ids with the addresses for the first."""
    entries = args.get("iptonetworklist") or []
    if not entries:
        ids = list(dict.fromkeys(args.get("networkids") or ()))
        return [
            (network_id, args.get("ipaddress"), args.get("ip6address"))
            if i == 0
            else (network_id, None, None)
            for i, network_id in enumerate(ids)
        ]
    if args.get("networkids") or args.get("ipaddress") or args.get("ip6address"):
        raise InvalidParameter(
            "ipToNetworkMap can't be specified along with networkIds or ipAddress"
        )
    asked: Asked = []
    for entry in entries:
        values = {key.lower(): value for key, value in entry.items()}
        network_id = values.get("networkid", "")
        try:
            network_id = str(UUID(network_id))
        except ValueError:
            raise InvalidParameter(
                f"Unable to translate and find entity with networkId: {network_id}"
            ) from None
        if any(network_id == known for known, _, _ in asked):
            raise InvalidParameter(f"Network {network_id} is named twice in iptonetworklist")
        asked.append((network_id, values.get("ip") or None, values.get("ipv6") or None))
    return asked


def _only_isolated_network(call: Call, zone_id: str, account_id: str) -> list[str]:
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT id FROM networks WHERE zone_id = %s AND account_id = %s AND "
            "guest_type = 'Isolated' AND removed = 0 LIMIT 2",
            (zone_id, account_id),
        ).fetchall()
    return [rows[0]["id"]] if len(rows) == 1 else []


def nic_request(
    call: Call, row: dict[str, Any], ip: str | None, ip6: str | None = None
) -> cmd.NicRequest:
    """A NIC on the network `row`: the addresses asked for, else free ones to try first."""
    if ip:
        address(ip)
        if not row["start_ip"]:
            raise InvalidParameter(f"Network {row['name']} has no IPv4 address range")
    if ip6:
        ipv6_address(ip6, "ip6address")
    public = PublicPool()
    if row["state"] == "Allocated" and "SourceNat" in row["services"]:
        public = public_pool(call, row["zone_id"], row["account_id"])
    return cmd.NicRequest(
        UUID(row["id"]), ip, _free_guest_ips(call, row), public=public, ip6_address=ip6
    )


def _free_guest_ips(call: Call, row: dict[str, Any]) -> tuple[str, ...]:
    if not row["start_ip"]:  # an IPv6 network: its addresses are probed, not listed
        return ()
    with call.read() as cursor:
        held = held_values(cursor, ClaimKind.GUEST_IP, row["id"])
    held.add(row["gateway"])
    first, last = int(IPv4Address(row["start_ip"])), int(IPv4Address(row["end_ip"]))
    free: list[str] = []
    for number in range(first, last + 1):
        text = str(IPv4Address(number))
        if text not in held:
            free.append(text)
            if len(free) == HINTS:
                break
    return tuple(free)


def vm_nics(cursor: Cursor, vm_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The `nic` list of each VM, as CloudStack's NicResponse."""
    found = nics_of_vms(cursor, vm_ids)
    secondary = secondary_ips_of(cursor, vm_ids)
    return {vm: [_render_nic(n, secondary) for n in nics] for vm, nics in found.items()}


def _render_nic(nic: dict[str, Any], secondary: Secondaries) -> dict[str, Any]:
    ips = secondary.get((nic["vm_id"], nic["network_id"]), [])
    body = {
        "id": nic_id(nic["vm_id"], nic["network_id"]),
        "deviceid": str(nic["device_id"]),
        "networkid": nic["network_id"],
        "networkname": nic["network_name"] or "",
        "netmask": nic["netmask"],
        "gateway": nic["gateway"],
        "ipaddress": nic["ip_address"],
        "isolationuri": nic["broadcast_uri"],
        "broadcasturi": nic["broadcast_uri"],
        "traffictype": "Guest",
        "type": nic["network_type"] or ("Isolated" if nic["broadcast_uri"] else "Shared"),
        "isdefault": bool(nic["is_default"]),
        "macaddress": nic["mac_address"],
        "secondaryip": [{"id": ip["id"], "ipaddress": ip["ip_address"]} for ip in ips],
        **_ipv6_of(nic),
    }
    if not nic["ip_address"]:  # on an IPv6 network: no IPv4 address, as 4.3 leaves it out
        for key in ("netmask", "gateway", "ipaddress"):
            body.pop(key)
    return body


def _ipv6_of(nic: dict[str, Any]) -> dict[str, str]:
    """A NIC's IPv6 fields, on a network with IPv6 (4.3 leaves them out elsewhere)."""
    if not nic.get("ip6_address"):
        return {}
    return {
        "ip6address": nic["ip6_address"],
        "ip6gateway": nic["ip6_gateway"],
        "ip6cidr": nic["ip6_cidr"],
    }


# ---- listNics ---------------------------------------------------------------------------------


def list_nics(call: Call, args: dict[str, Any]) -> Listing:
    """The NICs of a VM the caller may reach, in device order; `nicid` and `networkid` narrow.
    A NIC is shown to end users as its VM is (`displayvm`)."""
    vm_id = args["virtualmachineid"]
    keep = display.listed_flag(call, args["fordisplay"], "fordisplay")
    with call.read() as cursor:
        vm = cursor.execute(
            "SELECT v.account_id, v.display_vm, a.domain_path FROM virtual_machines AS v "
            "JOIN accounts AS a ON a.id = v.account_id WHERE v.id = %s AND v.removed = 0",
            (vm_id,),
        ).fetchone()
        if vm is None:
            raise not_found("virtualmachineid", vm_id)
        check_reach(
            call.caller,
            account_id=vm["account_id"],
            domain_path=vm["domain_path"],
            what="the virtual machine",
        )
        nics = nics_of_vms(cursor, [vm_id]).get(vm_id, [])
        secondary = secondary_ips_of(cursor, [vm_id])
    found = [
        {**_render_nic(n, secondary), "virtualmachineid": vm_id}
        for n in sorted(nics, key=lambda n: int(n["device_id"]))
        if not n["removed"] and keep in (None, bool(vm["display_vm"]))
    ]
    if args["nicid"]:
        found = [n for n in found if n["id"] == args["nicid"]]
    if args["networkid"]:
        found = [n for n in found if n["networkid"] == args["networkid"]]
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(found[paging.offset : end], len(found))


# ---- secondary addresses ----------------------------------------------------------------------


def _nic(call: Call, nic_id_text: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = nic_by_id(cursor, nic_id_text)
    if row is None:
        raise not_found("nicid", nic_id_text)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the virtual machine",
    )
    return row


def add_ip_to_nic(call: Call, args: dict[str, Any]) -> Submitted:
    """Claim the address (checked to be in the network's range and free) at once, as 4.3's
    create step does; the job answers it."""
    nic = _nic(call, args["nicid"])
    wanted = args["ipaddress"]
    if wanted and ":" in wanted:
        wanted = str(ipv6_address(wanted, "ipaddress"))
    elif wanted:
        address(wanted)
    network = network_row(call, nic["network_id"], "nicid")
    command = addresses.AddIpToNic(
        UUID(nic["vm_id"]),
        UUID(nic["network_id"]),
        uuid.uuid4(),
        wanted or None,
        () if wanted else _free_guest_ips(call, network),
        ipv6=bool(wanted and ":" in wanted) or not network["start_ip"],
    )
    with call.acting():  # the job that follows is later in the log: reads wait for both
        addresses.add_ip_to_nic(call.store, command)
    result = {"object": "nicsecondaryip", "id": str(command.ip_id)}
    return run_async(
        call,
        instance_type="Nic",
        instance_id=command.ip_id,
        event_type="NIC.SECONDARY.IP.ASSIGN",
        description=f"Assigning secondary ip to nic {args['nicid']}",
        work=lambda: result,
        creates=True,
    )


def _secondary_object(call: Call, ip_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = secondary_ip_row(cursor, ip_id)
    if row is None:
        raise not_found("id", ip_id)
    return {
        "id": row["id"],
        "ipaddress": row["ip_address"],
        "networkid": row["network_id"],
        "nicid": nic_id(row["vm_id"], row["network_id"]),
        "virtualmachineid": row["vm_id"],
    }


def remove_ip_from_nic(call: Call, args: dict[str, Any]) -> Submitted:
    """Refused at once when a rule sends traffic to the address (4.3's refusal)."""
    with call.read() as cursor:
        row = secondary_ip_row(cursor, args["id"])
    if row is None:
        raise not_found("id", args["id"])
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the secondary ip address",
    )
    command = addresses.RemoveIpFromNic(UUID(row["vm_id"]), UUID(row["id"]))
    with call.acting():
        addresses.remove_ip_from_nic(call.store, command)
    return run_async(
        call,
        instance_type="Nic",
        instance_id=UUID(row["id"]),
        event_type="NIC.SECONDARY.IP.UNASSIGN",
        description=f"Removing secondary ip {row['ip_address']}",
        work=lambda: {"success": True},
    )


P = ParamType
VM_PKG = "org.apache.cloudstack.api.command.user.vm"
COMMANDS = (
    ApiCommand(
        "listNics",
        list_nics,
        (
            Param("virtualmachineid", P.UUID, required=True),
            Param("nicid", P.UUID),
            Param("networkid", P.UUID),
            display.FOR_DISPLAY_CHANGE,
        ),
        shape="list",
        item_key="nic",
        java_class=f"{VM_PKG}.ListNicsCmd",
        description="list the vm nics",
    ),
    ApiCommand(
        "addIpToNic",
        add_ip_to_nic,
        (Param("nicid", P.UUID, required=True), Param("ipaddress", P.STRING)),
        shape="async",
        is_async=True,
        item_key="nicsecondaryip",
        render=_secondary_object,
        java_class=f"{VM_PKG}.AddIpToVmNicCmd",
        description="Assigns secondary IP to NIC",
    ),
    ApiCommand(
        "removeIpFromNic",
        remove_ip_from_nic,
        (Param("id", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{VM_PKG}.RemoveIpFromVmNicCmd",
        description="Assigns secondary IP to NIC.",
    ),
)
