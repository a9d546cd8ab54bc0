"""Volumes moved between primary storage pools of a KVM host (libvirt's test driver, driven by
the KVM adapter in its own process, over PostgreSQL and NATS): the ROOT disk is made on the
pool it was placed on, a stopped VM's ROOT and data disks move to another pool and the VM
starts from them; a running VM's disk is refused as 4.3 refuses it on KVM (no storage motion).
What the host did is read from the adapter's results in the cloud's JetStream stream."""

from __future__ import annotations

import uuid

import pytest
from cs import CloudStack

from tests.e2e.test_hosts_distributed import Cloud, add_host, make_place, wait_for
from tests.e2e.test_isos_and_sharing import _refused
from tests.e2e.test_kvm_lifecycle import _ready_template, images, kvm_host_file  # noqa: F401
from tests.e2e.test_volumes_on_distributed_hosts import (  # noqa: F401
    _disk_results,
    _vm_with_disk,
    kvm_cloud,
)

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

GIB = 1024**3


def _pool(admin: CloudStack, zone: str, pod: str, cluster: str) -> dict:
    return admin.createStoragePool(
        name=f"kvm-{uuid.uuid4().hex[:6]}", zoneid=zone, podid=pod, clusterid=cluster,
        scope="cluster", url=f"nfs://10.0.0.5/export/{uuid.uuid4().hex[:6]}",
        capacitybytes=100 * GIB,
    )["storagepool"]  # fmt: skip


def _on(admin: CloudStack, volume_id: str) -> str:
    return str(admin.listVolumes(id=volume_id, listall="true")["volume"][0]["storageid"])


def test_a_stopped_kvm_vms_disks_move_to_another_pool_and_it_starts_from_them(
    kvm_cloud: Cloud,  # noqa: F811
    images: str,  # noqa: F811
) -> None:
    admin = kvm_cloud.admin
    place = make_place(admin, "KVM")
    cluster = place.clusters["KVM"]
    node = kvm_host_file(kvm_cloud.workdir)
    assert add_host(admin, place, "KVM", node, "admin", "kvm-password")["state"] == "Up"
    first = _pool(admin, place.zone_id, place.pod_id, cluster)
    second = _pool(admin, place.zone_id, place.pod_id, cluster)

    def connected() -> bool:  # the host has both pools (findStoragePoolsForMigration asks it)
        found = admin.findStoragePoolsForMigration(id=disk["id"]).get("storagepool", [])
        return sum(1 for p in found if p["suitableformigration"]) == 2

    vm, disk = _vm_with_disk(admin, place.zone_id, _ready_template(admin, place.zone_id, images))
    admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    pools = {first["id"], second["id"]}
    targets = {v["id"]: (pools - {_on(admin, v["id"])}).pop() for v in (disk, root)}
    assert wait_for(connected, 30, interval=0.2), "the KVM host never connected the pools"

    text = _refused(admin.migrateVolume, 431, volumeid=disk["id"], storageid=targets[disk["id"]])
    assert text == "Volume needs to be detached from VM"  # KVM has no storage motion in 4.3
    admin.stopVirtualMachine(id=vm["id"], forced="true", fetch_result=True)
    for volume_id, target in targets.items():
        admin.migrateVolume(volumeid=volume_id, storageid=target, fetch_result=True)
        assert _on(admin, volume_id) == target
    started = admin.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running"

    results = _disk_results(kvm_cloud, "kvm", disk["id"])
    moves = [r for r in results if r["action"] != "attach_volume"]
    assert [(r["action"], r["ok"]) for r in moves] == [("migrate_volume", True)]
    location = moves[0]["data"]["disk"]["location"]
    assert targets[disk["id"]] in location and location.endswith(f"disk-{disk['id']}.qcow2")
    (root_move,) = _disk_results(kvm_cloud, "kvm", root["id"])
    assert root_move["ok"] and targets[root["id"]] in root_move["data"]["disk"]["location"]
