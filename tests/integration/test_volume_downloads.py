"""What adapters do with `download_volume` (an uploaded volume's image): the request the relay
sends is performed by the adapter's template fetcher, under the limits the request carries, on
the simulator and on KVM (libvirt's test driver as the image store, the image served from
loopback); kinds without the capability are refused by the server before any work is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from adapters import HypervisorError
from adapters.sessions import perform_unbound
from adapters.simulator.driver import SimulatorDriver
from adapters.simulator.world import SimulatedWorld
from commands.volume_uploads import DOWNLOAD_VOLUME, upload_routes
from domain.volume import Upload, UploadRequest, Volume
from stratus.actions import lacking
from stratus.messages import decode_request
from tests.peers.images import GIB, Answer, qcow2_image, serve_answers

IMAGE = qcow2_image(2 * GIB)


def _request(url: str, **limits: Any) -> dict[str, Any]:
    """The params the relay sends for an upload of `url` (from a real `UploadRequested`)."""
    volume = Volume(
        uuid4(), "up", "DATADISK", uuid4(), uuid4(), uuid4(), 0, None, None, None,
        upload=Upload(url, "QCOW2", "", uuid4()).facts(),
    )  # fmt: skip
    volume.request_upload(UploadRequest("r-1", "KVM", **limits))
    requested = volume.collect_events()[-1]
    outgoing = upload_routes(prefix="stratus")[get_topic(type(requested))]
    request = decode_request(outgoing(requested).payload)
    assert (request.action, request.hypervisor, request.target_id) == (
        DOWNLOAD_VOLUME,
        "kvm",
        str(volume.id),
    )
    return dict(request.params)


def test_the_simulator_fetches_an_uploaded_image_within_the_size_limit() -> None:
    world = SimulatedWorld()
    params = _request("http://images.example/disk.qcow2?size_gb=3", max_size_gb=5)
    done = perform_unbound(lambda: SimulatorDriver(world), "simulator", DOWNLOAD_VOLUME, params)
    assert done["size"] == 3 * GIB
    too_big = _request("http://images.example/disk.qcow2?size_gb=9", max_size_gb=5)
    with pytest.raises(HypervisorError):
        perform_unbound(lambda: SimulatorDriver(world), "simulator", DOWNLOAD_VOLUME, too_big)
    assert world.acted["download_template"] == 1


def test_kvm_fetches_an_uploaded_image_into_its_image_store(tmp_path: Path) -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver

    def driver() -> KvmDriver:
        return KvmDriver(image_store="test:///default", image_dir=tmp_path / "store")

    with serve_answers({"/disk.qcow2": Answer(body=IMAGE)}) as base:
        allowed = _request(f"{base}/disk.qcow2", allowed_internal_sites="127.0.0.1/32")
        stored = perform_unbound(driver, "kvm", DOWNLOAD_VOLUME, allowed)
        refused = _request(f"{base}/disk.qcow2")  # loopback is not an allowed site
        with pytest.raises(HypervisorError):
            perform_unbound(driver, "kvm", DOWNLOAD_VOLUME, refused)
    assert stored == {"size": 2 * GIB, "physical_size": len(IMAGE)}


@pytest.mark.parametrize("kind", ["xenserver", "vmware", "hyperv"])
def test_kinds_that_keep_no_images_are_refused_before_any_work(kind: str) -> None:
    reason = lacking(kind, DOWNLOAD_VOLUME)
    assert reason is not None and "download_volume" in reason
    assert lacking("kvm", DOWNLOAD_VOLUME) is None and lacking("simulator", DOWNLOAD_VOLUME) is None
