"""KVM template downloads: the image is fetched over HTTP from a real server, checked against its
checksum and format, measured from its own header, and becomes a volume of the image store's
pool (libvirt's test driver); every refusal leaves no file behind. The image server is on
loopback, an internal site these downloads are allowed to reach."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import HypervisorError
from adapters.fetch import FetchPolicy
from stratus.addresses import parse_sites
from tests.peers.images import GIB, qcow2_image, serve_images

pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")

from adapters.kvm.driver import KvmDriver  # needs libvirt, checked above

LOCAL_SERVER = FetchPolicy(allowed_sites=parse_sites("127.0.0.1/32"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "served"
    root.mkdir()
    with serve_images(root) as base:
        yield root, base


@pytest.fixture
def driver(tmp_path: Path) -> KvmDriver:
    return KvmDriver(image_store="test:///default", image_dir=tmp_path / "store")


def _download(driver: KvmDriver, url: str, *, image_format: str = "QCOW2", checksum: str = ""):
    return driver.download_template(
        url=url, image_format=image_format, checksum=checksum, zone_id="z1", policy=LOCAL_SERVER
    )


def test_a_qcow2_template_is_fetched_and_sized_by_its_header(
    driver: KvmDriver, served: tuple[Path, str]
) -> None:
    root, base = served
    body = qcow2_image(3 * GIB)
    (root / "tiny.qcow2").write_bytes(body)

    stored = _download(driver, f"{base}/tiny.qcow2", checksum=hashlib.md5(body).hexdigest())

    assert stored == {"size": 3 * GIB, "physical_size": len(body)}
    assert (driver.image_dir / "template-z1-tiny.qcow2").read_bytes() == body


def test_a_raw_template_is_as_large_as_its_file_and_sha256_is_checked(
    driver: KvmDriver, served: tuple[Path, str]
) -> None:
    root, base = served
    body = b"\x01" * 100_000
    (root / "disk.raw").write_bytes(body)
    checksum = "{SHA-256}" + hashlib.sha256(body).hexdigest()

    stored = _download(driver, f"{base}/disk.raw", image_format="RAW", checksum=checksum)

    assert stored == {"size": len(body), "physical_size": len(body)}


def test_a_checksum_mismatch_is_refused_and_nothing_is_kept(
    driver: KvmDriver, served: tuple[Path, str]
) -> None:
    root, base = served
    (root / "tiny.qcow2").write_bytes(qcow2_image(GIB))

    with pytest.raises(HypervisorError, match=r"checksum mismatch: expected 0{32}"):
        _download(driver, f"{base}/tiny.qcow2", checksum="0" * 32)

    assert list(driver.image_dir.iterdir()) == []


def test_an_image_that_is_not_the_format_it_claims_is_refused(
    driver: KvmDriver, served: tuple[Path, str]
) -> None:
    root, base = served
    (root / "fake.qcow2").write_bytes(b"<html>not an image</html>")
    (root / "real.raw").write_bytes(qcow2_image(GIB))

    with pytest.raises(HypervisorError, match="not in QCOW2 format"):
        _download(driver, f"{base}/fake.qcow2")
    with pytest.raises(HypervisorError, match="is QCOW2, not RAW"):
        _download(driver, f"{base}/real.raw", image_format="RAW")


def test_a_missing_image_fails_without_repeating_the_servers_answer(
    driver: KvmDriver, served: tuple[Path, str]
) -> None:
    _root, base = served

    with pytest.raises(HypervisorError, match="did not serve a file within the limits") as error:
        _download(driver, f"{base}/nowhere.qcow2")
    assert "404" not in str(error.value)


def test_an_unknown_checksum_algorithm_is_refused_before_downloading(
    driver: KvmDriver, served: tuple[Path, str]
) -> None:
    _root, base = served

    with pytest.raises(HypervisorError, match="unknown checksum algorithm 'CRC32'"):
        _download(driver, f"{base}/tiny.qcow2", checksum="{CRC32}abcd")


def test_without_an_image_store_the_download_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("STRATUS_KVM_IMAGE_STORE", raising=False)

    with pytest.raises(HypervisorError, match="STRATUS_KVM_IMAGE_STORE"):
        _download(KvmDriver(image_dir=tmp_path), "http://127.0.0.1:9/tiny.qcow2")
