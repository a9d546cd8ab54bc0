"""The image store clients against real stores: an NFS export (a directory stands in for the
mounted export: the only stand-in), a Samba `smbd` share and moto's S3 server, both started
here on 127.0.0.1. One contract for all three: an object is written whole or not at all, read
back byte for byte, sized and deleted; bad credentials and unreachable stores are refused
with a clear reason that holds no secret."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import AuthenticationError
from adapters.image_stores import StoreError, StoreSpec, open_store
from adapters.image_stores.s3 import S3Store
from tests.support.s3_server import S3Server
from tests.support.samba import Samba
from tests.support.slapd import _free_port

SMB_PASSWORD = "Smb-Share-Secret-7"
BUCKET = "stratus-templates"


@pytest.fixture(scope="module")
def samba(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Samba]:
    server = Samba(tmp_path_factory.mktemp("samba"), SMB_PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("moto"))
    server.start()
    server.bucket(BUCKET)
    yield server
    server.stop()


def _nfs(tmp_path: Path) -> StoreSpec:
    (tmp_path / "mounts" / "10.0.0.9" / "export" / "secondary").mkdir(parents=True)
    return StoreSpec("nfs-1", "NFS", "nfs://10.0.0.9/export/secondary")


def _smb(samba: Samba, password: str = SMB_PASSWORD) -> StoreSpec:
    return StoreSpec("smb-1", "SMB", samba.url("secondary"), {"user": "nobody"},
                     {"password": password})  # fmt: skip


def _s3(s3: S3Server, secret: str | None = None, endpoint: str | None = None) -> StoreSpec:
    details = {"accesskey": s3.access_key, "bucket": BUCKET, "usehttps": "false",
               "endpoint": endpoint or s3.endpoint}  # fmt: skip
    return StoreSpec("s3-1", "S3", f"http://{details['endpoint']}/{BUCKET}", details,
                     {"secretkey": secret or s3.secret_key})  # fmt: skip


@pytest.fixture(params=["nfs", "smb", "s3"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    if request.param == "nfs":
        return _nfs(tmp_path)
    if request.param == "smb":
        return _smb(request.getfixturevalue("samba"))
    return _s3(request.getfixturevalue("s3"))


def _blocks(data: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_an_object_is_written_read_sized_and_deleted(spec: StoreSpec, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4096 + b"tail"
    store = open_store(spec, nfs_mounts=str(tmp_path / "mounts"))
    try:
        assert store.put("template/tmpl/t1/image.qcow2", _blocks(data)) == len(data)
        assert store.size("template/tmpl/t1/image.qcow2") == len(data)
        assert b"".join(store.read("template/tmpl/t1/image.qcow2")) == data
        assert store.delete("template/tmpl/t1/image.qcow2") is True
        assert store.size("template/tmpl/t1/image.qcow2") is None
        assert store.delete("template/tmpl/t1/image.qcow2") is False
    finally:
        store.close()


def test_a_write_that_fails_midway_leaves_nothing(spec: StoreSpec, tmp_path: Path) -> None:
    def failing() -> Iterator[bytes]:
        yield b"x" * (9 << 20)  # past an S3 part
        raise StoreError("the download broke off")

    store = open_store(spec, nfs_mounts=str(tmp_path / "mounts"))
    try:
        with pytest.raises(StoreError, match="broke off"):
            store.put("template/tmpl/t2/image.qcow2", failing())
        assert store.size("template/tmpl/t2/image.qcow2") is None
        if isinstance(store, S3Store):
            assert store.multipart_uploads() == []
    finally:
        store.close()


def test_the_nfs_store_is_the_directory_where_its_export_is_mounted(tmp_path: Path) -> None:
    spec = _nfs(tmp_path)
    store = open_store(spec, nfs_mounts=str(tmp_path / "mounts"))
    store.put("template/tmpl/t3/a.raw", iter([b"raw bytes"]))
    written = tmp_path / "mounts/10.0.0.9/export/secondary/template/tmpl/t3/a.raw"
    assert written.read_bytes() == b"raw bytes"
    with pytest.raises(StoreError, match="not mounted"):
        open_store(StoreSpec("n", "NFS", "nfs://10.0.0.10/nowhere"), nfs_mounts=str(tmp_path))
    with pytest.raises(StoreError, match="not a valid object path"):
        store.put("template/../../escape", iter([b"x"]))


def test_the_smb_share_holds_the_bytes_written(samba: Samba) -> None:
    store = open_store(_smb(samba))
    try:
        store.put("template/tmpl/t4/disk.vhd", iter([b"vhd ", b"bytes"]))
    finally:
        store.close()
    on_share = samba.share_dir / "secondary" / "template" / "tmpl" / "t4" / "disk.vhd"
    assert on_share.read_bytes() == b"vhd bytes"


def test_a_large_object_goes_to_s3_in_parts_with_checksums(s3: S3Server) -> None:
    data = hashlib.sha256(b"seed").digest() * (20 * 1024 * 1024 // 32 + 5)  # 20 MiB and a bit
    store = S3Store(_s3(s3), part_size=5 * 1024 * 1024)
    try:
        assert store.put("template/tmpl/t5/big.qcow2", _blocks(data, 3 << 20)) == len(data)
    finally:
        store.close()
    stored = s3.client().head_object(Bucket=BUCKET, Key="template/tmpl/t5/big.qcow2")  # type: ignore[attr-defined]
    assert stored["ContentLength"] == len(data)
    assert stored["ETag"].strip('"').endswith("-5")  # five parts
    assert s3.objects(BUCKET)["template/tmpl/t5/big.qcow2"] == data


def test_credentials_that_fail_are_refused_without_showing_them(samba: Samba, s3: S3Server) -> None:
    with pytest.raises(AuthenticationError) as smb_refusal:
        open_store(_smb(samba, password="Wrong-Password-1"))
    assert "refused the user and password" in str(smb_refusal.value)
    assert "Wrong-Password-1" not in str(smb_refusal.value)
    with pytest.raises(AuthenticationError) as s3_refusal:
        open_store(_s3(s3, secret="wrong-secret-key-9"))
    assert "refused the access key" in str(s3_refusal.value)
    assert "wrong-secret-key-9" not in str(s3_refusal.value)


def test_unreachable_stores_are_refused_with_a_clear_reason(s3: S3Server) -> None:
    closed = _free_port()
    smb = StoreSpec("s", "SMB", f"cifs://127.0.0.1:{closed}/images?user=nobody", {},
                    {"password": SMB_PASSWORD})  # fmt: skip
    with pytest.raises(StoreError, match="cannot reach the SMB share"):
        open_store(smb)
    spec = _s3(s3, endpoint=f"127.0.0.1:{closed}")
    details = dict(spec.details, maxerrorretry="0", connectiontimeout="500")
    with pytest.raises(StoreError, match="cannot reach the S3 store"):
        open_store(StoreSpec(spec.store_id, "S3", spec.url, details, spec.secrets))
    missing = StoreSpec(spec.store_id, "S3", spec.url, dict(_s3(s3).details, bucket="no-such"),
                        _s3(s3).secrets)  # fmt: skip
    with pytest.raises(StoreError, match="has no bucket no-such"):
        open_store(missing)


def test_swift_is_refused_by_name() -> None:
    with pytest.raises(StoreError, match="Swift image stores are recorded but not reached"):
        open_store(StoreSpec("w", "Swift", "http://swift.example/v1", {}, {"key": "k"}))
