"""What a KVM template download may reach: real HTTP servers on loopback, some redirecting to
internal addresses, some serving too much, one not speaking HTTP, through the real KVM driver
(libvirt's test driver as the image store). The test servers are on loopback, so each test
allows exactly them, as an operator would with `secstorage.allowed.internal.sites`."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.fetch import FetchPolicy, FetchRefused
from stratus.addresses import parse_sites
from tests.peers.images import GIB, Answer, closed_port, qcow2_image, serve_answers, serve_raw

pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")

from adapters.kvm.driver import KvmDriver  # needs libvirt, checked above

UNIFORM = "the address is not allowed, or it did not serve a file within the limits"
IMAGE = qcow2_image(GIB)


def allowing(sites: str, **limits: Any) -> FetchPolicy:
    return FetchPolicy(allowed_sites=parse_sites(sites), **limits)


LOCAL_SERVER = allowing("127.0.0.1/32")


@pytest.fixture
def driver(tmp_path: Path) -> KvmDriver:
    return KvmDriver(image_store="test:///default", image_dir=tmp_path / "store")


def download(driver: KvmDriver, url: str, policy: FetchPolicy | None) -> dict[str, int]:
    return driver.download_template(
        url=url, image_format="QCOW2", checksum="", zone_id="z1", policy=policy
    )


def refusal(driver: KvmDriver, url: str, policy: FetchPolicy | None = LOCAL_SERVER) -> str:
    """The text of the refusal, once checked that nothing was kept."""
    with pytest.raises(FetchRefused) as refused:
        download(driver, url, policy)
    assert not driver.image_dir.exists() or list(driver.image_dir.iterdir()) == []
    return str(refused.value)


def test_an_image_on_an_allowed_internal_site_is_fetched(driver: KvmDriver) -> None:
    with serve_answers({"/tiny.qcow2": Answer(body=IMAGE)}) as base:
        stored = download(driver, f"{base}/tiny.qcow2", LOCAL_SERVER)

    assert stored == {"size": GIB, "physical_size": len(IMAGE)}


def test_loopback_is_refused_unless_it_is_an_allowed_site(driver: KvmDriver) -> None:
    with serve_answers({"/tiny.qcow2": Answer(body=IMAGE)}) as base:
        text = refusal(driver, f"{base}/tiny.qcow2", policy=None)
        other_site = refusal(driver, f"{base}/tiny.qcow2", allowing("10.0.0.0/8"))

    assert UNIFORM in text and UNIFORM in other_site


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:5432/x.qcow2",  # loopback, outside the allowed /32
        "http://169.254.169.254/latest/meta-data/x.qcow2",  # link-local metadata service
        "http://[::ffff:127.0.0.2]:5432/x.qcow2",  # loopback, IPv4-mapped
        "http://10.1.2.3/x.qcow2",  # private
        "gopher://127.0.0.1:5432/x.qcow2",  # not HTTP at all
    ],
)
def test_a_redirect_to_an_internal_address_is_refused(driver: KvmDriver, target: str) -> None:
    with serve_answers({"/x.qcow2": Answer(302, (("Location", target),))}) as base:
        text = refusal(driver, f"{base}/x.qcow2")

    assert UNIFORM in text
    assert "127.0.0.2" not in text and "169.254" not in text and "10.1.2.3" not in text


def test_a_redirect_to_an_allowed_place_is_followed(driver: KvmDriver) -> None:
    answers = {"/image.qcow2": Answer(body=IMAGE)}
    with serve_answers(answers) as base:
        answers["/moved.qcow2"] = Answer(301, (("Location", "/image.qcow2"),))
        stored = download(driver, f"{base}/moved.qcow2", LOCAL_SERVER)

    assert stored["physical_size"] == len(IMAGE)


def test_endless_redirects_are_cut_short(driver: KvmDriver) -> None:
    with serve_answers({"/loop.qcow2": Answer(302, (("Location", "/loop.qcow2"),))}) as base:
        assert UNIFORM in refusal(driver, f"{base}/loop.qcow2")


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_body_larger_than_the_limit_is_refused(driver: KvmDriver, declare_length: bool) -> None:
    body = qcow2_image(GIB, padding=300_000)
    answers = {"/big.qcow2": Answer(body=body, declare_length=declare_length)}
    with serve_answers(answers) as base:
        text = refusal(driver, f"{base}/big.qcow2", allowing("127.0.0.1/32", max_bytes=200_000))

    assert UNIFORM in text


def test_an_open_port_that_is_not_http_and_a_closed_port_fail_alike(driver: KvmDriver) -> None:
    with serve_raw(b"SSH-2.0-OpenSSH_9.6 secret-banner\r\n") as open_port:
        spoken = refusal(driver, f"http://127.0.0.1:{open_port}/x.qcow2")
    nothing = closed_port()
    closed = refusal(driver, f"http://127.0.0.1:{nothing}/x.qcow2")

    assert spoken.replace(str(open_port), "PORT") == closed.replace(str(nothing), "PORT")
    assert UNIFORM in spoken and "SSH" not in spoken and "banner" not in spoken


def test_a_server_that_falls_silent_mid_image_is_cut_off_at_the_deadline(
    driver: KvmDriver,
) -> None:
    """The server promises an image, sends its start and then nothing, holding the line open:
    the download's deadline ends it, however long a single read would be let wait."""
    start = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + IMAGE[:1000]
    patient = allowing("127.0.0.1/32", timeout=3600.0, deadline=0.5)
    with serve_raw(start, hold=True) as port:
        assert UNIFORM in refusal(driver, f"http://127.0.0.1:{port}/x.qcow2", patient)


def test_an_error_answer_is_not_repeated_to_the_user(driver: KvmDriver) -> None:
    answers = {"/x.qcow2": Answer(500, body=b"internal-admin-console")}
    with serve_answers(answers) as base:
        text = refusal(driver, f"{base}/x.qcow2?token=s3cr3t")

    assert UNIFORM in text
    assert "500" not in text and "admin-console" not in text and "s3cr3t" not in text


def test_the_connection_goes_to_the_address_that_was_checked(driver: KvmDriver) -> None:
    """A name that resolves to an allowed address, then (rebound) to the metadata service,
    is looked up once: the download goes where the check said it may."""
    lookups: list[str] = []
    system = socket.getaddrinfo

    def rebinding(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "169.254.169.254"
        return system(address, port, **kwargs)

    with serve_answers({"/tiny.qcow2": Answer(body=IMAGE)}) as base:
        port = base.rsplit(":", 1)[1]
        stored = _fetch_with(rebinding, f"http://images.test:{port}/tiny.qcow2", driver)

    assert stored["physical_size"] == len(IMAGE)
    assert lookups == ["images.test"]


def _fetch_with(resolve: Callable[..., Any], url: str, driver: KvmDriver) -> dict[str, int]:
    """A download whose name lookups go to `resolve`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", resolve)
        return download(driver, url, LOCAL_SERVER)


def test_the_checksum_still_guards_a_fetched_image(driver: KvmDriver) -> None:
    with serve_answers({"/tiny.qcow2": Answer(body=IMAGE)}) as base:
        stored = driver.download_template(
            url=f"{base}/tiny.qcow2",
            image_format="QCOW2",
            checksum=hashlib.md5(IMAGE).hexdigest(),
            zone_id="z1",
            policy=LOCAL_SERVER,
        )

    assert stored["physical_size"] == len(IMAGE)
