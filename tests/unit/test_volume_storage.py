"""Volumes on pools, updates, uploads and extracts, and image stores prepared for migration, as
given-when-then on the aggregates (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InsufficientCapacity, InvalidParameter, InvalidState
from domain.storage import ImageStore, StoragePool, StoreRole
from domain.values import Secret
from domain.vm import HostAccess
from domain.volume import (
    HostWork,
    PoolMove,
    Upload,
    UploadRequest,
    Volume,
    VolumeChanges,
    VolumeExtract,
)
from tests.unit.test_storage import _pool

GIB = 1024**3


def _disk(upload: Upload | None = None) -> Volume:
    size = 0 if upload is not None else 5
    facts = upload.facts() if upload is not None else None
    return Volume(
        uuid.uuid4(), "data", "DATADISK", uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), size, None,
        None, None, upload=facts,
    )  # fmt: skip


def _vm(volume: Volume, state: str = "Running", hypervisor: str = "KVM") -> dict:
    return {
        "zone_id": volume.zone_id,
        "account_id": volume.account_id,
        "state": state,
        "hypervisor": hypervisor,
    }


def test_a_pool_takes_a_disk_only_up_with_its_tags_and_room() -> None:
    pool: StoragePool = _pool()
    pool.update(10 * GIB, None, ("ssd",))
    assert pool.takes(20 * GIB, ("ssd",), 2.0)
    assert not pool.takes(21 * GIB, ("ssd",), 2.0)
    assert not pool.takes(GIB, ("nvme",), 2.0)
    first = uuid.uuid4()
    pool.place_volume(first, 15 * GIB)
    pool.place_volume(first, 15 * GIB)  # placed once
    assert pool.allocated_bytes == 15 * GIB and not pool.takes(6 * GIB, (), 2.0)
    pool.resize_volume(first, 5 * GIB)
    assert pool.allocated_bytes == 5 * GIB
    pool.prepare_for_maintenance()
    assert not pool.takes(GIB, (), 2.0)
    pool.release_volume(first)
    assert (pool.allocated_bytes, pool.volume_ids) == (0, [])
    names = [type(e).__name__ for e in pool.collect_events()]
    assert names.count("VolumePlaced") == 1 and "VolumeResized" in names and "VolumeLeft" in names


def test_an_update_sets_what_it_names_and_refuses_a_state_4_3_does_not_know() -> None:
    volume = _disk()
    pool_id = uuid.uuid4()
    volume.update(VolumeChanges(path="p-1", pool=(pool_id, "primary"), display=False))
    assert (volume.path, volume.pool_id, volume.display, volume.state) == (
        "p-1",
        pool_id,
        False,
        "Allocated",
    )
    volume.update(VolumeChanges(state="Ready"))
    assert volume.state == "Ready" and volume.path == "p-1"
    with pytest.raises(InvalidParameter, match="Invalid volume state"):
        volume.update(VolumeChanges(state="ready-ish"))


def test_an_uploaded_volume_waits_for_its_image_then_attaches_to_a_vm_that_boots_its_format() -> (
    None
):
    volume = _disk(Upload("http://x/disk.qcow2", "QCOW2", "", uuid.uuid4()))
    assert (volume.state, volume.size_gb, volume.on_secondary) == ("UploadOp", 0, True)
    volume.request_upload(UploadRequest("r-1", "KVM"))
    with pytest.raises(InvalidState, match="not been uploaded"):
        volume.check_attachable(_vm(volume))
    volume.finish_upload("stale", 3 * GIB, GIB)
    assert volume.state == "UploadOp"
    volume.finish_upload("r-1", 3 * GIB + 1, GIB)
    assert (volume.state, volume.size_gb) == ("Uploaded", 4)
    with pytest.raises(InvalidParameter, match="QCOW2 image"):
        volume.check_attachable(_vm(volume, hypervisor="VMware"))
    volume.attach(uuid.uuid4(), _vm(volume), 1)
    assert (volume.state, volume.on_secondary) == ("Ready", False)


def test_a_failed_upload_is_an_upload_error() -> None:
    volume = _disk(Upload("http://x/disk.qcow2", "QCOW2"))
    volume.request_upload(UploadRequest("r-1", "KVM"))
    volume.fail_upload("r-1", "404")
    assert (volume.state, volume.on_secondary) == ("UploadError", False)
    with pytest.raises(InvalidState):
        volume.request_upload(UploadRequest("r-2", "KVM"))


def test_a_disk_of_a_vm_not_stopped_is_not_extracted() -> None:
    volume = _disk()
    volume.attach(uuid.uuid4(), _vm(volume), 1)
    expires = datetime.now(UTC) + timedelta(hours=1)
    offer = VolumeExtract(uuid.uuid4(), volume.zone_id, uuid.uuid4(), expires)
    with pytest.raises(InvalidParameter, match="shutdown state"):
        volume.extract(offer, "Running")
    volume.extract(offer, "Stopped")
    assert type(volume.collect_events()[-1]).__name__ == "Extracted"


def test_only_an_nfs_image_store_becomes_a_staging_store() -> None:
    nfs = ImageStore("nfs", StoreRole.IMAGE, "NFS", "nfs", "nfs://h/p", uuid.uuid4(), {}, {})
    nfs.convert_to_staging()
    nfs.convert_to_staging()
    assert nfs.role == StoreRole.STAGING
    assert [type(e).__name__ for e in nfs.collect_events()].count("ConvertedToStaging") == 1
    s3 = ImageStore("s3", StoreRole.IMAGE, "S3", "https", "https://s3", None, {}, {})
    with pytest.raises(InvalidParameter, match="only support migrate NFS"):
        s3.convert_to_staging()


def _work(request: str = "r1") -> HostWork:
    access = HostAccess(uuid.uuid4(), "simulator://h1", "root", Secret("pw"), "Simulator")
    return HostWork(request, uuid.uuid4(), access, "i-2-5-VM")


def _on_pool(volume: Volume, pool_id: uuid.UUID) -> Volume:
    volume.place(pool_id, "home")
    volume.attach(uuid.uuid4(), _vm(volume), 1)  # Ready
    volume.collect_events()
    return volume


def test_a_move_is_refused_unless_the_disk_is_ready_on_another_pool() -> None:
    fresh = _disk()  # Allocated: nothing made yet
    with pytest.raises(InvalidParameter, match="ready state"):
        fresh.request_move(PoolMove(uuid.uuid4(), "other"), _work())
    home = uuid.uuid4()
    local = _disk()
    local.attach(uuid.uuid4(), _vm(local), 1)
    with pytest.raises(InvalidParameter, match="local storage"):
        local.request_move(PoolMove(home, "other"), _work())
    placed = _on_pool(_disk(), home)
    with pytest.raises(InvalidParameter, match="already on"):
        placed.request_move(PoolMove(home, "home"), _work())
    assert placed.collect_events() == [] and placed.pool_id == home


def test_a_confirmed_move_lives_on_the_new_pool_and_a_failed_one_stays() -> None:
    home, other = uuid.uuid4(), uuid.uuid4()
    volume = _on_pool(_disk(), home)
    volume.request_move(PoolMove(other, "other"), _work("m1"))
    assert volume.moving_between == (home, other)
    with pytest.raises(InvalidState, match="busy"):
        volume.request_move(PoolMove(other, "other"), _work("m2"))
    volume.fail("m1", "no room on the host")
    assert (volume.pool_id, volume.pending) == (home, None)
    volume.request_move(PoolMove(other, "other"), _work("m3"))
    volume.confirm("m3")
    assert (volume.pool_id, volume.path, volume.moving_between) == (other, str(volume.id), None)
    names = [type(e).__name__ for e in volume.collect_events()]
    assert names == ["MigrateRequested", "RequestFailed", "MigrateRequested", "Migrated"]


def test_a_disk_moving_with_its_vm_is_settled_by_the_vms_request() -> None:
    home, other = uuid.uuid4(), uuid.uuid4()
    volume = _on_pool(_disk(), home)
    spec = volume.join_move(PoolMove(other, "other", live=True), "vm-request")
    assert spec["from_pool_id"] == str(home) and spec["to_pool_id"] == str(other)
    assert volume.is_current("vm-request") and volume.job_id is None
    volume.confirm("vm-request")
    assert volume.pool_id == other


def test_a_pool_says_why_it_does_not_take_a_disk() -> None:
    pool: StoragePool = _pool()
    pool.update(GIB, None, ("ssd",))
    with pytest.raises(InvalidParameter, match="storage tags"):
        pool.check_takes(GIB, ("gold",), 2.0)
    with pytest.raises(InsufficientCapacity, match="no room"):
        pool.check_takes(3 * GIB, ("ssd",), 2.0)
    pool.check_takes(2 * GIB, ("ssd",), 2.0)
    pool.prepare_for_maintenance()
    with pytest.raises(InvalidParameter, match="not Up"):
        pool.check_takes(GIB, (), 2.0)
