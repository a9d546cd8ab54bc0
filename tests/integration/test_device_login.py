"""The device login client against protocol-level stand-ins of NITRO, the Palo Alto XML API,
the Nicira NVP REST API (over TLS) and the BigSwitch VNS REST API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.values import Secret
from stratus.device_login import (
    DeviceRefused,
    bigswitch_health,
    netscaler_login,
    nvp_login,
    palo_alto_login,
    vnmc_login,
)
from tests.support.network_devices import DeviceStandIn


@pytest.fixture
def device() -> Iterator[DeviceStandIn]:
    stand_in = DeviceStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def tls_device() -> Iterator[DeviceStandIn]:
    stand_in = DeviceStandIn(username="admin", password="nvp-secret", tls=True).start()
    yield stand_in
    stand_in.stop()


def test_a_netscaler_that_accepts_the_login_is_logged_out_again(device: DeviceStandIn) -> None:
    netscaler_login(device.url("publicinterface=1/1"), device.username, Secret(device.password))
    assert device.paths() == ["/nitro/v1/config/login", "/nitro/v1/config/logout"]
    assert device.sessions == set()


def test_a_netscaler_that_refuses_names_its_nitro_error(device: DeviceStandIn) -> None:
    with pytest.raises(DeviceRefused, match="error 354 and message Invalid username"):
        netscaler_login(device.url(), device.username, Secret("wrong"))


def test_palo_alto_key_generation_decides_the_login(device: DeviceStandIn) -> None:
    palo_alto_login(device.url("pavr=default"), device.username, Secret(device.password))
    with pytest.raises(DeviceRefused, match="Invalid Credential"):
        palo_alto_login(device.url(), "someone", Secret(device.password))
    assert device.paths() == ["/api/", "/api/"]


def test_nvp_logs_in_over_tls_and_reads_the_cluster_status(tls_device: DeviceStandIn) -> None:
    nvp_login(tls_device.address, "admin", Secret("nvp-secret"))
    assert tls_device.paths() == ["/ws.v1/login", "/ws.v1/control-cluster/status"]
    with pytest.raises(DeviceRefused, match="login failed: HTTP 401"):
        nvp_login(tls_device.address, "admin", Secret("guess"))


def test_vnmc_logs_in_with_an_aaa_login_over_tls(tls_device: DeviceStandIn) -> None:
    vnmc_login(tls_device.address, "admin", Secret("nvp-secret"))
    assert tls_device.paths() == ["/xmlIM/mgmt-controller"] and tls_device.sessions
    with pytest.raises(DeviceRefused, match="Authentication failed"):
        vnmc_login(tls_device.address, "admin", Secret('"/><aaaLogin inPassword="x'))


def test_bigswitch_is_checked_by_its_health(device: DeviceStandIn) -> None:
    bigswitch_health(device.address)
    device.healthy = False
    with pytest.raises(DeviceRefused, match="HTTP 503"):
        bigswitch_health(device.address)


def test_a_device_nobody_answers_for_is_refused() -> None:
    gone = DeviceStandIn().start()
    address = gone.address
    gone.stop()
    with pytest.raises(DeviceRefused, match="unable to reach"):
        bigswitch_health(address)
    with pytest.raises(DeviceRefused, match="unable to reach"):
        netscaler_login(f"http://{address}", "u", Secret("p"))
