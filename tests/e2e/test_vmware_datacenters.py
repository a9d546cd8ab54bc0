"""A zone's vCenter datacenter through the `cs` client, against govmomi's vSphere simulator: the
datacenter is checked on the vCenter with the login given and marked as this cloud's
(`cloud.zone`), one per zone and one zone per datacenter; removing it unmarks it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException
from pyVim.connect import Disconnect, SmartConnect

from adapters.vmware.datacenters import CLOUD_ZONE, find
from tests.e2e.legs import Deployment
from tests.peers import vsphere
from tests.peers.model import GIB, HostShape

NATS_ADAPTERS = ("vmware",)  # the NATS leg runs a VMware adapter beside the server
SHAPE = HostShape(name="h1", version="6.5.0", sockets=1, cores=4, mhz=2000, memory_bytes=8 * GIB)
PASSWORD = "vc-Secret-31"


@pytest.fixture
def vcenter(leg: Deployment) -> Iterator[vsphere.RunningSimulator]:
    """A vCenter of the test's own (its datacenter DC0 unmarked)."""
    reason = vsphere.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    with vsphere.running(SHAPE, "administrator", PASSWORD) as simulator:
        yield simulator


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _zone(admin: CloudStack) -> str:
    return admin.createZone(
        name=f"vz-{uuid.uuid4().hex[:6]}",
        networktype="Advanced",
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
    )["zone"]["id"]


def _mark(url: str) -> str | None:
    """DC0's `cloud.zone` on the vCenter, as vSphere itself shows it."""
    si = SmartConnect(protocol="http", host=url.split("//")[1].split(":")[0],
                      port=int(url.rsplit(":", 1)[1].split("/")[0]),
                      user="administrator", pwd=PASSWORD)  # fmt: skip
    try:
        content = si.RetrieveContent()
        fields = [f for f in content.customFieldsManager.field or [] if f.name == CLOUD_ZONE]
        if not fields:
            return None
        values = [v.value for v in find(content, "DC0", url).customValue if v.key == fields[0].key]
        return values[-1] if values else None
    finally:
        Disconnect(si)


def test_a_zone_takes_a_datacenter_its_vcenter_has(sandbox, vcenter) -> None:
    admin = sandbox.client()
    zone, other = _zone(admin), _zone(admin)
    given = {"vcenter": vcenter.url, "username": "administrator", "password": PASSWORD}

    assert "refused the login" in _refused(
        admin.addVmwareDc, 534, zoneid=zone, name="DC0", **{**given, "password": "wrong"}
    )
    assert "Unable to find VMware DC DC9" in _refused(
        admin.addVmwareDc, 534, zoneid=zone, name="DC9", **given
    )
    assert admin.listVmwareDcs(zoneid=zone) == {}
    assert _mark(vcenter.url) is None

    dc = admin.addVmwareDc(zoneid=zone, name="DC0", **given)["vmwaredc"]
    assert (dc["name"], dc["vcenter"], dc["zoneid"]) == ("DC0", vcenter.url, zone)
    assert _mark(vcenter.url) == "true"
    assert admin.listVmwareDcs(zoneid=zone)["vmwaredc"] == [dc]
    assert admin.addVmwareDc(zoneid=zone, name="DC0", **given)["vmwaredc"] == dc  # again: kept
    assert PASSWORD not in str(admin.listVmwareDcs(zoneid=zone))
    assert "other CloudStack zone" in _refused(
        admin.addVmwareDc, 536, zoneid=other, name="DC0", **given
    )

    admin.removeVmwareDc(zoneid=zone)
    assert _mark(vcenter.url) == "false"
    assert admin.listVmwareDcs(zoneid=zone) == {}
    _refused(admin.removeVmwareDc, 431, zoneid=zone)
    moved = admin.addVmwareDc(zoneid=other, name="DC0", **given)["vmwaredc"]
    assert moved["zoneid"] == other
    admin.removeVmwareDc(zoneid=other)


def test_a_zone_with_vmware_clusters_takes_no_datacenter(sandbox, vcenter) -> None:
    admin = sandbox.client()
    zone = _zone(admin)
    pod = admin.createPod(
        name=f"vp-{uuid.uuid4().hex[:6]}",
        zoneid=zone,
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
        endip="10.1.0.200",
    )["pod"]["id"]
    admin.addCluster(
        clustername="legacy",
        podid=pod,
        zoneid=zone,
        hypervisor="VMware",
        clustertype="CloudManaged",
    )
    text = _refused(
        admin.addVmwareDc,
        536,
        zoneid=zone,
        name="DC0",
        vcenter=vcenter.url,
        username="administrator",
        password=PASSWORD,
    )
    assert "clusters" in text and _mark(vcenter.url) is None
