"""External network devices through the `cs` client: a device is added to a physical network
that has its provider, after logging into it over its own protocol where 4.3 does (stand-ins of
NITRO, the Palo Alto XML API, NVP and BigSwitch, F5's iControl REST, an SDX's NITRO and the SRX's
Junos XML protocol answer here), listed, configured and deleted;
4.3's older zone-wide commands, traffic monitors, Nexus VSMs and the networks on a device."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.sandbox import Sandbox
from tests.support.device_logins import HttpDeviceStandIn, JunosStandIn
from tests.support.network_devices import DeviceStandIn

INTERFACES = "publicinterface=1/1&privateinterface=1/2"
PALO_OPTIONS = f"{INTERFACES}&publicnetwork=untrust&privatenetwork=trust&pavr=default"
NOWHERE = "11111111-2222-3333-4444-555555555555"


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _fabric(admin: CloudStack, *providers: str) -> tuple[str, str]:
    """A zone with one physical network carrying `providers`; its zone and network ids."""
    zone = admin.createZone(
        name=f"z-{uuid.uuid4().hex[:8]}", networktype="Advanced", dns1="8.8.8.8",
        internaldns1="10.0.0.1",
    )["zone"]["id"]  # fmt: skip
    physical = admin.createPhysicalNetwork(
        zoneid=zone, name="fabric", vlan="100-110", fetch_result=True
    )["physicalnetwork"]["id"]
    for name in providers:
        admin.addNetworkServiceProvider(physicalnetworkid=physical, name=name, fetch_result=True)
    return zone, physical


@pytest.fixture
def device() -> Iterator[DeviceStandIn]:
    stand_in = DeviceStandIn().start()
    yield stand_in
    stand_in.stop()


def _netscaler(admin: CloudStack, physical: str, device: DeviceStandIn, **extra: Any) -> dict:
    params = {
        "physicalnetworkid": physical,
        "url": device.url(f"{INTERFACES}&lbdevicecapacity=10"),
        "username": device.username,
        "password": device.password,
        "networkdevicetype": "NetscalerVPXLoadBalancer",
        **extra,
    }
    return admin.addNetscalerLoadBalancer(**params, fetch_result=True)["netscalerloadbalancer"]


def test_a_netscaler_is_added_once_it_accepts_the_login(
    sandbox: Sandbox, device: DeviceStandIn
) -> None:
    admin = sandbox.client()
    _, bare = _fabric(admin)
    text = _refused(_netscaler, 530, admin=admin, physical=bare, device=device)
    assert "Network Service Provider: Netscaler is not enabled" in text
    assert device.seen == []  # nothing was asked of the device
    _, physical = _fabric(admin, "Netscaler")
    text = _refused(_netscaler, 530, admin=admin, physical=physical, device=device, password="no")
    assert "Failed to log in to Netscaler device" in text and "354" in text
    listed = admin.listNetscalerLoadBalancers(physicalnetworkid=physical)
    assert listed.get("netscalerloadbalancer", []) == []
    made = _netscaler(admin, physical, device)
    assert (made["lbdevicename"], made["lbdevicestate"], made["provider"]) == (
        "NetscalerVPXLoadBalancer",
        "Enabled",
        "Netscaler",
    )
    assert (made["lbdevicecapacity"], made["lbdevicededicated"], made["ipaddress"]) == (
        10,
        False,
        "127.0.0.1",
    )
    assert (made["publicinterface"], made["privateinterface"]) == ("1/1", "1/2")
    assert device.password not in str(made) and "password" not in made
    assert device.paths()[-2:] == ["/nitro/v1/config/login", "/nitro/v1/config/logout"]
    listed = admin.listNetscalerLoadBalancers(lbdeviceid=made["lbdeviceid"])
    assert listed["netscalerloadbalancer"] == [made]
    _refused(admin.listNetscalerLoadBalancers, 431)  # 4.3 asks for a device or a network


def test_a_netscaler_is_configured_and_deleted_as_4_3_allows(
    sandbox: Sandbox, device: DeviceStandIn
) -> None:
    admin = sandbox.client()
    zone, physical = _fabric(admin, "Netscaler")
    pod = admin.createPod(
        name="p1", zoneid=zone, gateway="10.9.0.1", netmask="255.255.255.0",
        startip="10.9.0.10", endip="10.9.0.20",
    )["pod"]["id"]  # fmt: skip
    made = _netscaler(admin, physical, device)
    device_id = made["lbdeviceid"]
    changed = admin.configureNetscalerLoadBalancer(
        lbdeviceid=device_id, lbdevicecapacity=4, lbdevicededicated="true", podids=pod,
        fetch_result=True,
    )["netscalerloadbalancer"]  # fmt: skip
    assert (changed["lbdevicecapacity"], changed["lbdevicededicated"], changed["podids"]) == (
        4,
        True,
        [pod],
    )
    networks = admin.listNetscalerLoadBalancerNetworks(lbdeviceid=device_id)
    assert networks.get("network", []) == [] and networks.get("count", 0) == 0
    _refused(
        admin.configureNetscalerLoadBalancer, 431, lbdeviceid=device_id, lbdevicecapacity=-2,
        fetch_result=True,
    )  # fmt: skip
    _refused(admin.configureNetscalerLoadBalancer, 431, lbdeviceid=device_id, podids=NOWHERE)
    # Another family's commands do not see it.
    _refused(admin.deleteF5LoadBalancer, 431, lbdeviceid=device_id)
    _refused(admin.listF5LoadBalancerNetworks, 431, lbdeviceid=device_id)
    assert admin.deleteNetscalerLoadBalancer(lbdeviceid=device_id, fetch_result=True) == {
        "success": True
    }
    assert (
        admin.listNetscalerLoadBalancers(physicalnetworkid=physical).get(
            "netscalerloadbalancer", []
        )
        == []
    )
    _refused(admin.listNetscalerLoadBalancerNetworks, 431, lbdeviceid=device_id)


def test_one_gslb_provider_per_physical_network(sandbox: Sandbox, device: DeviceStandIn) -> None:
    admin = sandbox.client()
    _, physical = _fabric(admin, "Netscaler")
    gslb = {"gslbprovider": "true", "gslbproviderpublicip": "203.0.113.5"}
    _refused(_netscaler, 431, admin=admin, physical=physical, device=device, **gslb)
    gslb["gslbproviderprivateip"] = "10.0.0.x"
    assert "gslbproviderprivateip" in _refused(
        _netscaler, 431, admin=admin, physical=physical, device=device, **gslb
    )
    gslb["gslbproviderprivateip"] = "10.0.0.5"
    made = _netscaler(admin, physical, device, **gslb)
    assert (made["gslbprovider"], made["gslbproviderpublicip"]) == (True, "203.0.113.5")
    text = _refused(_netscaler, 431, admin=admin, physical=physical, device=device, **gslb)
    assert "GSLB service provider" in text
    _refused(
        _netscaler, 431, admin=admin, physical=physical, device=device,
        isexclusivegslbprovider="true",
    )  # fmt: skip


def test_a_palo_alto_firewall_logs_in_with_its_xml_api(
    sandbox: Sandbox, device: DeviceStandIn
) -> None:
    admin = sandbox.client()
    zone, physical = _fabric(admin, "PaloAlto")
    params = {
        "physicalnetworkid": physical,
        "url": device.url(f"{PALO_OPTIONS}&fwdevicecapacity=3&numretries=2"),
        "username": device.username,
        "networkdevicetype": "PaloAltoFirewall",
    }
    text = _refused(admin.addPaloAltoFirewall, 530, password="nope", **params, fetch_result=True)
    assert "Invalid Credential" in text
    made = admin.addPaloAltoFirewall(password=device.password, **params, fetch_result=True)[
        "paloaltofirewall"
    ]
    assert (made["fwdevicename"], made["fwdevicecapacity"], made["zoneid"]) == (
        "PaloAltoFirewall",
        3,
        zone,
    )
    assert (made["publiczone"], made["privatezone"], made["numretries"]) == (
        "untrust",
        "trust",
        "2",
    )
    assert made["username"] == device.username and device.password not in str(made)
    changed = admin.configurePaloAltoFirewall(
        fwdeviceid=made["fwdeviceid"], fwdevicecapacity=8, fetch_result=True
    )["paloaltofirewall"]
    assert changed["fwdevicecapacity"] == 8
    networks = admin.listPaloAltoFirewallNetworks(lbdeviceid=made["fwdeviceid"])
    assert networks.get("network", []) == []
    missing = dict(params, url=device.url(INTERFACES), password=device.password)
    assert "publicnetwork" in _refused(admin.addPaloAltoFirewall, 530, **missing, fetch_result=True)
    admin.deletePaloAltoFirewall(fwdeviceid=made["fwdeviceid"], fetch_result=True)
    assert admin.listPaloAltoFirewalls(physicalnetworkid=physical).get("paloaltofirewall", []) == []


@pytest.fixture
def appliance() -> Iterator[HttpDeviceStandIn]:
    stand_in = HttpDeviceStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def srx_device() -> Iterator[JunosStandIn]:
    stand_in = JunosStandIn().start()
    yield stand_in
    stand_in.stop()


def test_f5_and_srx_are_registered_and_seen_by_4_3s_zone_wide_commands(
    sandbox: Sandbox, appliance: HttpDeviceStandIn, srx_device: JunosStandIn
) -> None:
    admin = sandbox.client()
    zone, physical = _fabric(admin, "F5BigIp", "JuniperSRX")
    f5 = admin.addF5LoadBalancer(
        physicalnetworkid=physical, url=appliance.url(f"{INTERFACES}&inline=true"),
        username=appliance.username, password=appliance.password,
        networkdevicetype="F5BigIpLoadBalancer", fetch_result=True,
    )["f5loadbalancer"]  # fmt: skip
    assert (f5["inline"], f5["lbdevicecapacity"], f5["ipaddress"]) == (True, 50, "127.0.0.1")
    assert appliance.paths() == ["/mgmt/tm/sys/version"]
    assert (
        admin.configureF5LoadBalancer(
            lbdeviceid=f5["lbdeviceid"], lbdevicecapacity=5, fetch_result=True
        )["f5loadbalancer"]["lbdevicecapacity"]
        == 5
    )
    legacy = admin.listExternalLoadBalancers(zoneid=zone)["externalloadbalancer"]
    assert [(d["id"], d["ipaddress"], d["username"]) for d in legacy] == [
        (f5["lbdeviceid"], "127.0.0.1", "admin")
    ]
    srx = admin.addExternalFirewall(
        zoneid=zone, url=srx_device.url(f"{INTERFACES}&usageinterface=1/3"),
        username=srx_device.username, password=srx_device.password,
    )["externalfirewall"]  # fmt: skip
    assert (srx["ipaddress"], srx["publiczone"], srx["usageinterface"]) == (
        "127.0.0.1",
        "untrust",
        "1/3",
    )
    assert srx_device.logins == [("root", True)]
    listed = admin.listSrxFirewalls(physicalnetworkid=physical)["srxfirewall"]
    assert [(d["fwdeviceid"], d["fwdevicestate"]) for d in listed] == [(srx["id"], "Enabled")]
    assert [d["id"] for d in admin.listExternalFirewalls(zoneid=zone)["externalfirewall"]] == [
        srx["id"]
    ]
    assert admin.deleteExternalFirewall(id=srx["id"])["success"] is True
    assert admin.listSrxFirewalls(physicalnetworkid=physical).get("srxfirewall", []) == []
    assert "privateinterface" in _refused(
        admin.addExternalLoadBalancer, 530, zoneid=zone, url="https://192.0.2.11?publicinterface=1",
        username="admin", password="x",
    )  # fmt: skip
    _refused(admin.listExternalLoadBalancers, 431)
    admin.deleteExternalLoadBalancer(id=f5["lbdeviceid"])
    admin.createPhysicalNetwork(zoneid=zone, name="second", vlan="200-210", fetch_result=True)
    text = _refused(
        admin.addExternalFirewall, 431, zoneid=zone, url=f"https://192.0.2.21?{INTERFACES}",
        username="root", password="x",
    )  # fmt: skip
    assert "multiple physical networks" in text


def test_f5_srx_and_sdx_with_wrong_credentials_or_unreachable_are_not_registered(
    sandbox: Sandbox, appliance: HttpDeviceStandIn, srx_device: JunosStandIn
) -> None:
    admin = sandbox.client()
    zone, physical = _fabric(admin, "F5BigIp", "JuniperSRX", "Netscaler")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nothing listens on
    nowhere = f"127.0.0.1:{closed.getsockname()[1]}"

    def add(command: Any, device: str, url: str, username: str, password: str) -> Any:
        return command(
            physicalnetworkid=physical, url=url, username=username, password=password,
            networkdevicetype=device, fetch_result=True,
        )  # fmt: skip

    cases = (
        (admin.addF5LoadBalancer, "F5BigIpLoadBalancer", appliance.url(INTERFACES), appliance),
        (admin.addSrxFirewall, "JuniperSRXFirewall", srx_device.url(INTERFACES), srx_device),
        (
            admin.addNetscalerLoadBalancer,
            "NetscalerSDXLoadBalancer",
            appliance.url(INTERFACES),
            appliance,
        ),
    )
    for command, kind, url, stand_in in cases:
        text = _refused(add, 530, command=command, device=kind, url=url,
                        username=stand_in.username, password="wrong")  # fmt: skip
        assert "wrong" not in text
        unreachable = url.replace(stand_in.address, nowhere)
        text = _refused(add, 530, command=command, device=kind, url=unreachable,
                        username=stand_in.username, password=stand_in.password)  # fmt: skip
        assert "unable to reach" in text and stand_in.password not in text
    closed.close()
    assert srx_device.logins == [("root", False)]
    assert admin.listF5LoadBalancers(physicalnetworkid=physical).get("f5loadbalancer", []) == []
    assert admin.listSrxFirewalls(physicalnetworkid=physical).get("srxfirewall", []) == []
    assert (
        admin.listNetscalerLoadBalancers(physicalnetworkid=physical).get(
            "netscalerloadbalancer", []
        )
        == []
    )
    _refused(admin.addExternalLoadBalancer, 530, zoneid=zone, url=appliance.url(INTERFACES),
             username="admin", password="wrong")  # fmt: skip
    assert admin.listExternalLoadBalancers(zoneid=zone).get("externalloadbalancer", []) == []
    sdx = add(admin.addNetscalerLoadBalancer, "NetscalerSDXLoadBalancer",
              appliance.url(INTERFACES), appliance.username, appliance.password)  # fmt: skip
    sdx = sdx["netscalerloadbalancer"]
    assert (sdx["lbdevicename"], sdx["ipaddress"]) == ("NetscalerSDXLoadBalancer", "127.0.0.1")
    assert appliance.paths()[-3:] == [
        "/nitro/v1/config/login",
        "/nitro/v1/config/ns",
        "/nitro/v1/config/logout",
    ]
    assert appliance.password not in str(sdx)
    srx = add(admin.addSrxFirewall, "JuniperSRXFirewall", srx_device.url(INTERFACES),
              srx_device.username, srx_device.password)["srxfirewall"]  # fmt: skip
    assert srx_device.logins[-1] == ("root", True) and srx["fwdevicestate"] == "Enabled"


def test_sdn_controllers_are_checked_over_their_rest_apis(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    _, physical = _fabric(admin, "NiciraNvp", "BigSwitchVns")
    nvp = DeviceStandIn(username="admin", password="nvp-secret", tls=True).start()
    vns = DeviceStandIn().start()
    try:
        params = {
            "physicalnetworkid": physical,
            "hostname": nvp.address,
            "username": "admin",
            "transportzoneuuid": "c4a5e6f0-0000-4000-8000-000000000001",
        }
        assert "login failed" in _refused(
            admin.addNiciraNvpDevice, 530, password="guess", **params, fetch_result=True
        )
        made = admin.addNiciraNvpDevice(password="nvp-secret", **params, fetch_result=True)[
            "niciranvpdevice"
        ]
        assert (made["hostname"], made["niciradevicename"], made["transportzoneuuid"]) == (
            nvp.address,
            "NiciraNvp",
            params["transportzoneuuid"],
        )
        assert "already exists" in _refused(
            admin.addNiciraNvpDevice, 431, password="nvp-secret", **params, fetch_result=True
        )
        networks = admin.listNiciraNvpDeviceNetworks(nvpdeviceid=made["nvpdeviceid"])
        assert networks.get("network", []) == []
        _refused(
            admin.addBigSwitchVnsDevice, 431, physicalnetworkid=physical, hostname="vns/admin?x",
        )  # fmt: skip
        vns.healthy = False
        _refused(
            admin.addBigSwitchVnsDevice, 530, physicalnetworkid=physical, hostname=vns.address,
            fetch_result=True,
        )  # fmt: skip
        vns.healthy = True
        switch = admin.addBigSwitchVnsDevice(
            physicalnetworkid=physical, hostname=vns.address, fetch_result=True
        )["bigswitchvnsdevice"]
        assert admin.listBigSwitchVnsDevices()["bigswitchvnsdevice"] == [switch]
        admin.deleteNiciraNvpDevice(nvpdeviceid=made["nvpdeviceid"], fetch_result=True)
        again = admin.addNiciraNvpDevice(password="nvp-secret", **params, fetch_result=True)
        assert again["niciranvpdevice"]["nvpdeviceid"] != made["nvpdeviceid"]
        admin.deleteBigSwitchVnsDevice(vnsdeviceid=switch["vnsdeviceid"], fetch_result=True)
    finally:
        nvp.stop()
        vns.stop()


def test_cisco_vnmc_and_asa_1000v_are_registered_on_their_physical_network(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.client()
    zone, physical = _fabric(admin)
    vnmc_device = DeviceStandIn(username="admin", password="vnmc-secret", tls=True).start()
    try:
        vnmc = {"physicalnetworkid": physical, "hostname": vnmc_device.address, "username": "admin"}
        assert "CiscoVnmc is not enabled" in _refused(
            admin.addCiscoVnmcResource, 530, password="vnmc-secret", **vnmc
        )
        admin.addNetworkServiceProvider(
            physicalnetworkid=physical, name="CiscoVnmc", fetch_result=True
        )
        text = _refused(admin.addCiscoVnmcResource, 530, password="guess", **vnmc)
        assert "Authentication failed" in text
        made = admin.addCiscoVnmcResource(password="vnmc-secret", **vnmc)["CiscoVnmcResource"]
        assert vnmc_device.paths() == ["/xmlIM/mgmt-controller"] * 2
    finally:
        vnmc_device.stop()
    assert (made["resourcename"], made["provider"]) == ("CiscoVnmc", "CiscoVnmc")
    pod = admin.createPod(
        name="p1", zoneid=zone, gateway="10.8.0.1", netmask="255.255.255.0",
        startip="10.8.0.10", endip="10.8.0.20",
    )["pod"]["id"]  # fmt: skip
    cluster = admin.addCluster(
        clustername="c1", podid=pod, zoneid=zone, hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]["id"]  # fmt: skip
    asa = {
        "physicalnetworkid": physical,
        "hostname": "192.0.2.31",
        "insideportprofile": "asa-in",
    }
    _refused(admin.addCiscoAsa1000vResource, 431, clusterid=NOWHERE, **asa)
    added = admin.addCiscoAsa1000vResource(clusterid=cluster, **asa)["CiscoAsa1000vResource"]
    assert (added["hostname"], added["insideportprofile"]) == ("192.0.2.31", "asa-in")
    _refused(admin.addCiscoAsa1000vResource, 431, clusterid=cluster, **asa)
    found = admin.listCiscoAsa1000vResources(hostname="192.0.2.31")["CiscoAsa1000vResource"]
    assert [a["resourceid"] for a in found] == [added["resourceid"]]
    assert admin.deleteCiscoAsa1000vResource(resourceid=added["resourceid"])["success"] is True
    admin.deleteCiscoVnmcResource(resourceid=made["resourceid"])
    assert (
        admin.listCiscoVnmcResources(physicalnetworkid=physical).get("CiscoVnmcResource", []) == []
    )


def test_traffic_monitors_and_the_generic_network_device_commands(
    sandbox: Sandbox, device: DeviceStandIn
) -> None:
    admin = sandbox.client()
    zone, physical = _fabric(admin, "Netscaler")
    monitor = admin.addTrafficMonitor(zoneid=zone, url="http://192.0.2.40:8080?numretries=3")[
        "trafficmonitor"
    ]
    assert (monitor["ipaddress"], monitor["numretries"], monitor["zoneid"]) == (
        "192.0.2.40",
        "3",
        zone,
    )
    _refused(admin.addTrafficMonitor, 431, zoneid=zone, url="http://192.0.2.41")
    assert admin.listTrafficMonitors(zoneid=zone)["trafficmonitor"] == [monitor]
    admin.deleteTrafficMonitor(id=monitor["id"])
    assert admin.listTrafficMonitors(zoneid=zone).get("trafficmonitor", []) == []
    entry = {
        "networkdeviceparameterlist[0].physicalnetworkid": physical,
        "networkdeviceparameterlist[0].url": device.url(INTERFACES),
        "networkdeviceparameterlist[0].username": device.username,
        "networkdeviceparameterlist[0].password": "wrong",
    }
    _refused(admin.addNetworkDevice, 530, networkdevicetype="NetscalerMPXLoadBalancer", **entry)
    entry["networkdeviceparameterlist[0].password"] = device.password
    added = admin.addNetworkDevice(networkdevicetype="NetscalerMPXLoadBalancer", **entry)
    device_id = added["networkdevice"]["id"]
    assert "Unsupported network device type" in _refused(
        admin.addNetworkDevice, 530, networkdevicetype="ExternalDhcp", **entry
    )
    listed = admin.listNetworkDevice(networkdevicetype="NetscalerMPXLoadBalancer")
    assert [d["id"] for d in listed["networkdevice"]] == [device_id]
    netscalers = admin.listNetscalerLoadBalancers(physicalnetworkid=physical)
    assert [d["lbdeviceid"] for d in netscalers["netscalerloadbalancer"]] == [device_id]
    assert admin.deleteNetworkDevice(id=device_id)["success"] is True
    mine = {"networkdeviceparameterlist[0].physicalnetworkid": physical}
    assert admin.listNetworkDevice(**mine).get("networkdevice", []) == []


def test_nexus_vsms_are_listed_by_cluster_and_unknown_ones_refused(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    assert admin.listCiscoNexusVSMs(zoneid=NOWHERE).get("cisconexusvsm", []) == []
    for command in (admin.enableCiscoNexusVSM, admin.disableCiscoNexusVSM):
        assert "Could not find" in _refused(command, 431, id=NOWHERE)
    _refused(admin.deleteCiscoNexusVSM, 431, id=NOWHERE)


def test_device_answers_carry_4_3_response_fields(sandbox: Sandbox, device: DeviceStandIn) -> None:
    admin = sandbox.client()
    _, physical = _fabric(admin, "Netscaler", "PaloAlto", "NiciraNvp", "BigSwitchVns")
    _netscaler(admin, physical, device)
    admin.addPaloAltoFirewall(
        physicalnetworkid=physical, url=device.url(f"{PALO_OPTIONS}&usageinterface=e3"),
        username=device.username, password=device.password, networkdevicetype="PaloAltoFirewall",
        fetch_result=True,
    )  # fmt: skip
    admin.addBigSwitchVnsDevice(
        physicalnetworkid=physical, hostname=device.address, fetch_result=True
    )
    answers = {
        "listNetscalerLoadBalancers": admin.listNetscalerLoadBalancers(physicalnetworkid=physical)[
            "netscalerloadbalancer"
        ],
        "listPaloAltoFirewalls": admin.listPaloAltoFirewalls(physicalnetworkid=physical)[
            "paloaltofirewall"
        ],
        "listBigSwitchVnsDevices": admin.listBigSwitchVnsDevices(physicalnetworkid=physical)[
            "bigswitchvnsdevice"
        ],
    }
    for command, items in answers.items():
        expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
        assert expected <= set().union(*(set(i) for i in items)), command
