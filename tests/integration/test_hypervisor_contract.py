"""The `Hypervisor` contract, run against every peer in `hypervisor_peers.PEERS`.

Each case says what a caller of any driver may rely on: what connecting reports and refuses,
what each VM action leaves behind, and that actions are idempotent by desired state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import AuthenticationError, Hypervisor, NotFoundOnHost, Unreachable, VmSpec
from tests.integration.hypervisor_peers import PEERS, Peer


@pytest.fixture(params=PEERS)
def peer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Peer]:
    with request.param(tmp_path) as chosen:
        yield chosen


@pytest.fixture
def driver_under_test(peer: Peer) -> Hypervisor:
    """The peer's driver, connected with good credentials."""
    peer.driver.connect(peer.credentials)
    return peer.driver


def spec(name: str = "vm-1", cpu_number: int = 1, memory_mb: int = 256) -> VmSpec:
    return VmSpec(name=name, cpu_number=cpu_number, cpu_speed_mhz=1000, memory_mb=memory_mb)


def skip_unless(peer: Peer, case: str, available: object) -> None:
    if case in peer.skip:
        pytest.skip(peer.skip[case])
    if available is None:
        pytest.skip(f"this peer cannot express the case {case!r}")


def test_connect_reports_the_host_inventory(peer: Peer) -> None:
    inventory = peer.driver.connect(peer.credentials)

    reported = {name: getattr(inventory, name) for name in peer.expected}
    assert reported == dict(peer.expected)
    assert inventory.hypervisor_version
    assert inventory.local_storage_bytes >= 0


def test_connect_with_bad_credentials_raises_authentication_error(peer: Peer) -> None:
    skip_unless(peer, "bad_credentials", peer.bad_credentials)
    assert peer.bad_credentials is not None

    with pytest.raises(AuthenticationError) as raised:
        peer.make_driver().connect(peer.bad_credentials)

    assert peer.bad_credentials.password not in str(raised.value)


def test_connect_to_an_unreachable_host_raises_unreachable(peer: Peer) -> None:
    skip_unless(peer, "unreachable", peer.unreachable)
    assert peer.unreachable is not None

    with pytest.raises(Unreachable):
        peer.make_driver().connect(peer.unreachable)


def test_a_connected_driver_answers_ping(driver_under_test: Hypervisor) -> None:
    assert driver_under_test.ping() is True


def test_a_closed_driver_does_not_answer_ping(driver_under_test: Hypervisor) -> None:
    driver_under_test.close()

    assert driver_under_test.ping() is False


def test_start_creates_and_runs_the_vm(driver_under_test: Hypervisor) -> None:
    status = driver_under_test.start_vm(spec(cpu_number=2, memory_mb=512))

    assert (status.name, status.state, status.cpu_number, status.memory_mb) == (
        "vm-1",
        "Running",
        2,
        512,
    )
    assert driver_under_test.vm_status("vm-1") == status


def test_start_twice_acts_once(peer: Peer, driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())
    first_run = peer.run_identity("vm-1") if peer.run_identity else None

    again = driver_under_test.start_vm(spec())

    assert again.state == "Running"
    if peer.run_identity is not None:
        assert peer.run_identity("vm-1") == first_run


def test_stop_leaves_the_vm_stopped_and_stopping_again_succeeds(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())

    assert driver_under_test.stop_vm("vm-1").state == "Stopped"
    assert driver_under_test.stop_vm("vm-1").state == "Stopped"
    assert driver_under_test.vm_status("vm-1").state == "Stopped"


def test_forced_stop_stops_the_vm(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())

    assert driver_under_test.stop_vm("vm-1", forced=True).state == "Stopped"


def test_a_stopped_vm_starts_again(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())
    driver_under_test.stop_vm("vm-1")

    assert driver_under_test.start_vm(spec()).state == "Running"


def test_reboot_leaves_the_vm_running(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec())

    assert driver_under_test.reboot_vm("vm-1").state == "Running"
    assert driver_under_test.vm_status("vm-1").state == "Running"


def test_scaling_a_stopped_vm_takes_effect_when_it_starts(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec(cpu_number=1, memory_mb=256))
    driver_under_test.stop_vm("vm-1")

    scaled = driver_under_test.scale_vm("vm-1", cpu_number=4, memory_mb=1024)
    started = driver_under_test.start_vm(spec(cpu_number=4, memory_mb=1024))

    assert (scaled.state, scaled.cpu_number, scaled.memory_mb) == ("Stopped", 4, 1024)
    assert (started.state, started.cpu_number, started.memory_mb) == ("Running", 4, 1024)


def test_starting_a_stopped_vm_applies_the_size_it_is_started_with(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec(cpu_number=1, memory_mb=256))
    driver_under_test.stop_vm("vm-1")

    started = driver_under_test.start_vm(spec(cpu_number=2, memory_mb=768))

    assert (started.state, started.cpu_number, started.memory_mb) == ("Running", 2, 768)
    assert driver_under_test.vm_status("vm-1").memory_mb == 768


def test_destroy_removes_the_vm_and_destroying_again_succeeds(
    driver_under_test: Hypervisor,
) -> None:
    driver_under_test.start_vm(spec())

    driver_under_test.destroy_vm("vm-1")
    driver_under_test.destroy_vm("vm-1")

    with pytest.raises(NotFoundOnHost):
        driver_under_test.vm_status("vm-1")


def test_vm_status_of_a_missing_vm_raises_not_found(driver_under_test: Hypervisor) -> None:
    with pytest.raises(NotFoundOnHost):
        driver_under_test.vm_status("no-such-vm")


@pytest.mark.parametrize("action", ["stop", "reboot", "scale"])
def test_actions_on_a_missing_vm_raise_not_found(
    driver_under_test: Hypervisor, action: str
) -> None:
    calls = {
        "stop": lambda: driver_under_test.stop_vm("no-such-vm"),
        "reboot": lambda: driver_under_test.reboot_vm("no-such-vm"),
        "scale": lambda: driver_under_test.scale_vm("no-such-vm", 1, 256),
    }

    with pytest.raises(NotFoundOnHost):
        calls[action]()


def test_destroying_one_vm_leaves_the_others_alone(driver_under_test: Hypervisor) -> None:
    driver_under_test.start_vm(spec("vm-a"))
    driver_under_test.start_vm(spec("vm-b"))
    driver_under_test.destroy_vm("vm-a")

    assert driver_under_test.vm_status("vm-b").state == "Running"
    with pytest.raises(NotFoundOnHost):
        driver_under_test.vm_status("vm-a")
