"""KVM template downloads on libvirt's test driver: the image store's pool takes a volume of the
size the URL states; without a stated size or an image store the download fails with the reason."""

from __future__ import annotations

import pytest

from adapters import HypervisorError

pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")

from adapters.kvm.driver import KvmDriver  # needs libvirt, checked above

GIB = 1024**3


def _download(driver: KvmDriver, url: str) -> dict[str, int]:
    return driver.download_template(url=url, image_format="QCOW2", checksum="", zone_id="z1")


def test_a_template_becomes_a_volume_of_the_stated_size() -> None:
    driver = KvmDriver(image_store="test:///default")

    stored = _download(driver, "http://images.example.org/tiny.qcow2?size_gb=3")

    assert stored["size"] == 3 * GIB
    assert 0 < stored["physical_size"] <= 3 * GIB


def test_a_url_without_a_stated_size_is_refused_with_the_reason() -> None:
    driver = KvmDriver(image_store="test:///default")

    with pytest.raises(HypervisorError, match=r"does not download images yet.*size_gb"):
        _download(driver, "http://images.example.org/tiny.qcow2")


def test_without_an_image_store_the_download_names_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STRATUS_KVM_IMAGE_STORE", raising=False)

    with pytest.raises(HypervisorError, match="STRATUS_KVM_IMAGE_STORE"):
        _download(KvmDriver(), "http://images.example.org/tiny.qcow2?size_gb=1")
