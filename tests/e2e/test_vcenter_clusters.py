"""A VMware cluster added by its vCenter url through the `cs` client, against govmomi's vSphere
simulator: every host of the vCenter cluster comes up in it with the vCenter's login, which is
never answered; in a zone associated with a datacenter, the cluster is that datacenter's and
the login defaults to the association's; a cluster the vCenter does not have, or a refused
login, leaves no cluster; the virtual switches of its traffic are checked."""

from __future__ import annotations

import uuid
from typing import Any

from cs import CloudStack

from tests.e2e import test_vmware_datacenters as datacenters
from tests.e2e.test_vmware_datacenters import PASSWORD, SHAPE, _refused, _zone

NATS_ADAPTERS = datacenters.NATS_ADAPTERS  # the NATS leg runs a VMware adapter beside the server
vcenter = datacenters.vcenter  # a vCenter of the test's own


def _pod(admin: CloudStack, zone: str) -> str:
    return admin.createPod(
        name=f"vp-{uuid.uuid4().hex[:6]}",
        zoneid=zone,
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
        endip="10.1.0.200",
    )["pod"]["id"]


def _cluster_url(sdk_url: str, path: str) -> str:
    return sdk_url.removesuffix("/sdk") + "/" + path


def _adding(zone: str, pod: str, **given: Any) -> dict[str, Any]:
    return {
        "clustername": f"vc-{uuid.uuid4().hex[:6]}",
        "zoneid": zone,
        "podid": pod,
        "hypervisor": "VMware",
        "clustertype": "ExternalManaged",
        **given,
    }


LOGIN = {"username": "administrator", "password": PASSWORD}


def test_a_vcenter_cluster_comes_with_every_host_it_has(sandbox, vcenter) -> None:
    admin = sandbox.client(timeout=180)
    zone = _zone(admin)
    pod = _pod(admin, zone)
    url = _cluster_url(vcenter.url, "DC0/DC0_C0")

    cluster = admin.addCluster(**_adding(zone, pod, url=url, **LOGIN))["cluster"][0]
    assert (cluster["hypervisortype"], cluster["podid"]) == ("VMware", pod)
    hosts = admin.listHosts(clusterid=cluster["id"])["host"]
    assert sorted(h["name"] for h in hosts) == ["DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2"]
    assert {h["state"] for h in hosts} == {"Up"}
    assert {(h["cpusockets"], h["cpuspeed"]) for h in hosts} == {(SHAPE.sockets, SHAPE.mhz)}
    assert PASSWORD not in str(admin.listHosts(clusterid=cluster["id"]))
    assert PASSWORD not in str(admin.listClusters(id=cluster["id"]))
    assert PASSWORD not in str(admin.listAsyncJobs())


def test_a_zone_with_a_datacenter_takes_its_clusters_with_its_login(sandbox, vcenter) -> None:
    admin = sandbox.client(timeout=180)
    zone = _zone(admin)
    admin.addVmwareDc(zoneid=zone, name="DC0", vcenter=vcenter.url, **LOGIN)
    pod = _pod(admin, zone)
    elsewhere = _adding(zone, pod, url=_cluster_url(vcenter.url, "DC9/DC0_C0"))
    assert "VMware DC DC0" in _refused(admin.addCluster, 431, **elsewhere)
    assert admin.listClusters(podid=pod) == {}

    given = _adding(zone, pod, url=_cluster_url(vcenter.url, "DC0/DC0_C0"))  # no login given
    cluster = admin.addCluster(**given)["cluster"][0]
    hosts = admin.listHosts(clusterid=cluster["id"])["host"]
    assert len(hosts) == 3 and {h["state"] for h in hosts} == {"Up"}


def test_a_cluster_the_vcenter_cannot_give_is_not_added(sandbox, vcenter) -> None:
    admin = sandbox.client(timeout=180)
    zone = _zone(admin)
    pod = _pod(admin, zone)
    missing = _adding(zone, pod, url=_cluster_url(vcenter.url, "DC0/DC0_C9"), **LOGIN)
    assert "Unable to find cluster DC0_C9" in _refused(admin.addCluster, 534, **missing)
    url = _cluster_url(vcenter.url, "DC0/DC0_C0")
    wrong = _adding(zone, pod, url=url, username="administrator", password="wrong")
    assert "refused the login" in _refused(admin.addCluster, 534, **wrong)
    assert admin.listClusters(podid=pod) == {}
    assert admin.listHosts(podid=pod) == {}
    # Asked of another hypervisor, without a login, or with a url that names no cluster.
    plain = _adding(zone, pod, url=url, **LOGIN)
    _refused(admin.addCluster, 431, **{**plain, "hypervisor": "KVM"})
    _refused(admin.addCluster, 431, **{k: v for k, v in plain.items() if k != "password"})
    _refused(admin.addCluster, 431, **{**plain, "url": vcenter.url})
    assert admin.listClusters(podid=pod) == {}


def test_virtual_switches_are_taken_for_vmware_clusters_of_known_types(sandbox) -> None:
    admin = sandbox.client()
    zone = _zone(admin)
    pod = _pod(admin, zone)
    switched = _adding(
        zone, pod, guestvswitchtype="vmwaredvs", guestvswitchname="dvSwitch0",
        publicvswitchtype="nexusdvs",
    )  # fmt: skip
    assert admin.addCluster(**switched)["cluster"][0]["hypervisortype"] == "VMware"
    bad = _adding(zone, pod, guestvswitchtype="openvswitch")
    assert "vmwaresvs, vmwaredvs, nexusdvs" in _refused(admin.addCluster, 431, **bad)
    kvm = _adding(zone, pod, hypervisor="KVM", publicvswitchtype="vmwaredvs")
    _refused(admin.addCluster, 431, **kvm)
    assert len(admin.listClusters(podid=pod)["cluster"]) == 1
