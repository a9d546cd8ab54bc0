"""Zones to hosts through the API on the embedded default (in-process bus and adapters)."""

from __future__ import annotations

import time

import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.peers.model import HostShape
from tests.peers.xapi import XapiPeer

SIM = "simulator://{name}?sockets={sockets}&cores={cores}&mhz=2400&memory_gb={memory}"
NATS_ADAPTERS = (
    "simulator",
    "xenserver",
)  # beside the server on the NATS leg: a XenServer host too


def _place(admin, hypervisor: str = "Simulator") -> tuple[str, str, str]:
    zone = admin.createZone(
        name="z1", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    pod = admin.createPod(
        name="p1",
        zoneid=zone["id"],
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
        endip="10.1.0.200",
    )["pod"]
    cluster = admin.addCluster(
        clustername=f"c-{hypervisor}",
        podid=pod["id"],
        zoneid=zone["id"],
        hypervisor=hypervisor,
        clustertype="CloudManaged",
    )["cluster"][0]
    return zone["id"], pod["id"], cluster["id"]


def _sim_host(admin, place, name: str, sockets: int = 2, cores: int = 16, memory: int = 64):
    zone, pod, cluster = place
    return admin.addHost(
        zoneid=zone,
        podid=pod,
        clusterid=cluster,
        hypervisor="Simulator",
        url=SIM.format(name=name, sockets=sockets, cores=cores, memory=memory),
        username="root",
        password="sim-password",
    )["host"][0]


def test_hosts_come_up_with_their_inventory_and_add_up(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    first = _sim_host(admin, place, "h1", sockets=2, cores=16, memory=64)
    second = _sim_host(admin, place, "h2", sockets=4, cores=32, memory=128)
    assert first["state"] == "Up" and first["cpusockets"] == 2
    assert second["cpunumber"] == 32 and second["memorytotal"] == 128 * 1024**3
    hosts = admin.listHosts(hypervisor="simulator")["host"]
    assert {h["name"] for h in hosts} == {"h1", "h2"}
    assert admin.listHosts(hypervisor="KVM") == {}
    summary = admin.listInfrastructure()["infrastructure"]
    assert (summary["zones"], summary["pods"], summary["clusters"], summary["hosts"]) == (
        1,
        1,
        1,
        2,
    )
    assert summary["sockets"] == [{"hypervisor": "Simulator", "hosts": 2, "cpusockets": 6}]
    memory = [c for c in admin.listCapacity()["capacity"] if c["type"] == 0]
    assert memory[0]["capacitytotal"] == 192 * 1024**3
    assert "sim-password" not in sandbox.output()


def test_bad_credentials_leave_the_host_in_alert_with_an_alert_and_a_failed_job(sandbox) -> None:
    admin = sandbox.client()
    zone, pod, cluster = _place(admin, "XenServer")
    peer = XapiPeer(HostShape(name="xen-1", sockets=2), "root", "right-password")
    with peer.serving() as url:
        with pytest.raises(CloudStackApiException) as refused:
            admin.addHost(
                zoneid=zone,
                podid=pod,
                clusterid=cluster,
                hypervisor="XenServer",
                url=url,
                username="root",
                password="wrong-password",
            )
        error = refused.value.error
        assert "bad credentials" in error["errortext"]
        assert "wrong-password" not in str(error)
        (host,) = admin.listHosts(zoneid=zone)["host"]
        assert host["state"] == "Alert"
        alerts = [
            a for a in admin.listAlerts(type="7")["alert"] if host["name"] in a["description"]
        ]
        assert (
            alerts[0]["name"] == "ALERT.COMPUTE.HOST" and host["name"] in alerts[0]["description"]
        )
        jobs = admin.listAsyncJobs()["asyncjobs"]
        assert [j["jobstatus"] for j in jobs if j["cmd"].endswith("AddHostCmd")] == [2]

        good = admin.addHost(
            zoneid=zone,
            podid=pod,
            clusterid=cluster,
            hypervisor="XenServer",
            url=url + "?host=xen-1",
            username="root",
            password="right-password",
        )["host"][0]
        assert good["state"] == "Up" and good["cpusockets"] == 2
    assert "wrong-password" not in sandbox.output()


def test_a_parent_with_children_cannot_be_deleted(sandbox) -> None:
    admin = sandbox.client()
    zone, pod, cluster = _place(admin)
    host = _sim_host(admin, (zone, pod, cluster), "h1")
    for command, target in (("deleteZone", zone), ("deletePod", pod), ("deleteCluster", cluster)):
        with pytest.raises(CloudStackApiException) as refused:
            getattr(admin, command)(id=target)
        assert refused.value.error["errorcode"] == 536
    with pytest.raises(CloudStackApiException) as refused:
        admin.deleteHost(id=host["id"])
    assert "maintenance" in refused.value.error["errortext"]
    _wait_job(admin, admin.prepareHostForMaintenance(id=host["id"])["jobid"])
    assert admin.listHosts(id=host["id"])["host"][0]["resourcestate"] == "Maintenance"
    assert admin.deleteHost(id=host["id"]) == {"success": True}
    for command, target in (("deleteCluster", cluster), ("deletePod", pod), ("deleteZone", zone)):
        assert getattr(admin, command)(id=target) == {"success": True}
    assert admin.listZones(id=zone) == {}


def test_maintenance_and_reconnect_are_async_jobs(sandbox) -> None:
    admin = sandbox.client()
    host = _sim_host(admin, _place(admin), "h1")
    result = _wait_job(admin, admin.prepareHostForMaintenance(id=host["id"])["jobid"])
    assert result["jobresult"]["host"]["resourcestate"] == "Maintenance"
    result = _wait_job(admin, admin.cancelHostMaintenance(id=host["id"])["jobid"])
    assert result["jobresult"]["host"]["resourcestate"] == "Enabled"
    result = _wait_job(admin, admin.reconnectHost(id=host["id"])["jobid"])
    assert result["jobstatus"] == 1 and result["jobresult"]["host"]["state"] == "Up"
    updated = admin.updateHost(id=host["id"], allocationstate="Disable", hosttags="ssd,fast")
    assert updated["host"]["resourcestate"] == "Disabled"
    assert updated["host"]["hosttags"] == "ssd,fast"


def test_bare_metal_hosts_are_records_without_a_hypervisor(sandbox) -> None:
    admin = sandbox.client()
    zone, pod, cluster = _place(admin, "BareMetal")
    host = admin.addHost(
        zoneid=zone,
        podid=pod,
        clusterid=cluster,
        hypervisor="BareMetal",
        url="ipmi://10.2.0.5",
        username="ipmi",
        password="ipmi-pw",
    )["host"][0]
    assert host["state"] == "Up" and host["hypervisor"] == "BareMetal"
    with pytest.raises(CloudStackApiException):
        admin.reconnectHost(id=host["id"])


def test_a_host_of_the_wrong_hypervisor_is_refused(sandbox) -> None:
    admin = sandbox.client()
    zone, pod, cluster = _place(admin, "KVM")
    with pytest.raises(CloudStackApiException) as refused:
        admin.addHost(
            zoneid=zone,
            podid=pod,
            clusterid=cluster,
            hypervisor="XenServer",
            url="http://x",
            username="u",
            password="p",
        )
    assert refused.value.error["errorcode"] == 431
    assert admin.listHosts(zoneid=zone) == {}


def test_infrastructure_is_for_root_admins_only(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _sim_host(admin, place, "h1")
    tenant = make_tenant(sandbox, admin)
    for command, params in (
        ("listHosts", {}),
        (
            "createZone",
            {"name": "x", "networktype": "Basic", "dns1": "1.1.1.1", "internaldns1": "1.1.1.1"},
        ),
        ("listInfrastructure", {}),
        ("listAlerts", {}),
        ("deleteZone", {"id": place[0]}),
        ("listCapacity", {}),
    ):
        with pytest.raises(CloudStackApiException) as refused:
            getattr(tenant.client, command)(**params)
        assert refused.value.error["errorcode"] == 432
    assert admin.listZones(id=place[0])["count"] == 1
    assert tenant.client.listZones(id=place[0])["count"] == 1


def _wait_job(client, job_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = client.queryAsyncJobResult(jobid=job_id)
        if result["jobstatus"] != 0:
            return result
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_zones_pods_and_clusters_show_their_capacities_when_asked(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    zone, pod, cluster = place
    _sim_host(admin, place, "h1", sockets=2, cores=16, memory=64)
    _sim_host(admin, place, "h2", sockets=1, cores=8, memory=32)
    assert "capacity" not in admin.listZones(id=zone)["zone"][0]
    in_zone = {c["type"]: c for c in admin.listCapacity(zoneid=zone)["capacity"]}
    in_pod = {c["type"]: c for c in admin.listCapacity(podid=pod)["capacity"]}
    in_cluster = {c["type"]: c for c in admin.listCapacity(clusterid=cluster)["capacity"]}
    assert in_zone[0]["capacitytotal"] == 96 * 1024**3
    assert in_zone[1]["capacitytotal"] == 24 * 2400
    for listed, expected in (
        (admin.listZones(id=zone, showcapacities=True)["zone"][0], in_zone),
        (admin.listPods(id=pod, showcapacities=True)["pod"][0], in_pod),
        (admin.listClusters(id=cluster, showcapacities=True)["cluster"][0], in_cluster),
    ):
        shown = {c["type"]: c for c in listed["capacity"]}
        assert set(shown) == set(expected)
        for kind, item in shown.items():
            assert "zoneid" not in item and "podid" not in item
            assert (item["capacitytotal"], item["capacityused"], item["percentused"]) == (
                expected[kind]["capacitytotal"],
                expected[kind]["capacityused"],
                expected[kind]["percentused"],
            )
    other = _place(admin)
    (empty,) = admin.listClusters(id=other[2], showcapacities=True)["cluster"]
    assert empty["capacity"] == []
