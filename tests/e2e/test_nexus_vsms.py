"""A VMware cluster added with its Cisco Nexus 1000v VSM: the VSM is logged into over NETCONF
on SSH (a stand-in VSM answers here) before the cluster is made, registered with the cluster,
listed with the switch domain it told, enabled, disabled and deleted; a VSM that refuses or
cannot be reached leaves no cluster and no VSM behind, and its password is never answered."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.sandbox import Sandbox
from tests.support.ssh_stand_in import SshStandIn

USE_NEXUS = "vmware.use.nexus.vswitch"


@pytest.fixture
def vsm() -> Iterator[SshStandIn]:
    stand_in = SshStandIn(username="vsmadmin", password="vsm-secret").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def nexus_on(sandbox: Sandbox) -> Iterator[CloudStack]:
    admin = sandbox.client()
    admin.updateConfiguration(name=USE_NEXUS, value="true")
    yield admin
    admin.updateConfiguration(name=USE_NEXUS, value="false")


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _pod(admin: CloudStack) -> tuple[str, str]:
    zone = admin.createZone(
        name=f"z-{uuid.uuid4().hex[:8]}", networktype="Advanced", dns1="8.8.8.8",
        internaldns1="10.0.0.1",
    )["zone"]["id"]  # fmt: skip
    pod = admin.createPod(
        name="p1", zoneid=zone, gateway="10.9.0.1", netmask="255.255.255.0",
        startip="10.9.0.10", endip="10.9.0.20",
    )["pod"]["id"]  # fmt: skip
    return zone, pod


def _cluster(admin: CloudStack, zone: str, pod: str, name: str, **vsm: str) -> Any:
    return admin.addCluster(
        zoneid=zone, podid=pod, clustername=name, hypervisor="VMware",
        clustertype="ExternalManaged", **vsm,
    )  # fmt: skip


def test_a_vmware_cluster_registers_its_nexus_vsm_once_it_accepts_the_login(
    nexus_on: CloudStack, vsm: SshStandIn
) -> None:
    admin = nexus_on
    zone, pod = _pod(admin)
    login = {"vsmipaddress": vsm.address, "vsmusername": vsm.username}
    cluster = _cluster(admin, zone, pod, "vcluster", **login, vsmpassword=vsm.password)
    cluster = cluster["cluster"][0]
    assert vsm.logins == [("vsmadmin", True)]
    assert len(vsm.netconf) == 1 and "<svs><domain/></svs>" in vsm.netconf[0]
    listed = admin.listCiscoNexusVSMs(clusterid=cluster["id"])["cisconexusvsm"]
    assert listed == [
        {
            "vsmdeviceid": listed[0]["vsmdeviceid"],
            "vsmdevicename": "CiscoNexusVSM",
            "ipaddress": vsm.address,
            "vsmdevicestate": "Enabled",
            "vsmdomainid": "100",
            "vsmctrlvlanid": "110",
            "vsmpktvlanid": "111",
            "vsmmgmtvlanid": "112",
            "vsmstoragevlanid": "113",
            "vsmconfigmode": "L2",
        }
    ]
    assert admin.listCiscoNexusVSMs(zoneid=zone)["cisconexusvsm"] == listed
    vsm_id = listed[0]["vsmdeviceid"]
    disabled = admin.disableCiscoNexusVSM(id=vsm_id, fetch_result=True)["cisconexusvsm"]
    assert disabled["vsmdevicestate"] == "Disabled"
    enabled = admin.enableCiscoNexusVSM(id=vsm_id, fetch_result=True)["cisconexusvsm"]
    assert enabled["vsmdevicestate"] == "Enabled"
    # One VSM serves one cluster.
    text = _refused(
        _cluster, 431, admin=admin, zone=zone, pod=pod, name="second", **login,
        vsmpassword=vsm.password,
    )  # fmt: skip
    assert "already associated" in text
    assert [c["name"] for c in admin.listClusters(zoneid=zone)["cluster"]] == ["vcluster"]
    assert admin.deleteCiscoNexusVSM(id=vsm_id, fetch_result=True) == {"success": True}
    assert admin.listCiscoNexusVSMs(clusterid=cluster["id"]).get("cisconexusvsm", []) == []
    # Deleted, the address may serve another cluster.
    again = _cluster(admin, zone, pod, "third", **login, vsmpassword=vsm.password)["cluster"][0]
    assert [d["ipaddress"] for d in admin.listCiscoNexusVSMs(clusterid=again["id"])[
        "cisconexusvsm"
    ]] == [vsm.address]  # fmt: skip
    for answer in (cluster, listed, disabled, enabled, again):
        assert vsm.password not in str(answer)


def test_a_vsm_that_refuses_or_is_unreachable_leaves_nothing_behind(
    nexus_on: CloudStack, vsm: SshStandIn
) -> None:
    admin = nexus_on
    zone, pod = _pod(admin)
    login = {"vsmipaddress": vsm.address, "vsmusername": vsm.username}
    text = _refused(
        _cluster, 530, admin=admin, zone=zone, pod=pod, name="c", **login, vsmpassword="wrong"
    )
    assert "Nexus 1000v VSM" in text and "wrong" not in text
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nothing listens on
    nowhere = {**login, "vsmipaddress": f"127.0.0.1:{closed.getsockname()[1]}"}
    text = _refused(
        _cluster, 530, admin=admin, zone=zone, pod=pod, name="c", **nowhere,
        vsmpassword=vsm.password,
    )  # fmt: skip
    closed.close()
    assert "Failed to connect" in text and vsm.password not in text
    assert "vsmpassword" in _refused(
        _cluster, 431, admin=admin, zone=zone, pod=pod, name="c", **login
    )
    text = _refused(
        admin.addCluster, 431, zoneid=zone, podid=pod, clustername="c", hypervisor="Simulator",
        clustertype="CloudManaged", **login, vsmpassword=vsm.password,
    )  # fmt: skip
    assert "VMware clusters only" in text
    assert admin.listClusters(zoneid=zone).get("cluster", []) == []
    assert admin.listCiscoNexusVSMs(zoneid=zone).get("cisconexusvsm", []) == []


def test_a_vsm_is_refused_while_the_nexus_switch_is_not_in_use(
    sandbox: Sandbox, vsm: SshStandIn
) -> None:
    admin = sandbox.client()
    zone, pod = _pod(admin)
    text = _refused(
        _cluster, 431, admin=admin, zone=zone, pod=pod, name="c", vsmipaddress=vsm.address,
        vsmusername=vsm.username, vsmpassword=vsm.password,
    )  # fmt: skip
    assert USE_NEXUS in text and vsm.logins == []
    assert admin.listClusters(zoneid=zone).get("cluster", []) == []
