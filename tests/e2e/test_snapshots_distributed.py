"""Snapshots on a KVM host (libvirt's test driver) driven by a separate adapter process, on
PostgreSQL and NATS: what the adapter did for each request, as its results on the cloud's stream
say (see `test_kvm_lifecycle.py` for why a test cannot open the test driver's state itself)."""

from __future__ import annotations

import asyncio

import pytest
from cs import CloudStackApiException

from tests.e2e.test_hosts_distributed import (
    Cloud,
    Place,
    add_host,
    distributed_cloud,
    make_place,
    wait_for,
)
from tests.e2e.test_kvm_lifecycle import _ready_template, images, kvm_host_file  # noqa: F401
from tests.e2e.test_volumes_on_distributed_hosts import _results

pytestmark = [pytest.mark.postgres, pytest.mark.nats]


@pytest.fixture
def kvm_cloud(tmp_path):
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    with distributed_cloud(tmp_path, STRATUS_KVM_IMAGE_STORE="test:///default") as cloud:
        cloud.start_adapter("kvm")
        yield cloud


def _kvm_vm(cloud: Cloud, image_server: str) -> tuple[Place, dict]:
    """A KVM host (libvirt's test driver) in a zone of its own, and a VM running on it."""
    admin = cloud.admin
    place = make_place(admin, "KVM")
    node = kvm_host_file(cloud.workdir)
    assert add_host(admin, place, "KVM", node, "admin", "kvm-password")["state"] == "Up"
    small = next(
        o for o in admin.listServiceOfferings()["serviceoffering"] if o["name"] == "Small Instance"
    )
    vm = admin.deployVirtualMachine(
        zoneid=place.zone_id,
        serviceofferingid=small["id"],
        templateid=_ready_template(admin, place.zone_id, image_server),
        fetch_result=True,
    )["virtualmachine"]
    return place, vm


def test_a_kvm_host_takes_reverts_and_deletes_snapshots_through_its_adapter(
    kvm_cloud: Cloud,
    images: str,  # noqa: F811
) -> None:
    admin = kvm_cloud.admin
    _place, vm = _kvm_vm(kvm_cloud, images)
    with pytest.raises(CloudStackApiException) as refused:  # KVM cannot quiesce a guest here
        admin.createVMSnapshot(virtualmachineid=vm["id"], quiescevm="true")
    assert refused.value.error["errorcode"] == 431
    assert "can't handle quiescevm equal true" in refused.value.error["errortext"]
    whole = admin.createVMSnapshot(
        virtualmachineid=vm["id"], name="before", snapshotmemory="true", fetch_result=True
    )["vmsnapshot"]
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    copy = admin.createSnapshot(volumeid=root["id"], fetch_result=True)["snapshot"]
    reverted = admin.revertToVMSnapshot(vmsnapshotid=whole["id"], fetch_result=True)
    admin.deleteVMSnapshot(vmsnapshotid=whole["id"], fetch_result=True)

    assert (whole["state"], whole["type"], copy["state"]) == ("Ready", "DiskAndMemory", "BackedUp")
    assert reverted["virtualmachine"]["state"] == "Running"
    assert admin.listVMSnapshot().get("vmSnapshot", []) == []
    done = [
        (r["action"], r["ok"], r["data"])
        for r in asyncio.run(_results(kvm_cloud, "kvm"))
        if r["target_id"] in (whole["id"], copy["id"])
    ]
    assert [(action, ok) for action, ok, _ in done] == [
        ("create_vm_snapshot", True),
        ("snapshot_volume", True),
        ("revert_vm_snapshot", True),
        ("delete_vm_snapshot", True),
    ]
    assert done[0][2] == {"name": whole["name"], "memory": True}
    assert done[2][2]["state"] == "Running"


def test_a_kvm_volume_snapshot_is_written_to_the_zones_nfs_image_store(
    kvm_cloud: Cloud,
    images: str,  # noqa: F811
) -> None:
    admin = kvm_cloud.admin
    place, vm = _kvm_vm(kvm_cloud, images)
    export = kvm_cloud.workdir / "data" / "nfs-mounts" / "10.0.0.9" / "export" / "secondary"
    export.mkdir(parents=True)  # the NFS export, mounted where the adapter looks for it
    admin.addImageStore(
        provider="NFS", name="nfs", url="nfs://10.0.0.9/export/secondary", zoneid=place.zone_id
    )
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]

    copy = admin.createSnapshot(volumeid=root["id"], fetch_result=True)["snapshot"]

    assert copy["state"] == "BackedUp"
    kept = export / "snapshots" / copy["id"] / f"stratus-{copy['id']}"
    image = kept.read_bytes()
    # libvirt's test driver streams no volume: the copy states the ROOT disk's virtual size
    assert image[:4] == b"QFI\xfb" and int.from_bytes(image[24:32], "big") == root["size"]
    admin.deleteSnapshot(id=copy["id"], fetch_result=True)
    assert wait_for(lambda: not kept.exists(), 30, interval=0.2), "the copy was never removed"
