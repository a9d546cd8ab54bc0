"""Storage pools and image stores: what a storage URL says per hypervisor and provider, where its
credentials go, and a pool's maintenance and removal rules."""

from __future__ import annotations

import uuid

import pytest

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.storage import ImageStore, PoolIndex, PoolState, StoragePool, parse_tags, scope_keys
from domain.storage_url import POOL_SCHEMES, parse_pool_url, parse_store_url
from domain.values import Secret


@pytest.mark.parametrize(
    ("url", "hypervisor", "kind"),
    [
        ("nfs://10.0.0.5/export", "KVM", "NetworkFilesystem"),
        ("NFS://10.0.0.5/export", "XenServer", "NetworkFilesystem"),
        ("sharedMountPoint:///mnt/gfs", "KVM", "SharedMountPoint"),
        ("clvm:///vg0", "KVM", "CLVM"),
        ("rbd://mon.lan/pool", "KVM", "RBD"),
        ("iscsi://10.0.0.7/iqn.2014-01.org.example:t1/0", "XenServer", "IscsiLUN"),
        ("presetup://localhost/sr-1", "XenServer", "PreSetup"),
        ("vmfs://vcenter/dc/ds1", "VMware", "VMFS"),
        ("smb://fs.lan/share?user=u&password=p", "Hyperv", "SMB"),
    ],
)
def test_each_scheme_is_its_4_3_pool_type_for_the_hypervisors_that_use_it(
    url: str, hypervisor: str, kind: str
) -> None:
    parsed = parse_pool_url(url, hypervisor)
    assert POOL_SCHEMES[parsed.scheme][0] == kind


@pytest.mark.parametrize(
    ("url", "hypervisor"),
    [
        ("file:///var/lib/libvirt/images", "KVM"),
        ("nfs://10.0.0.5/export", "Hyperv"),
        ("rbd://mon.lan/pool", "XenServer"),
        ("vmfs://vcenter/dc/ds1", "KVM"),
        ("gopher://10.0.0.5/x", "KVM"),
        ("iscsi://10.0.0.7/iqn-only", "XenServer"),
        ("nfs://[bad/x", "KVM"),
    ],
)
def test_a_scheme_the_hypervisor_cannot_use_is_refused(url: str, hypervisor: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_pool_url(url, hypervisor)


def test_credentials_leave_the_url_and_come_back_to_be_sealed() -> None:
    rbd = parse_pool_url("rbd://admin:c2VjcmV0@mon.lan:6789/rbd", "KVM")
    assert (rbd.shown, rbd.user, rbd.secrets) == (
        "rbd://mon.lan:6789/rbd",
        "admin",
        {"secret": "c2VjcmV0"},
    )
    smb = parse_pool_url("cifs://fs.lan/share?user=u&password=p%40ss&domain=corp", "Hyperv")
    assert smb.secrets == {"password": "p@ss"} and "p%40ss" not in smb.shown
    assert smb.shown == "cifs://fs.lan/share?user=u&domain=corp"
    store = parse_store_url("cifs://fs.lan/sec?user=u&password=pw", "SMB")
    assert (store.secrets, "pw" in store.shown) == ({"password": "pw"}, False)


def test_an_error_about_a_url_never_repeats_its_credentials() -> None:
    with pytest.raises(InvalidParameter) as refused:
        parse_pool_url("gopher://user:Hidden-1@host/x", "KVM")
    assert "Hidden-1" not in str(refused.value)


def test_tags_are_trimmed_and_kept_once() -> None:
    assert parse_tags(" ssd, fast,,ssd ") == ("ssd", "fast")
    assert parse_tags(None) == ()


def _pool() -> StoragePool:
    place = {"zone_id": uuid.uuid4(), "scope": "ZONE", "hypervisor": "KVM"}
    location = {"url": "nfs://h/p", "host": "h", "path": "/p", "provider": "DefaultPrimary"}
    return StoragePool("p", place, "NetworkFilesystem", location, {}, 10, None, (), {})


def test_maintenance_follows_4_3s_states() -> None:
    pool = _pool()
    pool.prepare_for_maintenance()
    assert pool.state == PoolState.PREPARE_FOR_MAINTENANCE
    with pytest.raises(InvalidState):
        pool.prepare_for_maintenance()
    pool.enter_maintenance()
    assert pool.state == PoolState.MAINTENANCE
    pool.cancel_maintenance()
    assert pool.state == PoolState.UP
    with pytest.raises(InvalidState):
        pool.cancel_maintenance()


def test_a_pool_with_volumes_on_it_is_not_deleted() -> None:
    pool = _pool()
    volume = uuid.uuid4()
    pool.place_volume(volume, 5 * 1024**3)
    with pytest.raises(ResourceInUse):
        pool.delete()
    pool.release_volume(volume)
    pool.delete()
    assert pool.removed


def test_an_image_store_holding_templates_is_not_deleted() -> None:
    store = ImageStore("s", "Image", "NFS", "nfs", "nfs://h/p", uuid.uuid4(), {}, {})
    template = uuid.uuid4()
    store.hold(template)
    with pytest.raises(ResourceInUse):
        store.remove()
    store.let_go(template)
    store.remove()
    assert store.removed


def test_a_secret_of_a_store_never_prints() -> None:
    store = ImageStore("s", "Image", "S3", "https", "https://s3/b", None, {}, {"k": Secret("x1")})
    assert "x1" not in repr(store.credentials) and store.scope == "REGION"


def test_a_host_belongs_to_its_clusters_scope_and_its_zones_for_its_hypervisor() -> None:
    zone, cluster = uuid.uuid4(), uuid.uuid4()
    assert scope_keys(zone, cluster, "KVM") == (f"cluster:{cluster}", f"zone:{zone}:KVM")
    place = {"zone_id": zone, "cluster_id": None, "scope": "ZONE", "hypervisor": "KVM"}
    location = {"url": "nfs://h/p", "host": "h", "path": "/p", "provider": "DefaultPrimary"}
    pool = StoragePool("z", place, "NetworkFilesystem", location, {}, None, None, (), {})
    assert pool.scope_key in scope_keys(zone, cluster, "KVM")
    assert pool.scope_key not in scope_keys(zone, cluster, "XenServer")
    index = PoolIndex(pool.scope_key)
    index.add(pool.id)
    index.add(pool.id)
    assert index.pool_ids == [pool.id] and index.id == PoolIndex.create_id(pool.scope_key)
