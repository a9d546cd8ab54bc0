"""Primary storage pools connected through a real `stratus adapter kvm` process to a KVM host on
libvirt's test driver (a node XML file): the host defines and starts a libvirt pool for an NFS
pool of its cluster and reports its size, and refuses an RBD pool that needs a Ceph login it
cannot be given. What the adapter did is read from the results it published, as the server
received them (a `test:///` file connection's state is private to the adapter's process)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e.test_hosts_distributed import Cloud, add_host, make_place
from tests.e2e.test_kvm_lifecycle import _kvm_results, kvm_cloud, kvm_host_file
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.nats]
__all__ = ["kvm_cloud"]  # the fixture, used by name below


def _pool_results(cloud: Cloud) -> dict[str, dict[str, Any]]:
    results = asyncio.run(_kvm_results(cloud))
    return {r["target_id"]: r for r in results if r["action"] == "connect_pool"}


def test_a_kvm_host_connects_its_clusters_nfs_pool_and_refuses_an_rbd_login(
    kvm_cloud: Cloud,
) -> None:
    admin = kvm_cloud.admin
    place = make_place(admin, "KVM")
    host = add_host(admin, place, "KVM", kvm_host_file(kvm_cloud.workdir), "admin", "kvm-password")
    assert host["state"] == "Up"
    nfs = admin.createStoragePool(
        name="nfs-1",
        zoneid=place.zone_id,
        podid=place.pod_id,
        clusterid=place.clusters["KVM"],
        url="nfs://10.0.0.5/export/kvm",
    )["storagepool"]
    rbd = admin.createStoragePool(
        name="ceph-1",
        zoneid=place.zone_id,
        scope="zone",
        hypervisor="KVM",
        url="rbd://cloudstack:Ceph-Key-7@ceph-mon.example.org:6789/rbd",
    )["storagepool"]
    listed = wait_until(
        lambda: [
            p for p in admin.listStoragePools(id=nfs["id"])["storagepool"] if p["disksizetotal"]
        ],
        what="the KVM host's report of the NFS pool",
    )
    results = wait_until(
        lambda: (lambda got: got if {nfs["id"], rbd["id"]} <= set(got) else None)(
            _pool_results(kvm_cloud)
        ),
        what="the KVM adapter's answers",
    )
    connected = results[nfs["id"]]
    assert connected["ok"] and connected["data"]["pool"]["location"] == nfs["id"]
    assert listed[0]["disksizetotal"] == connected["data"]["pool"]["capacity_bytes"]
    refused = results[rbd["id"]]
    assert not refused["ok"] and "Ceph login" in refused["error"]
    assert "Ceph-Key-7" not in str(results)
    assert admin.listStoragePools(id=rbd["id"])["storagepool"][0]["disksizetotal"] == 0
