"""Volumes on primary storage pools, updateVolume, uploadVolume, extractVolume, revertSnapshot
and prepareSecondaryStorageForMigration, through the commands and the real adapter path (the
simulator plays the hosts and fetches uploaded images), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from adapters.sessions import perform_unbound
from adapters.simulator.driver import SimulatorDriver
from commands import snapshots, vms, volume_uploads, volume_work
from commands import storage as pools
from commands import volumes as cmd
from commands.placement import Candidate
from commands.volume_placement import PoolNeeds
from domain.compute import resolve_compute
from domain.errors import DomainError, InvalidParameter
from domain.host import Host
from domain.job import Job, JobStatus
from domain.resource_limits import holding
from domain.snapshot import Snapshot
from domain.storage import ImageStore, StoragePool, StoreRole
from domain.vm import VmState
from domain.volume import Upload, UploadRequest, Volume, VolumeChanges, VolumeExtract
from entrypoint.installation import open_runtime
from stratus.messages import WorkResult, decode_request
from stratus.settings import Settings
from tests.integration.test_vm_lifecycle import SMALL, Cloud

GIB = 1024**3
NO_NEEDS = PoolNeeds()


class StorageCloud(Cloud):
    """The lifecycle tests' cloud, whose pump also fetches uploaded images (no host needed)."""

    def _act(self, payload: bytes) -> WorkResult:
        request = decode_request(payload)
        if request.action != volume_uploads.DOWNLOAD_VOLUME:
            return super()._act(payload)
        fields = dict(
            request_id=request.request_id,
            hypervisor=request.hypervisor,
            action=request.action,
            target_id=request.target_id,
        )
        try:
            data = perform_unbound(
                lambda: SimulatorDriver(self.world), "simulator", request.action, request.params
            )
        except Exception as error:
            return WorkResult(**fields, ok=False, error=str(error))
        return WorkResult(**fields, ok=True, data=data)


@pytest.fixture
def cloud(settings: Settings) -> Iterator[StorageCloud]:
    runtime = open_runtime(settings, projections=[])
    try:
        yield StorageCloud(runtime)
    finally:
        runtime.close()


def _pool(cloud: Cloud, host: Candidate, gib: int, tags: tuple[str, ...] = ()) -> UUID:
    where: Host = cloud.store.get(Host, host.host_id)
    place = {
        "zone_id": where.zone_id,
        "pod_id": where.pod_id,
        "cluster_id": where.cluster_id,
        "scope": "CLUSTER",
        "hypervisor": "Simulator",
    }
    location = {
        "url": "nfs://10.0.0.5/export/primary",
        "host": "10.0.0.5",
        "path": "/export/primary",
        "port": 0,
        "user": "",
        "provider": "DefaultPrimary",
        "managed": False,
    }
    command = pools.CreateStoragePool(
        f"pool-{gib}", place, "NetworkFilesystem", location, capacity_bytes=gib * GIB, tags=tags
    )
    made = pools.create_storage_pool(cloud.store, command).id
    assert made is not None
    return made


def _deploy(
    cloud: Cloud, host: Candidate, needs: PoolNeeds = NO_NEEDS, *, start: bool = True
) -> UUID:
    vm_id = uuid4()
    compute = resolve_compute(
        SMALL, {}, template_id=uuid4(), hypervisor="Simulator", template_disk_gb=10
    )
    command = vms.DeployVirtualMachine(
        vm_id, "web", "web", f"i-{vm_id.hex[:8]}-VM", uuid4(), uuid4(),
        cloud.store.get(Host, host.host_id).zone_id, "", compute, [host],
        job_id=cloud.job(vm_id), root_pool=needs, start=start,
    )  # fmt: skip
    vms.deploy_vm(cloud.store, command)
    cloud.pump()
    return vm_id


def _pool_of(cloud: Cloud, pool_id: UUID) -> StoragePool:
    return cloud.store.get(StoragePool, pool_id)


def _volume(cloud: Cloud, volume_id: UUID) -> Volume:
    return cloud.store.get(Volume, volume_id)


def _root(cloud: Cloud, vm_id: UUID) -> Volume:
    from domain.volume import root_volume_id

    return _volume(cloud, root_volume_id(vm_id))


def _data_disk(cloud: Cloud, vm_id: UUID, size_gb: int = 5) -> UUID:
    vm = cloud.vm(vm_id)
    volume_id = uuid4()
    cmd.create_volume(
        cloud.store,
        cmd.CreateVolume(
            volume_id, "data", vm.account_id, vm.domain_id, vm.zone_id, size_gb, uuid4()
        ),
    )
    return volume_id


def _attach(cloud: Cloud, vm_id: UUID, volume_id: UUID, needs: PoolNeeds = NO_NEEDS) -> UUID:
    job_id = cloud.job(volume_id)
    attach = cmd.AttachVolume(volume_id, vm_id, pool=needs)
    volume_work.attach_volume(cloud.store, attach, job_id)
    cloud.pump()
    return job_id


# ---- placement -------------------------------------------------------------------------------


def test_a_new_vms_root_disk_goes_on_a_pool_of_its_hosts_cluster_and_allocates_its_size(
    cloud: StorageCloud,
) -> None:
    host = cloud.host("h1")
    pool_id = _pool(cloud, host, 100)
    vm_id = _deploy(cloud, host)
    root = _root(cloud, vm_id)
    assert (root.pool_id, root.path) == (pool_id, str(root.id))
    assert _pool_of(cloud, pool_id).allocated_bytes == 10 * GIB
    data = _data_disk(cloud, vm_id)
    _attach(cloud, vm_id, data)
    assert _volume(cloud, data).pool_id == pool_id
    assert _pool_of(cloud, pool_id).allocated_bytes == 15 * GIB
    # The host is asked to make the disk on that pool, and a start hands it the pool too.
    requested = next(
        e for e in cloud.store.events.get(data) if type(e).__name__ == "AttachRequested"
    )
    route = volume_work.volume_routes(cloud.store.box, "stratus")[get_topic(type(requested))]
    assert decode_request(route(requested).payload).params["pool_id"] == str(pool_id)
    assert [d.get("pool_id") for d in cmd.attached_disks(cloud.store, vm_id)] == [str(pool_id)]
    grow = volume_work.ResizeAttached(data, 8, uuid4(), job_id=cloud.job(data))
    volume_work.resize_volume(cloud.store, grow)
    cloud.pump()
    assert _pool_of(cloud, pool_id).allocated_bytes == 18 * GIB
    volume_work.detach_volume(cloud.store, data, cloud.job(data))
    cloud.pump()
    cmd.delete_volume(cloud.store, data)
    assert _pool_of(cloud, pool_id).allocated_bytes == 10 * GIB


def test_a_root_disk_no_pool_has_room_for_fails_the_deploy_and_takes_nothing(
    cloud: StorageCloud,
) -> None:
    host = cloud.host("h1")
    small = _pool(cloud, host, 4)  # 4 GiB x 2 (over-provisioning) cannot take 10 GiB
    vm_id = _deploy(cloud, host)
    assert cloud.vm(vm_id).state == VmState.ERROR
    assert cloud.held(host) == (0, 0)
    assert _pool_of(cloud, small).allocated_bytes == 0
    roomy = _deploy(cloud, host, PoolNeeds(factor=3.0))  # 12 GiB of room with a factor of 3
    assert cloud.vm(roomy).state == VmState.RUNNING
    assert _root(cloud, roomy).pool_id == small


def test_storage_tags_choose_the_pool_and_a_pool_without_them_is_not_used(
    cloud: StorageCloud,
) -> None:
    host = cloud.host("h1")
    plain = _pool(cloud, host, 100)
    fast = _pool(cloud, host, 50, ("ssd",))
    vm_id = _deploy(cloud, host, PoolNeeds(tags=("ssd",)))
    assert _root(cloud, vm_id).pool_id == fast
    assert _pool_of(cloud, plain).allocated_bytes == 0
    missing = _deploy(cloud, host, PoolNeeds(tags=("nvme",)))
    assert cloud.vm(missing).state == VmState.ERROR


def test_a_host_whose_scope_has_no_pool_keeps_the_root_disk_on_its_own_storage(
    cloud: StorageCloud,
) -> None:
    vm_id = _deploy(cloud, cloud.host("h1"))
    assert cloud.vm(vm_id).state == VmState.RUNNING
    assert _root(cloud, vm_id).pool_id is None


def test_expunging_the_vm_frees_its_root_disks_room_on_the_pool(cloud: StorageCloud) -> None:
    host = cloud.host("h1")
    pool_id = _pool(cloud, host, 100)
    vm_id = _deploy(cloud, host)
    vms.destroy_vm(cloud.store, vm_id, cloud.job(vm_id), expunge=True)
    cloud.pump()
    assert cloud.vm(vm_id).removed
    pool = _pool_of(cloud, pool_id)
    assert (pool.allocated_bytes, pool.volume_ids) == (0, [])


def test_the_disks_of_a_vm_that_never_ran_go_onto_a_pool_at_its_first_start(
    cloud: StorageCloud,
) -> None:
    host = cloud.host("h1")
    plain = _pool(cloud, host, 100)
    fast = _pool(cloud, host, 100, ("ssd",))
    vm_id = _deploy(cloud, host, start=False)
    data = _data_disk(cloud, vm_id)
    _attach(cloud, vm_id, data)  # on the record: no host holds the VM yet
    assert _root(cloud, vm_id).pool_id is None and _volume(cloud, data).pool_id is None
    root_id = _root(cloud, vm_id).id
    needs = {root_id: PoolNeeds(), data: PoolNeeds(tags=("ssd",))}
    start = vms.StartVirtualMachine(vm_id, [host], cloud.job(vm_id), needs)
    vms.start_vm(cloud.store, start)
    cloud.pump()
    assert cloud.vm(vm_id).state == VmState.RUNNING
    assert _volume(cloud, data).pool_id == fast
    assert _root(cloud, vm_id).pool_id in (plain, fast)
    started = next(e for e in cloud.store.events.get(vm_id) if hasattr(e, "data_disks"))
    assert [d.get("pool_id") for d in started.data_disks] == [str(fast)]
    total = _pool_of(cloud, plain).allocated_bytes + _pool_of(cloud, fast).allocated_bytes
    assert total == 15 * GIB
    vms.stop_vm(cloud.store, vm_id, cloud.job(vm_id), forced=True)
    cloud.pump()
    vms.start_vm(cloud.store, vms.StartVirtualMachine(vm_id, [host], cloud.job(vm_id), needs))
    cloud.pump()
    again = _pool_of(cloud, plain).allocated_bytes + _pool_of(cloud, fast).allocated_bytes
    assert again == total  # a later start keeps the disks where they are


# ---- updateVolume ----------------------------------------------------------------------------


def test_update_records_path_state_display_and_moves_the_volume_to_another_pool(
    cloud: StorageCloud,
) -> None:
    host = cloud.host("h1")
    first = _pool(cloud, host, 100)
    vm_id = _deploy(cloud, host)
    second = _pool(cloud, host, 200)
    root = _root(cloud, vm_id)
    changes = VolumeChanges(path="disk-7", state="Ready", display=False)
    cmd.update_volume(cloud.store, cmd.UpdateVolume(root.id, changes, second))
    root = _root(cloud, vm_id)
    assert (root.path, root.display, root.pool_id) == ("disk-7", False, second)
    assert _pool_of(cloud, first).allocated_bytes == 0
    assert _pool_of(cloud, second).allocated_bytes == 10 * GIB
    with pytest.raises(InvalidParameter, match="Invalid volume state"):
        cmd.update_volume(cloud.store, cmd.UpdateVolume(root.id, VolumeChanges(state="Gone")))
    assert _root(cloud, vm_id).version == root.version


# ---- uploadVolume ----------------------------------------------------------------------------


def _image_store(cloud: Cloud, zone_id: UUID, provider: str = "NFS") -> UUID:
    command = pools.AddImageStore(
        "images", StoreRole.IMAGE, provider, provider.lower(), "nfs://10.0.0.9/images", zone_id
    )
    made = pools.add_image_store(cloud.store, command).id
    assert made is not None
    return made


def _upload(cloud: Cloud, vm_id: UUID, store_id: UUID, url: str) -> UUID:
    vm = cloud.vm(vm_id)
    volume_id = uuid4()
    command = volume_uploads.UploadVolume(
        volume_id,
        "uploaded",
        vm.account_id,
        vm.domain_id,
        vm.zone_id,
        Upload(url, "QCOW2", "", store_id),
        UploadRequest(f"upload-{uuid4()}", "Simulator"),
    )
    volume_uploads.upload_volume(cloud.store, command)
    return volume_id


def _held(cloud: Cloud, volume_id: UUID) -> dict[str, int]:
    """What the volume counts against its owner's limits (by 4.3's resource type number)."""
    found = holding(_volume(cloud, volume_id))
    assert found is not None
    return found.amounts


def test_an_uploaded_volume_is_fetched_counted_on_secondary_storage_then_attached(
    cloud: StorageCloud,
) -> None:
    host = cloud.host("h1")
    pool_id = _pool(cloud, host, 100)
    vm_id = _deploy(cloud, host)
    store_id = _image_store(cloud, cloud.vm(vm_id).zone_id)
    volume_id = _upload(cloud, vm_id, store_id, "http://images.example/disk.qcow2?size_gb=3")
    assert _volume(cloud, volume_id).state == "UploadOp"
    assert volume_id in cloud.store.get(ImageStore, store_id).held_ids
    cloud.pump()
    uploaded = _volume(cloud, volume_id)
    assert (uploaded.state, uploaded.size_gb) == ("Uploaded", 3)
    assert cloud.world.acted["download_template"] == 1
    assert _held(cloud, volume_id) == {"2": 1, "11": 3 * GIB}  # a volume, on secondary storage
    job_id = _attach(cloud, vm_id, volume_id)
    assert cloud.store.get(Job, job_id).status == JobStatus.SUCCEEDED
    attached = _volume(cloud, volume_id)
    assert (attached.state, attached.vm_id, attached.pool_id) == ("Ready", vm_id, pool_id)
    assert volume_id not in cloud.store.get(ImageStore, store_id).held_ids
    assert _held(cloud, volume_id) == {"2": 1, "10": 3 * GIB}  # now on primary storage


def test_a_failed_fetch_leaves_the_volume_in_upload_error_and_unattachable(
    cloud: StorageCloud,
) -> None:
    host = cloud.host("h1")
    vm_id = _deploy(cloud, host)
    store_id = _image_store(cloud, cloud.vm(vm_id).zone_id)
    volume_id = _upload(cloud, vm_id, store_id, "http://images.example/disk.qcow2?fail=gone")
    cloud.pump()
    volume = _volume(cloud, volume_id)
    assert volume.state == "UploadError"
    assert volume_id not in cloud.store.get(ImageStore, store_id).held_ids
    job_id = cloud.job(volume_id)
    with pytest.raises(DomainError, match="has not been uploaded"):
        volume_work.attach_volume(cloud.store, cmd.AttachVolume(volume_id, vm_id), job_id)


def test_a_repeated_or_stale_fetch_answer_changes_nothing(cloud: StorageCloud) -> None:
    vm_id = _deploy(cloud, cloud.host("h1"))
    store_id = _image_store(cloud, cloud.vm(vm_id).zone_id)
    volume_id = _upload(cloud, vm_id, store_id, "http://images.example/disk.qcow2?size_gb=2")
    cloud.pump()
    version = _volume(cloud, volume_id).version
    stale = WorkResult("other", "simulator", "download_volume", str(volume_id), False, error="x")
    volume_uploads.on_upload_result(cloud.store, stale)
    assert _volume(cloud, volume_id).version == version


# ---- extractVolume, revertSnapshot -------------------------------------------------------------


def _offer(zone_id: UUID) -> VolumeExtract:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    return VolumeExtract(uuid4(), zone_id, uuid4(), expires)


def test_a_disk_of_a_running_vm_is_not_extracted_nor_reverted_until_the_vm_stops(
    cloud: StorageCloud,
) -> None:
    host = cloud.host("h1")
    vm_id = _deploy(cloud, host)
    store_id = _image_store(cloud, cloud.vm(vm_id).zone_id)
    volume_id = _upload(cloud, vm_id, store_id, "http://images.example/disk.qcow2?size_gb=2")
    cloud.pump()
    _attach(cloud, vm_id, volume_id)
    snapshot_id = uuid4()
    snapshots.create_snapshot(
        cloud.store, snapshots.CreateSnapshot(snapshot_id, volume_id, "snap", None)
    )
    cloud.pump()
    assert cloud.store.get(Snapshot, snapshot_id).state == "BackedUp"
    zone_id = cloud.vm(vm_id).zone_id
    shutdown = "not in the shutdown state"
    with pytest.raises(InvalidParameter, match=shutdown):
        cmd.extract_volume(cloud.store, volume_id, _offer(zone_id))
    with pytest.raises(InvalidParameter, match=shutdown):
        snapshots.revert_snapshot(cloud.store, snapshot_id)
    vms.stop_vm(cloud.store, vm_id, cloud.job(vm_id), forced=True)
    cloud.pump()
    before = _volume(cloud, volume_id).version
    cmd.extract_volume(cloud.store, volume_id, _offer(zone_id))
    assert _volume(cloud, volume_id).version == before + 1
    with pytest.raises(DomainError, match="Failed to revert snapshot"):
        snapshots.revert_snapshot(cloud.store, snapshot_id)
    assert _volume(cloud, volume_id).version == before + 1


# ---- prepareSecondaryStorageForMigration -------------------------------------------------------


def test_an_nfs_image_store_becomes_a_staging_store_and_an_object_store_is_refused(
    cloud: StorageCloud,
) -> None:
    zone_id = cloud.store.get(Host, cloud.host("h1").host_id).zone_id
    nfs = _image_store(cloud, zone_id)
    pools.prepare_store_for_migration(cloud.store, nfs)
    assert cloud.store.get(ImageStore, nfs).role == StoreRole.STAGING
    pools.prepare_store_for_migration(cloud.store, nfs)  # already a staging store: unchanged
    s3 = pools.add_image_store(
        cloud.store,
        pools.AddImageStore("s3", StoreRole.IMAGE, "S3", "https", "https://s3.example", None),
    ).id
    assert s3 is not None
    with pytest.raises(InvalidParameter, match="only support migrate NFS"):
        pools.prepare_store_for_migration(cloud.store, s3)
    assert cloud.store.get(ImageStore, s3).role == StoreRole.IMAGE


def test_an_upload_no_adapter_takes_is_failed_by_the_sweeper_only_when_its_kind_is_silent(
    cloud: StorageCloud,
) -> None:
    vm_id = _deploy(cloud, cloud.host("h1"))
    store_id = _image_store(cloud, cloud.vm(vm_id).zone_id)
    volume_id = _upload(cloud, vm_id, store_id, "http://images.example/disk.qcow2")
    waiting = [str(volume_id)]
    assert volume_uploads.give_up_uploads(cloud.store, waiting, lambda *_: False, "late") == 0
    assert _volume(cloud, volume_id).state == "UploadOp"

    def simulators_silent(host: UUID | None, kind: str) -> bool:
        return (host, kind) == (None, "simulator")

    failed = volume_uploads.give_up_uploads(cloud.store, waiting, simulators_silent, "nobody")
    assert failed == 1
    assert _volume(cloud, volume_id).state == "UploadError"
    assert volume_id not in cloud.store.get(ImageStore, store_id).held_ids
    cloud.pump()  # the adapter's late answer changes nothing
    assert _volume(cloud, volume_id).state == "UploadError"
