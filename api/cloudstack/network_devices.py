"""External network devices (root admins, as 4.3): F5 and NetScaler load balancers, SRX and Palo
Alto firewalls, Nicira NVP and BigSwitch VNS controllers, Cisco VNMC and ASA 1000v, Nexus VSMs,
traffic monitors, and 4.3's older zone-wide commands for load balancers and firewalls.

Every command acts on one `NetworkDevice` model; a `Family` says which kinds of device a group
of commands sees, the id parameter it names them by, and how it answers them. Where 4.3 logs
into the device when it is added (NITRO on a NetScaler or an SDX, F5's iControl, the SRX's
Junos XML protocol, the Palo Alto and Cisco VNMC XML APIs, NVP, BigSwitch), Stratus does the
same over the device's protocol first (`stratus.device_login`), and a device that refuses is
not added.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid4

import orjson

from api.access import Role
from api.catalogue import renderers
from api.cloudstack.common import select_page
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import network_devices as cmd
from domain.errors import DomainError, InvalidParameter, ResourceInUse
from domain.network_device import (
    KINDS,
    DeviceChange,
    DeviceKind,
    DeviceSpec,
    check_provider,
    device_kind,
    parse_device_url,
)
from domain.values import Secret
from stratus import device_login
from stratus.db import contains

P = ParamType
RA = Role.ROOT_ADMIN
Row = dict[str, Any]

NETSCALERS = ("NetscalerMPXLoadBalancer", "NetscalerVPXLoadBalancer", "NetscalerSDXLoadBalancer")
F5_TYPE, SRX_TYPE = ("F5BigIpLoadBalancer",), ("JuniperSRXFirewall",)
# The types 4.3's addNetworkDevice and listNetworkDevice take (its DHCP and PXE types belong to
# baremetal, not built).
LEGACY_TYPES = (*F5_TYPE, *NETSCALERS, *SRX_TYPE)
DEVICE_LOGINS: dict[str, Callable[[str, str, Secret], None]] = {
    **{name: device_login.netscaler_login for name in NETSCALERS[:2]},
    "NetscalerSDXLoadBalancer": device_login.sdx_login,
    "F5BigIpLoadBalancer": device_login.f5_login,
    "JuniperSRXFirewall": device_login.srx_login,
    "PaloAltoFirewall": device_login.palo_alto_login,
    "CiscoVnmc": device_login.vnmc_login,
    "NiciraNvp": device_login.nvp_login,
    "BigSwitchVns": lambda host, _user, _password: device_login.bigswitch_health(host),
}


# ---- answers ---------------------------------------------------------------------------------


def _options(row: Row) -> dict[str, str]:
    found: dict[str, str] = orjson.loads(row["options"])
    return found


def _given(body: dict[str, Any]) -> dict[str, Any]:
    """4.3's serializer drops unset values."""
    return {k: v for k, v in body.items() if v not in (None, "")}


def render_lb(row: Row) -> dict[str, Any]:
    o = _options(row)
    body = {
        "lbdeviceid": row["id"],
        "physicalnetworkid": row["physical_network_id"],
        "provider": row["provider"],
        "lbdevicename": row["kind"],
        "lbdevicestate": row["state"],
        "lbdevicecapacity": int(row["capacity"]),
        "lbdevicededicated": bool(row["dedicated"]),
        "publicinterface": o.get("publicinterface"),
        "privateinterface": o.get("privateinterface"),
        "ipaddress": row["host"],
    }
    if row["provider"] == "F5BigIp":
        body["inline"] = bool(row["inline"])
    else:
        body["podids"] = [p for p in row["pod_ids"].split(",") if p]
        body["gslbprovider"] = o.get("gslbprovider") == "true"
        body["isexclusivegslbprovider"] = o.get("isexclusivegslbprovider") == "true"
        body["gslbproviderpublicip"] = o.get("gslbproviderpublicip")
        body["gslbproviderprivateip"] = o.get("gslbproviderprivateip")
    return _given(body)


def _firewall_details(row: Row) -> dict[str, Any]:
    """What 4.3's firewall answers (and its older externalfirewall answer) share."""
    o = _options(row)
    palo = row["provider"] == "PaloAlto"
    return {
        "zoneid": row["zone_id"],
        "ipaddress": row["host"],
        "username": row["username"],
        "publicinterface": o.get("publicinterface"),
        "usageinterface": o.get("usageinterface"),
        "privateinterface": o.get("privateinterface"),
        "publiczone": o.get("publicnetwork" if palo else "publiczone", "untrust"),
        "privatezone": o.get("privatenetwork" if palo else "privatezone", "trust"),
        "numretries": o.get("numretries", "1"),
        "timeout": o.get("timeout", "300"),
    }


def render_firewall(row: Row) -> dict[str, Any]:
    return _given(
        {
            "fwdeviceid": row["id"],
            "physicalnetworkid": row["physical_network_id"],
            "provider": row["provider"],
            "fwdevicename": row["kind"],
            "fwdevicestate": row["state"],
            "fwdevicecapacity": int(row["capacity"]),
            **_firewall_details(row),
        }
    )


def render_external(row: Row) -> dict[str, Any]:
    """4.3's older answers (externalloadbalancer, externalfirewall) of a device as a host."""
    if KINDS[row["kind"]].role == "firewall":
        return _given({"id": row["id"], **_firewall_details(row)})
    o = _options(row)
    return _given(
        {
            "id": row["id"],
            "zoneid": row["zone_id"],
            "ipaddress": row["host"],
            "username": row["username"],
            "publicinterface": o.get("publicinterface"),
            "privateinterface": o.get("privateinterface"),
            "numretries": o.get("numretries", "1"),
        }
    )


def render_nvp(row: Row) -> dict[str, Any]:
    o = _options(row)
    return _given(
        {
            "nvpdeviceid": row["id"],
            "physicalnetworkid": row["physical_network_id"],
            "provider": row["provider"],
            "niciradevicename": row["kind"],
            "hostname": row["host"],
            "transportzoneuuid": o.get("transportzoneuuid"),
            "l3gatewayserviceuuid": o.get("l3gatewayserviceuuid"),
        }
    )


def render_vns(row: Row) -> dict[str, Any]:
    return {
        "vnsdeviceid": row["id"],
        "physicalnetworkid": row["physical_network_id"],
        "provider": row["provider"],
        "bigswitchdevicename": row["kind"],
        "hostname": row["host"],
    }


def render_vnmc(row: Row) -> dict[str, Any]:
    return {
        "resourceid": row["id"],
        "physicalnetworkid": row["physical_network_id"],
        "provider": row["provider"],
        "resourcename": row["kind"],
    }


def render_asa(row: Row) -> dict[str, Any]:
    return _given(
        {
            "resourceid": row["id"],
            "physicalnetworkid": row["physical_network_id"],
            "hostname": row["host"],
            "insideportprofile": _options(row).get("insideportprofile"),
            "networkid": row.get("network_id"),
        }
    )


def render_vsm(row: Row) -> dict[str, Any]:
    """With the switch domain the VSM told when it was added (`api.cloudstack.nexus_vsms`)."""
    o = _options(row)
    return _given(
        {
            "vsmdeviceid": row["id"],
            "vsmdevicename": row["kind"],
            "ipaddress": row["host"],
            "vsmdevicestate": row["state"],
            **{f"vsm{key}": o.get(key) for key in VSM_FACTS},
        }
    )


VSM_FACTS = ("domainid", "ctrlvlanid", "pktvlanid", "mgmtvlanid", "storagevlanid", "configmode")


def render_monitor(row: Row) -> dict[str, Any]:
    o = _options(row)
    return {
        "id": row["id"],
        "zoneid": row["zone_id"],
        "ipaddress": row["host"],
        "numretries": o.get("numretries", "1"),
        "timeout": o.get("timeout", "300"),
    }


# ---- families --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """The devices a group of commands sees, how it names one and how it answers it."""

    kinds: tuple[str, ...]
    id_param: str
    item: str
    what: str
    render: Callable[[Row], dict[str, Any]]
    event: str = "EXTERNAL.DEVICE"

    def row(self, call: Call, device_id: str) -> Row:
        """A live device of this family; 431 in 4.3's words otherwise."""
        with call.read() as cursor:
            row = cursor.execute(
                _SELECT + " WHERE d.id = %s AND d.removed = 0", (device_id,)
            ).fetchone()
        if row is None or row["kind"] not in self.kinds:
            raise InvalidParameter(f"Could not find {self.what} device with ID: {device_id}")
        return dict(row)

    def view(self, call: Call, device_id: str) -> dict[str, Any]:
        with call.read() as cursor:
            row = cursor.execute(_SELECT + " WHERE d.id = %s", (device_id,)).fetchone()
        if row is None:
            raise not_found(self.id_param, device_id)
        return self.render(dict(row))


# Each device with the first network placed on it (an ASA 1000v answers it as `networkid`).
_DEVICES = (
    "(SELECT d.*, (SELECT min(m.network_id) FROM network_device_networks AS m "
    "WHERE m.device_id = d.id) AS network_id FROM network_devices AS d) AS d"
)
_SELECT = f"SELECT * FROM {_DEVICES}"

LB, FW = "PHYSICAL.LOADBALANCER", "PHYSICAL.FIREWALL"  # 4.3's event types of these jobs
F5 = Family(F5_TYPE, "lbdeviceid", "f5loadbalancer", "F5 load balancer", render_lb, LB)
NETSCALER = Family(NETSCALERS, "lbdeviceid", "netscalerloadbalancer", "Netscaler", render_lb, LB)
SRX = Family(SRX_TYPE, "fwdeviceid", "srxfirewall", "SRX firewall", render_firewall, FW)
PALO_ALTO = Family(
    ("PaloAltoFirewall",), "fwdeviceid", "paloaltofirewall", "Palo Alto firewall",
    render_firewall, FW,
)  # fmt: skip
NVP = Family(
    ("NiciraNvp",), "nvpdeviceid", "niciranvpdevice", "Nicira NVP", render_nvp,
    "PHYSICAL.NVPCONTROLLER",
)  # fmt: skip
VNS = Family(
    ("BigSwitchVns",), "vnsdeviceid", "bigswitchvnsdevice", "BigSwitch VNS", render_vns,
    "PHYSICAL.VNSCONTROLLER",
)  # fmt: skip
VNMC = Family(("CiscoVnmc",), "resourceid", "CiscoVnmcResource", "Cisco VNMC", render_vnmc)
ASA = Family(("CiscoAsa1000v",), "resourceid", "CiscoAsa1000vResource", "ASA 1000v", render_asa)
VSM = Family(
    ("CiscoNexusVSM",), "id", "cisconexusvsm", "Cisco Nexus 1000v VSM", render_vsm, "SWITCH.MGMT"
)
MONITOR = Family(("TrafficMonitor",), "id", "trafficmonitor", "traffic monitor", render_monitor)
EXTERNAL_LB = Family(
    F5_TYPE, "id", "externalloadbalancer", "external load balancer", render_external
)
EXTERNAL_FW = Family(SRX_TYPE, "id", "externalfirewall", "external firewall", render_external)
ANY_DEVICE = Family(LEGACY_TYPES, "id", "networkdevice", "network", render_external)
# Each answered object's one renderer for finished jobs (a bound method is made anew per access).
VIEWS = {f.item: f.view for f in (F5, NETSCALER, SRX, PALO_ALTO, NVP, VNS, VSM)}


# ---- what a device is added to ---------------------------------------------------------------


def _physical(call: Call, physical_id: str) -> Row:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id, zone_id, name FROM physical_networks WHERE id = %s AND removed = 0",
            (physical_id,),
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"Could not find phyical network with ID: {physical_id}")
    return dict(row)


def _zone_physical(call: Call, zone_id: str) -> Row:
    """4.3's older commands take a zone and use its one physical network."""
    with call.read() as cursor:
        if cursor.execute("SELECT 1 FROM zones WHERE id = %s", (zone_id,)).fetchone() is None:
            raise InvalidParameter(f"Could not find zone with ID: {zone_id}")
        rows = cursor.execute(
            "SELECT id, zone_id, name FROM physical_networks WHERE zone_id = %s AND removed = 0",
            (zone_id,),
        ).fetchall()
    if len(rows) != 1:
        raise InvalidParameter(
            f"There are no physical networks or multiple physical networks configured in zone "
            f"with ID: {zone_id} to add this device."
        )
    return dict(rows[0])


def _spec(
    kind: DeviceKind, physical: Row, url: str, args: dict[str, Any], **extra: str
) -> DeviceSpec:
    """A device at `url` on `physical`, with the credentials given and `extra` options."""
    spec = DeviceSpec.from_url(
        kind,
        UUID(physical["zone_id"]),
        url,
        physical_network_id=UUID(physical["id"]),
        username=args.get("username") or "",
        password=Secret(args["password"]) if args.get("password") else None,
    )
    return replace(spec, options={**spec.options, **{k: v for k, v in extra.items() if v}})


def _login(call: Call, spec: DeviceSpec, address: str) -> None:
    """4.3's login to the device as it is added, where its protocol is reached from here; after
    the provider check (which the command makes again on the physical network), as in 4.3."""
    provider = spec.device_kind.provider
    if provider and spec.physical_network_id:
        with call.read() as cursor:
            rows = cursor.execute(
                "SELECT name, state FROM network_service_providers WHERE physical_network_id = %s",
                (str(spec.physical_network_id),),
            ).fetchall()
        check_provider([dict(r) for r in rows], provider, str(spec.physical_network_id))
    check = DEVICE_LOGINS.get(spec.kind)
    if check is None:
        return
    try:
        check(address, spec.username, spec.password or Secret(""))
    except device_login.DeviceRefused as refused:
        raise DomainError(str(refused)) from None


def _added(call: Call, family: Family, spec: DeviceSpec, address: str) -> Submitted:
    """The add job: log in where 4.3 does, then register the device."""
    command = cmd.AddDevice(uuid4(), spec)

    def work() -> dict[str, Any]:
        _login(call, spec, address)
        cmd.add_device(call.store, command)
        return {"object": family.item, "id": str(command.device_id)}

    return _job(call, family, command.device_id, "ADD", f"Adding {spec.kind} at {spec.host}", work)


def _job(
    call: Call,
    family: Family,
    device_id: UUID,
    verb: str,
    text: str,
    work: Callable[[], dict[str, Any]],
) -> Submitted:
    return run_async(
        call,
        instance_type="NetworkDevice",
        instance_id=device_id,
        event_type=f"{family.event}.{verb}",
        description=text,
        work=work,
        creates=verb == "ADD",
    )


def _add_sync(call: Call, family: Family, spec: DeviceSpec, address: str) -> dict[str, Any]:
    _login(call, spec, address)
    outcome = call.write(cmd.add_device, cmd.AddDevice(uuid4(), spec))
    return family.view(call, str(outcome.id))


# ---- handlers --------------------------------------------------------------------------------


def _typed(args: dict[str, Any], allowed: tuple[str, ...], what: str) -> DeviceKind:
    return device_kind(args["networkdevicetype"], allowed, f"Invalid {what} device type")


def add_f5(call: Call, args: dict[str, Any]) -> Submitted:
    kind = _typed(args, F5.kinds, "F5 load balancer")
    spec = _spec(kind, _physical(call, args["physicalnetworkid"]), args["url"], args)
    return _added(call, F5, spec, args["url"])


def add_netscaler(call: Call, args: dict[str, Any]) -> Submitted:
    kind = _typed(args, NETSCALER.kinds, "Netscaler")
    gslb, exclusive = bool(args["gslbprovider"]), bool(args["isexclusivegslbprovider"])
    if gslb and kind.name == "NetscalerSDXLoadBalancer":
        raise InvalidParameter(
            f"NetScaler device type {kind.name} is not supported as GSLB provider"
        )
    if gslb and not (args["gslbproviderpublicip"] and args["gslbproviderprivateip"]):
        raise InvalidParameter("A GSLB service provider needs its site's public and private IP")
    for key in ("gslbproviderpublicip", "gslbproviderprivateip"):
        if args[key]:
            try:
                ipaddress.ip_address(args[key])
            except ValueError:
                raise InvalidParameter(f"Invalid IP address for {key}: {args[key]}") from None
    if exclusive and not gslb:
        raise InvalidParameter("A NetScaler is an exclusive GSLB provider only as a GSLB provider")
    spec = _spec(
        kind,
        _physical(call, args["physicalnetworkid"]),
        args["url"],
        args,
        gslbprovider="true" if gslb else "",
        isexclusivegslbprovider="true" if exclusive else "",
        gslbproviderpublicip=args["gslbproviderpublicip"] or "",
        gslbproviderprivateip=args["gslbproviderprivateip"] or "",
    )
    return _added(call, NETSCALER, spec, args["url"])


def add_srx(call: Call, args: dict[str, Any]) -> Submitted:
    kind = _typed(args, SRX.kinds, "SRX firewall")
    spec = _spec(kind, _physical(call, args["physicalnetworkid"]), args["url"], args)
    return _added(call, SRX, spec, args["url"])


def add_palo_alto(call: Call, args: dict[str, Any]) -> Submitted:
    kind = _typed(args, PALO_ALTO.kinds, "Palo Alto firewall")
    spec = _spec(kind, _physical(call, args["physicalnetworkid"]), args["url"], args)
    return _added(call, PALO_ALTO, spec, args["url"])


# A host name, IPv4 or [IPv6] address, with a port where a test device listens on another one.
HOST_NAME = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def _host_spec(
    kind: str, physical: Row, host: str, args: dict[str, Any], **extra: str
) -> DeviceSpec:
    """A device named by its host name alone (controllers, VNMC, ASA 1000v)."""
    if not HOST_NAME.fullmatch(host.strip()):
        raise InvalidParameter(f"Invalid host name or address of the device: {host}")
    return DeviceSpec(
        kind,
        UUID(physical["zone_id"]),
        host.strip(),
        physical_network_id=UUID(physical["id"]),
        options={k: v for k, v in extra.items() if v},
        username=args.get("username") or "",
        password=Secret(args["password"]) if args.get("password") else None,
    )


def add_nvp(call: Call, args: dict[str, Any]) -> Submitted:
    physical = _physical(call, args["physicalnetworkid"])
    spec = _host_spec(
        "NiciraNvp",
        physical,
        args["hostname"],
        args,
        transportzoneuuid=args["transportzoneuuid"],
        l3gatewayserviceuuid=args["l3gatewayserviceuuid"] or "",
    )
    return _added(call, NVP, spec, spec.host)


def add_vns(call: Call, args: dict[str, Any]) -> Submitted:
    spec = _host_spec(
        "BigSwitchVns", _physical(call, args["physicalnetworkid"]), args["hostname"], args
    )
    return _added(call, VNS, spec, spec.host)


def add_vnmc(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    spec = _host_spec(
        "CiscoVnmc", _physical(call, args["physicalnetworkid"]), args["hostname"], args
    )
    return _add_sync(call, VNMC, spec, spec.host)


def add_asa(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(call, args["physicalnetworkid"])
    with call.read() as cursor:
        cluster = cursor.execute(
            "SELECT id, zone_id FROM clusters WHERE id = %s", (args["clusterid"],)
        ).fetchone()
    if cluster is None or cluster["zone_id"] != physical["zone_id"]:
        raise InvalidParameter(
            f"Could not find cluster with ID {args['clusterid']} in the physical network's zone"
        )
    spec = _host_spec(
        "CiscoAsa1000v",
        physical,
        args["hostname"],
        args,
        insideportprofile=args["insideportprofile"],
    )
    spec = replace(spec, cluster_id=UUID(cluster["id"]))
    return _add_sync(call, ASA, spec, spec.host)


def add_external_lb(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    physical = _zone_physical(call, args["zoneid"])
    spec = _spec(KINDS["F5BigIpLoadBalancer"], physical, args["url"], args)
    return _add_sync(call, EXTERNAL_LB, spec, args["url"])


def add_external_fw(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    physical = _zone_physical(call, args["zoneid"])
    spec = _spec(KINDS["JuniperSRXFirewall"], physical, args["url"], args)
    return _add_sync(call, EXTERNAL_FW, spec, args["url"])


def add_network_device(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """4.3's generic add: the type names the device, the map's first entry its physical
    network, URL and credentials."""
    groups = args["networkdeviceparameterlist"]
    if not groups:
        raise DomainError("Parameter list is null")
    given = {k.lower(): v for k, v in groups[0].items()}
    try:
        kind = device_kind(args["networkdevicetype"] or "", LEGACY_TYPES, "")
    except InvalidParameter:
        raise DomainError(f"Unsupported network device type:{args['networkdevicetype']}") from None
    for needed in ("physicalnetworkid", "url", "username", "password"):
        if not given.get(needed):
            raise InvalidParameter(f"Specify {needed} in networkdeviceparameterlist")
    physical = _physical(call, _uuid_text(given["physicalnetworkid"]))
    spec = _spec(kind, physical, given["url"], given)
    return _add_sync(call, ANY_DEVICE, spec, given["url"])


def _uuid_text(text: str) -> str:
    try:
        return str(UUID(text))
    except ValueError:
        raise InvalidParameter(f"Invalid physical network id {text}") from None


def add_traffic_monitor(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    with call.read() as cursor:
        if (
            cursor.execute("SELECT 1 FROM zones WHERE id = %s", (args["zoneid"],)).fetchone()
            is None
        ):
            raise not_found("zoneid", args["zoneid"])
    host, options = parse_device_url(args["url"])
    options.update(
        {k: args[k] for k in ("includezones", "excludezones") if args[k]}  # kept, as 4.3
    )
    spec = DeviceSpec(
        "TrafficMonitor", UUID(args["zoneid"]), host, url=args["url"], options=options
    )
    return _add_sync(call, MONITOR, spec, args["url"])


def _configure(
    family: Family, change: Callable[[Call, Row, dict[str, Any]], DeviceChange]
) -> Callable[..., Submitted]:
    def handler(call: Call, args: dict[str, Any]) -> Submitted:
        row = family.row(call, args[family.id_param])
        wanted = change(call, row, args)

        def work() -> dict[str, Any]:
            cmd.configure_device(call.store, UUID(row["id"]), wanted)
            return {"object": family.item, "id": row["id"]}

        text = f"Configuring {row['kind']} at {row['host']}"
        return _job(call, family, UUID(row["id"]), "CONFIGURE", text, work)

    return handler


def _capacity(key: str) -> Callable[[Call, Row, dict[str, Any]], DeviceChange]:
    return lambda _call, _row, args: DeviceChange(capacity=args[key])


def _netscaler_change(call: Call, row: Row, args: dict[str, Any]) -> DeviceChange:
    pods = args["podids"]
    for pod in pods or ():
        with call.read() as cursor:
            found = cursor.execute("SELECT zone_id FROM pods WHERE id = %s", (pod,)).fetchone()
        if found is None or found["zone_id"] != row["zone_id"]:
            raise InvalidParameter(f"Could not find pod with ID {pod} in the device's zone")
    return DeviceChange(
        capacity=args["lbdevicecapacity"],
        dedicated=args["lbdevicededicated"],
        inline=args["inline"],
        pod_ids=None if pods is None else tuple(UUID(p) for p in pods),
    )


def _delete(family: Family, is_async: bool) -> Callable[..., Any]:
    def handler(call: Call, args: dict[str, Any]) -> Any:
        row = family.row(call, args[family.id_param])
        if not is_async:
            call.write(cmd.delete_device, UUID(row["id"]))
            return None

        def work() -> dict[str, Any]:
            cmd.delete_device(call.store, UUID(row["id"]))
            return {"success": True}

        text = f"Deleting {row['kind']} at {row['host']}"
        return _job(call, family, UUID(row["id"]), "DELETE", text, work)

    return handler


def delete_vsm(call: Call, args: dict[str, Any]) -> Submitted:
    """As 4.3: a VSM whose cluster still has hosts stays."""
    row = VSM.row(call, args["id"])
    with call.read() as cursor:
        used = cursor.execute(
            "SELECT 1 FROM hosts WHERE cluster_id = %s AND removed = 0", (row["cluster_id"],)
        ).fetchone()
    if used is not None:
        raise ResourceInUse(
            f"Non-empty cluster with id {row['cluster_id']} still has a host that uses this VSM. "
            "Please empty the cluster first"
        )
    handler: Callable[[Call, dict[str, Any]], Submitted] = _delete(VSM, True)
    return handler(call, args)


def _vsm_state(state: str) -> Callable[..., Submitted]:
    def handler(call: Call, args: dict[str, Any]) -> Submitted:
        row = VSM.row(call, args["id"])

        def work() -> dict[str, Any]:
            cmd.set_device_state(call.store, UUID(row["id"]), state)
            return {"object": VSM.item, "id": row["id"]}

        verb = "ENABLE" if state == "Enabled" else "DISABLE"
        return _job(call, VSM, UUID(row["id"]), verb, f"{verb.title()} Nexus VSM", work)

    return handler


def _page(
    call: Call, family: Family, where: list[str], params: list[Any], args: dict[str, Any]
) -> Listing:
    kinds = ", ".join("%s" for _ in family.kinds)
    where = ["d.removed = 0", f"d.kind IN ({kinds})", *where]
    params = [*family.kinds, *params]
    if args.get("keyword"):
        clause, values = contains(("d.host", "d.kind"), args["keyword"])
        where.append(clause)
        params += values
    return select_page(
        call, _DEVICES, where, params, "d.created, d.id", args, lambda r: family.render(dict(r))
    )


def _lister(family: Family, *, needs_one: bool) -> Callable[[Call, dict[str, Any]], Listing]:
    """A family's list: by its id or its physical network (4.3 asks for one of them)."""

    def handler(call: Call, args: dict[str, Any]) -> Listing:
        device_id, physical_id = args.get(family.id_param), args.get("physicalnetworkid")
        if needs_one and not (device_id or physical_id):
            raise InvalidParameter(
                f"Either physical network Id or {family.what} device Id must be specified"
            )
        where, params = [], []
        if device_id:
            family.row(call, device_id)
            where.append("d.id = %s")
            params.append(device_id)
        if physical_id:
            _physical(call, physical_id)
            where.append("d.physical_network_id = %s")
            params.append(physical_id)
        if args.get("hostname"):
            where.append("d.host = %s")
            params.append(args["hostname"])
        return _page(call, family, where, params, args)

    return handler


def _zone_lister(family: Family) -> Callable[[Call, dict[str, Any]], Listing]:
    def handler(call: Call, args: dict[str, Any]) -> Listing:
        if not args["zoneid"]:
            raise InvalidParameter(f"Zone Id must be specified to list the {family.what}s")
        if family is MONITOR:
            return _page(call, family, ["d.zone_id = %s"], [args["zoneid"]], args)
        physical = _zone_physical(call, args["zoneid"])
        return _page(call, family, ["d.physical_network_id = %s"], [physical["id"]], args)

    return handler


def list_vsms(call: Call, args: dict[str, Any]) -> Listing:
    where, params = [], []
    for key, column in (("clusterid", "d.cluster_id"), ("zoneid", "d.zone_id")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    return _page(call, VSM, where, params, args)


def list_network_devices(call: Call, args: dict[str, Any]) -> Listing:
    given = {k.lower(): v for k, v in (args["networkdeviceparameterlist"] or [{}])[0].items()}
    where, params = [], []
    if args["networkdevicetype"]:
        kind = device_kind(
            args["networkdevicetype"],
            LEGACY_TYPES,
            f"Unknown network device type:{args['networkdevicetype']}",
        )
        where.append("d.kind = %s")
        params.append(kind.name)
    if given.get("physicalnetworkid"):
        where.append("d.physical_network_id = %s")
        params.append(_uuid_text(given["physicalnetworkid"]))
    if given.get("zoneid"):
        where.append("d.zone_id = %s")
        params.append(given["zoneid"])
    return _page(call, ANY_DEVICE, where, params, args)


def _networks(family: Family, id_param: str) -> Callable[[Call, dict[str, Any]], Listing]:
    """The guest networks placed on a device."""

    def handler(call: Call, args: dict[str, Any]) -> Listing:
        row = family.row(call, args[id_param])
        with call.read() as cursor:
            ids = [
                r["network_id"]
                for r in cursor.execute(
                    "SELECT m.network_id FROM network_device_networks AS m JOIN networks AS n "
                    "ON n.id = m.network_id WHERE m.device_id = %s AND n.removed = 0 "
                    "ORDER BY n.created, n.id",
                    (row["id"],),
                ).fetchall()
            ]
        paging = args["paging"]
        end = None if paging.limit is None else paging.offset + paging.limit
        render = renderers()["network"]
        return Listing([render(call, i) for i in ids[paging.offset : end]], len(ids))

    return handler


# ---- declarations ----------------------------------------------------------------------------

PHYSICAL = Param("physicalnetworkid", P.UUID, required=True)
HOSTNAME = Param("hostname", P.STRING, required=True)
CREDENTIALS = (
    Param("username", P.STRING, required=True),
    Param("password", P.STRING, required=True),
)
DEVICE_URL = Param("url", P.STRING, required=True, max_length=2048)
ZONE = Param("zoneid", P.UUID, required=True)
ADD_BY_URL = (
    PHYSICAL,
    DEVICE_URL,
    *CREDENTIALS,
    Param("networkdevicetype", P.STRING, required=True),
)
OLD_ADD = (ZONE, DEVICE_URL, *CREDENTIALS)
GSLB = (
    Param("gslbprovider", P.BOOLEAN),
    Param("gslbproviderpublicip", P.STRING),
    Param("gslbproviderprivateip", P.STRING),
    Param("isexclusivegslbprovider", P.BOOLEAN),
)
NETSCALER_CHANGES = (
    Param("lbdevicecapacity", P.LONG),
    Param("lbdevicededicated", P.BOOLEAN),
    Param("inline", P.BOOLEAN),
    Param("podids", P.LIST, element=P.UUID),
)
GENERIC = (Param("networkdeviceparameterlist", P.MAP), Param("networkdevicetype", P.STRING))


def _id(family: Family, name: str = "") -> Param:
    return Param(name or family.id_param, P.UUID, required=True)


def _by(family: Family) -> tuple[Param, ...]:
    """A family's list filters: its device id and the physical network."""
    return (Param(family.id_param, P.UUID), Param("physicalnetworkid", P.UUID))


def _async(
    name: str, handler: Any, params: tuple[Param, ...], family: Family | None, text: str
) -> ApiCommand:
    """An async command; it answers the device (`family`) or success (None)."""
    return ApiCommand(
        name,
        handler,
        params,
        role=RA,
        shape="async",
        is_async=True,
        item_key=family.item if family else "",
        render=VIEWS[family.item] if family else None,
        description=text,
    )


def _async_delete(name: str, family: Family, text: str) -> ApiCommand:
    return _async(name, _delete(family, True), (_id(family),), None, text)


def _list(name: str, handler: Any, params: tuple[Param, ...], item: str, text: str) -> ApiCommand:
    return ApiCommand(name, handler, params, role=RA, shape="list", item_key=item, description=text)


def _devices(name: str, family: Family, text: str, *, needs_one: bool = True) -> ApiCommand:
    return _list(name, _lister(family, needs_one=needs_one), _by(family), family.item, text)


def _networks_of(name: str, family: Family, text: str, id_param: str = "") -> ApiCommand:
    named = id_param or family.id_param
    return _list(name, _networks(family, named), (_id(family, named),), "network", text)


def _sync(
    name: str, handler: Any, params: tuple[Param, ...], family: Family, text: str
) -> ApiCommand:
    return ApiCommand(name, handler, params, role=RA, item_key=family.item, description=text)


def _sync_delete(name: str, family: Family, text: str) -> ApiCommand:
    handler = _delete(family, False)
    return ApiCommand(name, handler, (_id(family),), role=RA, shape="success", description=text)


COMMANDS = (
    # F5 BIG-IP
    _async("addF5LoadBalancer", add_f5, ADD_BY_URL, F5, "Adds a F5 BigIP load balancer device"),
    _async(
        "configureF5LoadBalancer",
        _configure(F5, _capacity("lbdevicecapacity")),
        (_id(F5), Param("lbdevicecapacity", P.LONG)),
        F5,
        "configures a F5 load balancer device",
    ),
    _async_delete("deleteF5LoadBalancer", F5, "delete a F5 load balancer device"),
    _devices("listF5LoadBalancers", F5, "lists F5 load balancer devices"),
    _networks_of(
        "listF5LoadBalancerNetworks", F5, "lists network that are using a F5 load balancer device"
    ),
    # NetScaler
    _async(
        "addNetscalerLoadBalancer",
        add_netscaler,
        (*ADD_BY_URL, *GSLB),
        NETSCALER,
        "Adds a netscaler load balancer device",
    ),
    _async(
        "configureNetscalerLoadBalancer",
        _configure(NETSCALER, _netscaler_change),
        (_id(NETSCALER), *NETSCALER_CHANGES),
        NETSCALER,
        "configures a netscaler load balancer device",
    ),
    _async_delete(
        "deleteNetscalerLoadBalancer", NETSCALER, "delete a netscaler load balancer device"
    ),
    _devices("listNetscalerLoadBalancers", NETSCALER, "lists netscaler load balancer devices"),
    _networks_of(
        "listNetscalerLoadBalancerNetworks",
        NETSCALER,
        "lists network that are using a netscaler load balancer device",
    ),
    # Juniper SRX
    _async("addSrxFirewall", add_srx, ADD_BY_URL, SRX, "Adds a SRX firewall device"),
    _async(
        "configureSrxFirewall",
        _configure(SRX, _capacity("fwdevicecapacity")),
        (_id(SRX), Param("fwdevicecapacity", P.LONG)),
        SRX,
        "Configures a SRX firewall device",
    ),
    _async_delete("deleteSrxFirewall", SRX, "delete a SRX firewall device"),
    _devices("listSrxFirewalls", SRX, "lists SRX firewall devices in a physical network"),
    _networks_of(
        "listSrxFirewallNetworks", SRX, "lists network that are using SRX firewall device"
    ),
    # Palo Alto
    _async(
        "addPaloAltoFirewall",
        add_palo_alto,
        ADD_BY_URL,
        PALO_ALTO,
        "Adds a Palo Alto firewall device",
    ),
    _async(
        "configurePaloAltoFirewall",
        _configure(PALO_ALTO, _capacity("fwdevicecapacity")),
        (_id(PALO_ALTO), Param("fwdevicecapacity", P.LONG)),
        PALO_ALTO,
        "Configures a Palo Alto firewall device",
    ),
    _async_delete("deletePaloAltoFirewall", PALO_ALTO, "delete a Palo Alto firewall device"),
    _devices(
        "listPaloAltoFirewalls", PALO_ALTO, "lists Palo Alto firewall devices in a physical network"
    ),
    _networks_of(
        "listPaloAltoFirewallNetworks",
        PALO_ALTO,
        "lists network that are using Palo Alto firewall device",
        id_param="lbdeviceid",  # 4.3 names the firewall so
    ),
    # Nicira NVP
    _async(
        "addNiciraNvpDevice",
        add_nvp,
        (
            PHYSICAL,
            HOSTNAME,
            *CREDENTIALS,
            Param("transportzoneuuid", P.STRING, required=True),
            Param("l3gatewayserviceuuid", P.STRING),
        ),
        NVP,
        "Adds a Nicira NVP device",
    ),
    _async_delete("deleteNiciraNvpDevice", NVP, " delete a nicira nvp device"),
    _devices("listNiciraNvpDevices", NVP, "Lists Nicira NVP devices", needs_one=False),
    _networks_of(
        "listNiciraNvpDeviceNetworks", NVP, "lists network that are using a nicira nvp device"
    ),
    # BigSwitch VNS
    _async(
        "addBigSwitchVnsDevice", add_vns, (PHYSICAL, HOSTNAME), VNS, "Adds a BigSwitch VNS device"
    ),
    _async_delete("deleteBigSwitchVnsDevice", VNS, " delete a bigswitch vns device"),
    _devices("listBigSwitchVnsDevices", VNS, "Lists BigSwitch Vns devices", needs_one=False),
    # Cisco VNMC and ASA 1000v
    _sync(
        "addCiscoVnmcResource",
        add_vnmc,
        (PHYSICAL, HOSTNAME, *CREDENTIALS),
        VNMC,
        "Adds a Cisco Vnmc Controller",
    ),
    _sync_delete("deleteCiscoVnmcResource", VNMC, "Deletes a Cisco Vnmc controller"),
    _devices("listCiscoVnmcResources", VNMC, "Lists Cisco VNMC controllers", needs_one=False),
    _sync(
        "addCiscoAsa1000vResource",
        add_asa,
        (
            PHYSICAL,
            HOSTNAME,
            Param("insideportprofile", P.STRING, required=True),
            Param("clusterid", P.UUID, required=True),
        ),
        ASA,
        "Adds a Cisco Asa 1000v appliance",
    ),
    _sync_delete("deleteCiscoAsa1000vResource", ASA, "Deletes a Cisco ASA 1000v appliance"),
    _list(
        "listCiscoAsa1000vResources",
        _lister(ASA, needs_one=False),
        (*_by(ASA), Param("hostname", P.STRING)),
        ASA.item,
        "Lists Cisco ASA 1000v appliances",
    ),
    # Cisco Nexus 1000v VSMs (of VMware clusters)
    _async(
        "deleteCiscoNexusVSM", delete_vsm, (_id(VSM),), None, " delete a Cisco Nexus VSM device"
    ),
    _async(
        "enableCiscoNexusVSM",
        _vsm_state("Enabled"),
        (_id(VSM),),
        VSM,
        "Enable a Cisco Nexus VSM device",
    ),
    _async(
        "disableCiscoNexusVSM",
        _vsm_state("Disabled"),
        (_id(VSM),),
        VSM,
        "disable a Cisco Nexus VSM device",
    ),
    _list(
        "listCiscoNexusVSMs",
        list_vsms,
        (Param("clusterid", P.UUID), Param("zoneid", P.UUID)),
        VSM.item,
        "Retrieves a Cisco Nexus 1000v Virtual Switch Manager device associated with a Cluster",
    ),
    # 4.3's older zone-wide commands
    _sync(
        "addExternalLoadBalancer",
        add_external_lb,
        OLD_ADD,
        EXTERNAL_LB,
        "Adds F5 external load balancer appliance.",
    ),
    _sync_delete(
        "deleteExternalLoadBalancer",
        EXTERNAL_LB,
        "Deletes a F5 external load balancer appliance added in a zone.",
    ),
    _list(
        "listExternalLoadBalancers",
        _zone_lister(EXTERNAL_LB),
        (Param("zoneid", P.UUID),),
        EXTERNAL_LB.item,
        "Lists F5 external load balancer appliances added in a zone.",
    ),
    _sync(
        "addExternalFirewall",
        add_external_fw,
        OLD_ADD,
        EXTERNAL_FW,
        "Adds an external firewall appliance",
    ),
    _sync_delete("deleteExternalFirewall", EXTERNAL_FW, "Deletes an external firewall appliance."),
    _list(
        "listExternalFirewalls",
        _zone_lister(EXTERNAL_FW),
        (Param("zoneid", P.UUID),),
        EXTERNAL_FW.item,
        "List external firewall appliances.",
    ),
    _sync(
        "addNetworkDevice",
        add_network_device,
        GENERIC,
        ANY_DEVICE,
        "Adds a network device of one of the following types: ExternalDhcp, ExternalFirewall, "
        "ExternalLoadBalancer, PxeServer",
    ),
    _sync_delete("deleteNetworkDevice", ANY_DEVICE, "Deletes network device."),
    _list(
        "listNetworkDevice", list_network_devices, GENERIC, ANY_DEVICE.item, "List network devices"
    ),
    # Traffic monitors
    _sync(
        "addTrafficMonitor",
        add_traffic_monitor,
        (ZONE, DEVICE_URL, Param("includezones", P.STRING), Param("excludezones", P.STRING)),
        MONITOR,
        "Adds Traffic Monitor Host for Direct Network Usage",
    ),
    _sync_delete("deleteTrafficMonitor", MONITOR, "Deletes an traffic monitor host."),
    _list(
        "listTrafficMonitors",
        _zone_lister(MONITOR),
        (ZONE,),
        MONITOR.item,
        "List traffic monitor Hosts.",
    ),
)
