"""Template downloads on the adapter side: the simulator's knobs, and drivers that cannot."""

from __future__ import annotations

import pytest

from adapters import HypervisorError
from adapters.fetch import FetchRefused
from adapters.sessions import Unsupported, perform_unbound
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver

PARAMS = {"url": "http://i.example.org/t.qcow2?size_gb=2", "format": "QCOW2", "zone_id": "z"}


def test_the_simulator_downloads_at_once_with_the_size_the_url_asks_for() -> None:
    world = SimulatedWorld()
    data = perform_unbound(lambda: SimulatorDriver(world), "simulator", "download_template", PARAMS)
    assert data == {"size": 2 * 1024**3, "physical_size": 2 * 1024**3 // 3}
    assert world.acted["download_template"] == 1


def test_the_simulator_refuses_an_image_above_the_size_limit_the_request_carries() -> None:
    world = SimulatedWorld()
    params = PARAMS | {"max_size_gb": 1}
    with pytest.raises(FetchRefused, match="within the limits") as refused:
        perform_unbound(lambda: SimulatorDriver(world), "simulator", "download_template", params)
    assert "size_gb" not in str(refused.value)
    assert world.acted.get("download_template", 0) == 0


def test_a_request_with_limits_that_are_not_valid_is_refused_before_fetching() -> None:
    params = PARAMS | {"allowed_internal_sites": "everything"}
    with pytest.raises(HypervisorError, match="limits are not valid"):
        perform_unbound(SimulatorDriver, "simulator", "download_template", params)


def test_without_a_size_the_simulator_derives_the_same_one_from_the_same_url() -> None:
    driver = SimulatorDriver(SimulatedWorld())
    first = driver.download_template(
        url="http://a/x.vhd", image_format="VHD", checksum="", zone_id="z"
    )
    again = driver.download_template(
        url="http://a/x.vhd", image_format="VHD", checksum="", zone_id="z"
    )
    assert first == again and 1024**3 <= first["size"] < 2 * 1024**3


def test_the_simulator_fails_a_download_when_told_to() -> None:
    world = SimulatedWorld()
    driver = SimulatorDriver(world)
    with pytest.raises(HypervisorError, match="gone"):
        driver.download_template(
            url="http://a/x.vhd?fail=gone", image_format="VHD", checksum="", zone_id="z"
        )
    world.fail_next("download_template")
    with pytest.raises(HypervisorError):
        driver.download_template(url="http://a/x.vhd", image_format="VHD", checksum="", zone_id="z")


class _NoImages:
    kind = "KVM"

    def close(self) -> None:
        pass


def test_a_driver_without_downloads_answers_not_supported_yet() -> None:
    with pytest.raises(Unsupported, match="not supported yet by the kvm adapter"):
        perform_unbound(_NoImages, "kvm", "download_template", PARAMS)  # type: ignore[arg-type]
