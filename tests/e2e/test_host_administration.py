"""Bare metal and host administration through the `cs` client: a bare-metal host carries the
inventory its operator gives; DHCP and PXE servers are registered where their provider is, one
per zone (PING: per pod), their logins never answered; a host's login is replaced; a host held
by the implicit dedication planner is given back to the other planners; a simulator host
answers an action as configureSimulator told it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_infrastructure import _place
from tests.e2e.test_placement import _host_of, _offering, _zone
from tests.e2e.test_routers import wait_for
from tests.e2e.test_vms import _deploy

SECRET = "ipmi-Secret-9d1"


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _bare_metal(admin: CloudStack, place: tuple[str, str, str]) -> dict:
    given = {"url": "http://10.2.0.7", "cpunumber": 8, "cpuspeed": 2400, "memory": 16384}
    return admin.addBaremetalHost(**_args(place, **given))["host"][0]


def test_a_bare_metal_host_shows_the_inventory_its_operator_gave(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin, "BareMetal")
    host = _bare_metal(admin, place)
    listed = admin.listHosts(id=host["id"])["host"][0]
    assert (listed["state"], listed["hypervisor"]) == ("Up", "BareMetal")
    assert (listed["cpunumber"], listed["cpuspeed"]) == (8, 2400)
    assert listed["memorytotal"] == 16384 * 1024 * 1024
    assert SECRET not in str(listed) and SECRET not in str(host)
    assert "http://" in _refused(admin.addBaremetalHost, 431, **_args(place, url="ipmi://x"))
    assert "MAC" in _refused(admin.addBaremetalHost, 431, **_args(place, hostmac="nope"))
    _refused(admin.addBaremetalHost, 431, **_args(place, hypervisor="KVM"))
    assert len(admin.listHosts(hypervisor="BareMetal", zoneid=place[0])["host"]) == 1


def _args(place: tuple[str, str, str], **given: Any) -> dict:
    zone, pod, cluster = place
    return {
        "zoneid": zone,
        "podid": pod,
        "clusterid": cluster,
        "hypervisor": "BareMetal",
        "url": "http://10.2.0.8",
        "username": "ipmi",
        "password": SECRET,
        "cpunumber": 1,
        "cpuspeed": 1000,
        "memory": 1024,
        "hostmac": "52:54:00:aa:bb:02",
        **given,
    }


def _physical_network(admin: CloudStack, zone: str) -> str:
    return admin.createPhysicalNetwork(
        zoneid=zone, name=f"pn-{uuid.uuid4().hex[:6]}", vlan="500-510", fetch_result=True
    )["physicalnetwork"]["id"]


def test_dhcp_and_pxe_servers_are_registered_where_their_provider_is(sandbox) -> None:
    admin = sandbox.client()
    zone, pod, _ = _place(admin, "BareMetal")
    physical = _physical_network(admin, zone)
    dhcp = {
        "physicalnetworkid": physical,
        "url": "http://10.3.0.2",
        "username": "root",
        "password": SECRET,
        "dhcpservertype": "DNSMASQ",
    }
    with pytest.raises(CloudStackApiException) as missing:
        admin.addBaremetalDhcp(**dhcp, fetch_result=True)
    assert "BaremetalDhcpProvider" in str(missing.value)
    assert admin.listBaremetalDhcp() == {}

    for name in ("BaremetalDhcpProvider", "BaremetalPxeProvider"):
        admin.addNetworkServiceProvider(name=name, physicalnetworkid=physical, fetch_result=True)
    made = admin.addBaremetalDhcp(**dhcp, fetch_result=True)["baremetaldhcp"]
    assert (made["url"], made["dhcpservertype"], made["physicalnetworkid"]) == (
        "10.3.0.2",
        "DNSMASQ",
        physical,
    )
    assert admin.listBaremetalDhcp(dhcpservertype="dnsmasq")["baremetaldhcp"] == [made]
    assert admin.listBaremetalDhcp(dhcpservertype="DHCPD") == {}
    with pytest.raises(CloudStackApiException, match="already exists"):
        admin.addBaremetalDhcp(**{**dhcp, "url": "10.3.0.3"}, fetch_result=True)

    pxe = {
        "physicalnetworkid": physical,
        "url": "http://10.3.0.4",
        "username": "root",
        "password": SECRET,
        "tftpdir": "/tftpboot",
    }
    kick = admin.addBaremetalPxeKickStartServer(
        **pxe, pxeservertype="KICK_START", fetch_result=True
    )["baremetalpxeserver"]
    assert (kick["url"], kick["tftpdir"]) == ("10.3.0.4", "/tftpboot")
    _refused(admin.addBaremetalPxeKickStartServer, 431, **pxe, pxeservertype="PING")
    ping = admin.addBaremetalPxePingServer(
        **pxe,
        podid=pod,
        pxeservertype="PING",
        pingdir="/ping",
        pingstorageserverip="10.3.0.9",
        pingcifspassword=SECRET,
        fetch_result=True,
    )["baremetalpxeserver"]
    assert (ping["pingdir"], ping["pingstorageserverip"]) == ("/ping", "10.3.0.9")
    listed = admin.listBaremetalPxeServers()["baremetalpxeserver"]
    assert {s["id"] for s in listed} >= {kick["id"], ping["id"]}
    assert SECRET not in str(listed) + str(admin.listBaremetalDhcp())


def test_a_hosts_login_is_replaced_for_a_host_or_its_cluster(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin, "Simulator")
    zone, pod, cluster = place
    host = admin.addHost(
        zoneid=zone,
        podid=pod,
        clusterid=cluster,
        hypervisor="Simulator",
        url=f"simulator://pw-{uuid.uuid4().hex[:6]}",
        username="root",
        password="old-password",
    )["host"][0]
    changed = admin.updateHostPassword(hostid=host["id"], username="admin", password=SECRET)
    assert str(changed["success"]).lower() == "true"
    admin.updateHostPassword(clusterid=cluster, username="admin", password=SECRET)
    reconnected = admin.reconnectHost(id=host["id"], fetch_result=True)["host"]
    assert reconnected["state"] == "Up"
    _refused(admin.updateHostPassword, 431, username="admin", password=SECRET)
    assert SECRET not in str(admin.listHosts(id=host["id"]))


def test_a_released_host_takes_other_planners_vms_again(sandbox) -> None:
    admin = sandbox.client()
    place, host = _zone(admin, {"roomy": 8, "small": 4})
    dave, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    implicit = _offering(admin, "ImplicitDedicationPlanner")
    assert _host_of(admin, _deploy(dave.client, place, implicit)) == host["roomy"]
    assert _host_of(admin, _deploy(bob.client, place, place.small)) == host["small"]
    _refused(admin.releaseHostReservation, 431, id=host["small"])

    released = admin.releaseHostReservation(id=host["roomy"], fetch_result=True)
    assert str(released["success"]).lower() == "true"
    assert _host_of(admin, _deploy(bob.client, place, place.small)) == host["roomy"]
    _refused(admin.releaseHostReservation, 431, id=host["roomy"])
    with pytest.raises(CloudStackApiException) as denied:
        bob.client.releaseHostReservation(id=host["roomy"])
    assert denied.value.error["errorcode"] in (401, 432, 531)


def test_a_simulator_host_answers_as_it_was_configured(sandbox) -> None:
    admin = sandbox.client()
    place, host = _zone(admin, {"sim": 8})
    vm = _deploy(admin, place, place.small)
    refusal = _refused(
        admin.configureSimulator, 431, hostid=host["sim"], name="Boot", value="wait:0"
    )
    assert "StopCommand" in refusal
    _refused(admin.configureSimulator, 431, hostid=host["sim"], name="stop_vm", value="wait:x")

    admin.configureSimulator(hostid=host["sim"], name="StopCommand", value="enabled:false")
    with pytest.raises(CloudStackApiException):
        admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    assert admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Running"

    admin.configureSimulator(clusterid=place.cluster, name="stop_vm", value="enabled:true")
    stopped = admin.stopVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert stopped["state"] == "Stopped"
    tenant = make_tenant(sandbox, admin)
    with pytest.raises(CloudStackApiException) as denied:
        tenant.client.configureSimulator(hostid=host["sim"], name="stop_vm", value="wait:0")
    assert denied.value.error["errorcode"] in (401, 432, 531)


def test_a_service_instance_runs_between_two_of_its_owners_networks(sandbox) -> None:
    admin = sandbox.client()
    place, _ = _zone(admin, {"si": 8})
    physical = _physical_network(admin, place.zone)
    admin.updatePhysicalNetwork(id=physical, state="Enabled", fetch_result=True)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    offering = admin.listNetworkOfferings(name="DefaultIsolatedNetworkOffering")
    offering_id = offering["networkoffering"][0]["id"]

    def network(tenant: Any, name: str) -> str:
        return tenant.client.createNetwork(
            name=name, displaytext=name, zoneid=place.zone, networkofferingid=offering_id
        )["network"]["id"]

    left, right, bobs = network(alice, "inside"), network(alice, "outside"), network(bob, "b")
    given = {
        "zoneid": place.zone,
        "name": "firewall",
        "leftnetworkid": left,
        "rightnetworkid": right,
        "templateid": place.template,
        "serviceofferingid": place.small["id"],
        "account": alice.username,
        "domainid": alice.domain_id,
    }
    made = admin.createServiceInstance(**given, fetch_result=True)["serviceinstance"]
    assert (made["name"], made["account"], made["domainid"]) == (
        "firewall",
        alice.username,
        alice.domain_id,
    )
    _refused(admin.createServiceInstance, 431, **{**given, "rightnetworkid": left})
    _refused(admin.createServiceInstance, 431, **{**given, "rightnetworkid": bobs})
    with pytest.raises(CloudStackApiException) as denied:
        alice.client.createServiceInstance(**given)
    assert denied.value.error["errorcode"] in (401, 432, 531)


def _state(admin: CloudStack, vm_id: str) -> str:
    return admin.listVirtualMachines(id=vm_id, listall="true")["virtualmachine"][0]["state"]


def test_a_host_removed_by_force_takes_the_vms_on_its_own_storage(sandbox) -> None:
    admin = sandbox.client()
    place, host = _zone(admin, {"local": 8})
    running = _deploy(admin, place, place.small)
    stopped = _deploy(admin, place, place.small)
    admin.stopVirtualMachine(id=stopped["id"], fetch_result=True)
    _refused(admin.deleteHost, 536, id=host["local"])  # not forced: its VMs keep it

    assert admin.deleteHost(id=host["local"], forced=True) == {"success": True}
    assert wait_for(lambda: _state(admin, running["id"]) == "Destroyed")
    assert _state(admin, stopped["id"]) == "Destroyed"
    assert admin.listHosts(zoneid=place.zone) == {}
    destroys = admin.listEvents(type="VM.DESTROY", listall="true")["event"]
    assert any("local storage" in e["description"] for e in destroys)


def test_a_host_removed_by_force_keeping_local_storage_leaves_its_vms_alone(sandbox) -> None:
    admin = sandbox.client()
    place, host = _zone(admin, {"kept": 8})
    vm = _deploy(admin, place, place.small)
    removed = admin.deleteHost(id=host["kept"], forced=True, forcedestroylocalstorage=False)
    assert removed == {"success": True}
    assert _state(admin, vm["id"]) == "Running"
