"""A volume's life through the `cs` client, on every leg (SQLite, PostgreSQL, and NATS with the
simulator's adapter in its own process): uploaded from an image server, fetched by an adapter,
attached to a VM on a primary storage pool, snapshotted, reverted as 4.3's default storage
answers, extracted and downloaded by its link; updateVolume and the store's migration to an
object store; bad input answered with CloudStack's errors, changing nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from api.catalogue import reference
from tests.e2e.factories import make_tenant
from tests.e2e.test_isos_and_sharing import _refused
from tests.e2e.test_snapshots import _failed_job
from tests.e2e.test_template_extracts import IMAGE, _allow_loopback, _fetch
from tests.e2e.test_template_extracts import images as images  # the image server fixture
from tests.e2e.test_vms import Place, _deploy, _host, _place
from tests.support.waiting import wait_until

GIB = 1024**3


def _volume(client: CloudStack, volume_id: str) -> dict:
    return client.listVolumes(id=volume_id)["volume"][0]


def _primary(admin: CloudStack, place: Place, gib: int = 200) -> dict:
    return admin.createStoragePool(
        name=f"primary-{uuid.uuid4().hex[:6]}", zoneid=place.zone, podid=place.pod,
        clusterid=place.cluster, url="nfs://10.0.0.5/export/primary", scope="cluster",
        capacitybytes=gib * GIB,
    )["storagepool"]  # fmt: skip


def _image_store(admin: CloudStack, zone: str, sandbox: Any) -> dict:
    # The export, mounted where the adapters look for it (a directory stands in for it): a
    # snapshot of a volume in the zone is copied there.
    (sandbox.data_dir / "nfs-mounts" / "10.0.0.9" / "images").mkdir(parents=True, exist_ok=True)
    return admin.addImageStore(provider="NFS", url="nfs://10.0.0.9/images", zoneid=zone)[
        "imagestore"
    ]


def _uploaded(client: CloudStack, volume_id: str) -> dict:
    def done() -> dict | None:
        found = client.listVolumes(id=volume_id).get("volume", [])  # its job may still run
        return found[0] if found and found[0]["state"] in ("Uploaded", "UploadError") else None

    return wait_until(done, what=f"volume {volume_id} to be fetched")


def _pool(admin: CloudStack, pool_id: str) -> dict:
    return admin.listStoragePools(id=pool_id)["storagepool"][0]


def test_an_uploaded_volume_is_attached_snapshotted_reverted_extracted_and_downloaded(
    sandbox, images: str
) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    place = _place(admin)
    _host(admin, place, "h1")
    pool = _primary(admin, place)
    store = _image_store(admin, place.zone, sandbox)
    vm = _deploy(admin, place, place.small)
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    assert (root["storageid"], root["storage"]) == (pool["id"], pool["name"])
    assert root["path"] == root["id"]
    assert _pool(admin, pool["id"])["disksizeallocated"] == root["size"]
    assert [v["id"] for v in admin.listVolumes(storageid=pool["id"])["volume"]] == [root["id"]]

    submitted = admin.uploadVolume(
        name="uploaded", zoneid=place.zone, format="QCOW2", url=f"{images}/disk.qcow2",
        imagestoreuuid=store["id"],
    )  # fmt: skip
    assert submitted["id"] and submitted["jobid"]
    answered = admin.queryAsyncJobResult(jobid=submitted["jobid"], fetch_result=True)["volume"]
    assert answered["id"] == submitted["id"]
    assert answered["state"] in ("UploadOp", "Uploaded")
    uploaded = _uploaded(admin, submitted["id"])
    assert uploaded["state"] == "Uploaded" and uploaded["size"] >= GIB
    assert "storageid" not in uploaded
    kept = sandbox.data_dir / "nfs-mounts" / "10.0.0.9" / "images" / "volumes" / uploaded["id"]
    assert (kept / "disk.qcow2").read_bytes() == IMAGE  # written to the zone's image store

    attached = admin.attachVolume(id=uploaded["id"], virtualmachineid=vm["id"], fetch_result=True)[
        "volume"
    ]
    assert (attached["state"], attached["deviceid"]) == ("Ready", 1)
    # Copied to primary storage, it leaves the image store: its bytes there are removed.
    wait_until(lambda: not (kept / "disk.qcow2").exists(), what="the uploaded image removed")
    assert attached["storageid"] == pool["id"]
    allocated = _pool(admin, pool["id"])["disksizeallocated"]
    assert allocated == root["size"] + attached["size"]

    snapshot = admin.createSnapshot(volumeid=uploaded["id"], fetch_result=True)["snapshot"]
    assert snapshot["state"] == "BackedUp" and snapshot["revertable"] is False
    _refused(admin.revertSnapshot, 431, id=snapshot["id"])  # its VM is running
    _refused(admin.extractVolume, 431, id=uploaded["id"], mode="HTTP_DOWNLOAD", zoneid=place.zone)
    admin.stopVirtualMachine(id=vm["id"], forced="true", fetch_result=True)
    failed = _failed_job(admin, admin.revertSnapshot(id=snapshot["id"]))
    assert failed["errorcode"] == 530 and "Failed to revert snapshot" in failed["errortext"]
    assert _volume(admin, uploaded["id"])["state"] == "Ready"

    extract = admin.extractVolume(
        id=uploaded["id"], mode="HTTP_DOWNLOAD", zoneid=place.zone, fetch_result=True
    )["volume"]
    assert set(reference()["extractVolume"].response) == set(extract)
    assert (extract["id"], extract["state"]) == (uploaded["id"], "DOWNLOAD_URL_CREATED")
    assert _fetch(extract["url"]) == (200, IMAGE)

    # Its disks live on a pool of cluster c1: a host of another cluster cannot start it.
    other = admin.addCluster(
        clustername="c2", podid=place.pod, zoneid=place.zone, hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]  # fmt: skip
    far = _host(admin, replace(place, cluster=other["id"]), "h2")
    elsewhere = _failed_job(admin, admin.startVirtualMachine(id=vm["id"], hostid=far["id"]))
    assert elsewhere["errorcode"] == 533
    restarted = admin.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert restarted["state"] == "Running" and restarted["hostid"] != far["id"]
    admin.stopVirtualMachine(id=vm["id"], forced="true", fetch_result=True)

    admin.detachVolume(id=uploaded["id"], fetch_result=True)
    admin.deleteVolume(id=uploaded["id"])
    assert _fetch(extract["url"])[0] == 404
    assert _pool(admin, pool["id"])["disksizeallocated"] == root["size"]


def test_bad_uploads_extracts_and_updates_are_refused_and_change_nothing(
    sandbox, images: str
) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    place = _place(admin)
    _host(admin, place, "h1")
    pool = _primary(admin, place)
    upload: dict[str, Any] = dict(name="bad", zoneid=place.zone, url=f"{images}/disk.qcow2")
    no_store = _refused(admin.uploadVolume, 431, format="QCOW2", **upload)
    assert "image store" in no_store
    store = _image_store(admin, place.zone, sandbox)
    _refused(admin.uploadVolume, 431, format="ISO", **upload)
    _refused(admin.uploadVolume, 431, format="VHD", **upload)  # the URL names a QCOW2 file
    _refused(admin.uploadVolume, 431, format="QCOW2", **dict(upload, url="ftp://x/disk.qcow2"))
    assert admin.listVolumes(name="bad").get("volume", []) == []

    vm = _deploy(admin, place, place.small)
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    no_image = _refused(
        admin.extractVolume, 431, id=root["id"], mode="HTTP_DOWNLOAD", zoneid=place.zone
    )
    assert "shutdown state" in no_image  # the VM runs: 4.3's refusal comes first
    _refused(admin.extractVolume, 431, id=root["id"], mode="CARRIER_PIGEON", zoneid=place.zone)

    _refused(admin.updateVolume, 431, id=root["id"], state="Melted")
    _refused(admin.updateVolume, 431, id=root["id"], storageid=str(uuid.uuid4()))
    before = _volume(admin, root["id"])
    changed = admin.updateVolume(
        id=root["id"], path="disk-root-7", displayvolume="false", fetch_result=True
    )["volume"]
    assert (changed["path"], changed["displayvolume"]) == ("disk-root-7", False)
    assert changed["storageid"] == before["storageid"] == pool["id"]

    user = make_tenant(sandbox, admin)
    assert user.client.listVolumes(id=root["id"]).get("volume", []) == []
    _refused(user.client.extractVolume, 531, id=root["id"], mode="HTTP_DOWNLOAD", zoneid=place.zone)
    with pytest.raises(CloudStackApiException) as refused:
        user.client.updateVolume(id=root["id"], path="mine")
    assert refused.value.error["errorcode"] in (431, 432, 531)
    mine = user.client.uploadVolume(
        name="mine", zoneid=place.zone, format="QCOW2", url=f"{images}/disk.qcow2"
    )
    size = _uploaded(user.client, mine["id"])["size"]
    owner = {"account": user.username, "domainid": user.domain_id}
    counted = admin.updateResourceCount(**owner)["resourcecount"]
    counts = {row["resourcetype"]: int(row["resourcecount"]) for row in counted}
    assert (counts["2"], counts["10"], counts["11"]) == (1, 0, size)  # kept on secondary storage
    assert admin.listVolumes(id=mine["id"], listall="true")["volume"][0]["account"] != "admin"
    # Into a project of the user's: the project owns it; another account cannot upload there.
    project = user.client.createProject(name="team", displaytext="team", fetch_result=True)[
        "project"
    ]
    shared = user.client.uploadVolume(
        name="shared", zoneid=place.zone, format="QCOW2", url=f"{images}/disk.qcow2",
        projectid=project["id"],
    )  # fmt: skip
    user.client.queryAsyncJobResult(jobid=shared["jobid"], fetch_result=True)
    listed = user.client.listVolumes(projectid=project["id"])["volume"]
    assert [v["id"] for v in listed] == [shared["id"]]
    assert user.client.listVolumes(id=shared["id"]).get("volume", []) == []  # not the account's
    stranger = make_tenant(sandbox, admin)
    _refused(
        stranger.client.uploadVolume, 531, name="theirs", zoneid=place.zone, format="QCOW2",
        url=f"{images}/disk.qcow2", projectid=project["id"],
    )  # fmt: skip
    assert admin.listVolumes(name="theirs", listall="true").get("volume", []) == []
    other = _failed_job(admin, admin.attachVolume(id=mine["id"], virtualmachineid=vm["id"]))
    assert other["errorcode"] == 431 and "same account" in other["errortext"]
    assert _volume(user.client, mine["id"])["state"] == "Uploaded"
    admin.updateVolume(id=mine["id"], displayvolume="false", fetch_result=True)
    assert user.client.listVolumes(id=mine["id"]).get("volume", []) == []  # hidden from its owner
    hidden = admin.listVolumes(id=mine["id"], listall="true", displayvolume="false")["volume"]
    assert [v["displayvolume"] for v in hidden] == [False]
    _refused(user.client.listVolumes, 531, displayvolume="false")
    custom = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    _refused(
        user.client.createVolume, 531, name="unseen", zoneid=place.zone,
        diskofferingid=custom["id"], size=1, displayvolume="false",
    )  # fmt: skip
    unseen = admin.createVolume(
        name="unseen", zoneid=place.zone, diskofferingid=custom["id"], size=1,
        displayvolume="false", account=user.username, domainid=user.domain_id,
        fetch_result=True,
    )["volume"]  # fmt: skip
    assert unseen["displayvolume"] is False
    assert user.client.listVolumes(id=unseen["id"]).get("volume", []) == []

    migrated = admin.prepareSecondaryStorageForMigration(id=store["id"], fetch_result=True)[
        "imagestore"
    ]
    assert migrated["id"] == store["id"]
    staging = admin.listSecondaryStagingStores(id=store["id"]).get("imagestore", [])
    assert [s["id"] for s in staging] == [store["id"]]
    assert admin.listImageStores(id=store["id"]).get("imagestore", []) == []
