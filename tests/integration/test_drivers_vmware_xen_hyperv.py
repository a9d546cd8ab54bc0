"""The VMware, XenServer and Hyper-V drivers against their protocol-level peers: what each
reports, refuses and does that the shared contract suite does not cover."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from adapters import (
    AuthenticationError,
    Credentials,
    HypervisorError,
    SnapshotSpec,
    Unreachable,
    VmSpec,
)
from adapters.hyperv.driver import HypervDriver
from adapters.vmware.driver import VmwareDriver
from adapters.xenserver.driver import XenServerDriver
from tests.peers import vsphere
from tests.peers.model import GIB, HostShape
from tests.peers.wsman import WsmanPeer
from tests.peers.xapi import XapiPeer

SHAPE = HostShape(name="h7", version="6.2.0", sockets=4, cores=32, mhz=2100, memory_bytes=96 * GIB)
PASSWORD = "pa55-w0rd"


def spec(name: str = "vm-1", cpu_number: int = 1, memory_mb: int = 256) -> VmSpec:
    return VmSpec(name=name, cpu_number=cpu_number, cpu_speed_mhz=1000, memory_mb=memory_mb)


# -- VMware -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vcenter() -> Iterator[vsphere.RunningSimulator]:
    reason = vsphere.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    with vsphere.running(SHAPE, "administrator", PASSWORD) as simulator:
        yield simulator


@pytest.mark.parametrize(
    ("suffix", "host"),
    [("", "DC0_H0"), ("?host=DC0_C0_H2", "DC0_C0_H2"), ("/DC0_C0_H1", "DC0_C0_H1")],
)
def test_vmware_reports_the_host_the_url_names(
    vcenter: vsphere.RunningSimulator, suffix: str, host: str
) -> None:
    driver = VmwareDriver()
    inventory = driver.connect(Credentials(vcenter.url + suffix, "administrator", PASSWORD))
    driver.close()

    assert inventory.name == host
    assert (inventory.cpu_sockets, inventory.cpu_cores, inventory.cpu_speed_mhz) == (4, 32, 2100)
    assert inventory.memory_bytes == 96 * GIB
    assert inventory.hypervisor_version == "6.5.0"
    assert inventory.local_storage_bytes == vsphere.datastore_capacity(vcenter.tmpdir)


def test_vmware_refuses_a_host_the_vcenter_does_not_have(
    vcenter: vsphere.RunningSimulator,
) -> None:
    with pytest.raises(HypervisorError, match="no-such-host"):
        VmwareDriver().connect(
            Credentials(f"{vcenter.url}?host=no-such-host", "administrator", PASSWORD)
        )


def test_vmware_bad_password_is_refused_without_echoing_it(
    vcenter: vsphere.RunningSimulator,
) -> None:
    with pytest.raises(AuthenticationError) as raised:
        VmwareDriver().connect(Credentials(vcenter.url, "administrator", "Secret-Guess-1"))

    assert "Secret-Guess-1" not in str(raised.value)


def test_vmware_lifecycle_on_a_named_cluster_host(vcenter: vsphere.RunningSimulator) -> None:
    driver = VmwareDriver(shutdown_timeout=5.0)
    driver.connect(Credentials(f"{vcenter.url}?host=DC0_C0_H0", "administrator", PASSWORD))
    try:
        assert driver.start_vm(spec("vmw-1", 2, 512)).state == "Running"
        assert driver.scale_vm("vmw-1", 1, 1024).memory_mb == 1024
        assert driver.reboot_vm("vmw-1").state == "Running"
        assert driver.stop_vm("vmw-1", forced=True).state == "Stopped"
        with pytest.raises(HypervisorError, match="not running"):
            driver.reboot_vm("vmw-1")
    finally:
        driver.destroy_vm("vmw-1")
        driver.close()


def test_vmware_takes_a_quiesced_snapshot_of_a_running_vm(
    vcenter: vsphere.RunningSimulator,
) -> None:
    driver = VmwareDriver(shutdown_timeout=5.0)
    driver.connect(Credentials(f"{vcenter.url}?host=DC0_C0_H0", "administrator", PASSWORD))
    try:
        driver.start_vm(spec("vmw-q"))
        quiesced = SnapshotSpec("calm", "quiesced by the guest's tools", quiesce=True)
        assert driver.create_snapshot("vmw-q", quiesced).name == "calm"
        assert driver.list_snapshots("vmw-q") == ("calm",)
    finally:
        driver.destroy_vm("vmw-q")
        driver.close()


# -- XenServer --------------------------------------------------------------------------------


@pytest.fixture
def xapi() -> Iterator[tuple[XapiPeer, str]]:
    peer = XapiPeer(SHAPE, "root", PASSWORD)
    with peer.serving() as url:
        yield peer, url


def test_xenserver_counts_only_local_disk_storage(xapi: tuple[XapiPeer, str]) -> None:
    _, url = xapi
    inventory = XenServerDriver().connect(Credentials(url, "root", PASSWORD))

    # The peer also has a shared NFS SR and a DVD drive SR; neither is local VM storage.
    assert inventory.local_storage_bytes == SHAPE.local_storage_bytes
    assert (inventory.cpu_sockets, inventory.cpu_cores, inventory.cpu_speed_mhz) == (4, 32, 2100)
    assert inventory.hypervisor_version == "6.2.0"


def test_xenserver_never_touches_templates_or_control_domains(
    xapi: tuple[XapiPeer, str],
) -> None:
    peer, url = xapi
    driver = XenServerDriver()
    driver.connect(Credentials(url, "root", PASSWORD))

    driver.start_vm(spec("Other install media"))
    driver.destroy_vm("Other install media")

    assert peer.host.vms == {}
    assert "OpaqueRef:vm-template" in peer._records("VM")


def test_xenserver_refuses_a_live_scale_beyond_the_static_limits(
    xapi: tuple[XapiPeer, str],
) -> None:
    _, url = xapi
    driver = XenServerDriver()
    driver.connect(Credentials(url, "root", PASSWORD))
    driver.start_vm(spec(cpu_number=2, memory_mb=512))

    assert driver.scale_vm("vm-1", 1, 512).cpu_number == 1
    with pytest.raises(HypervisorError, match="stop it to scale"):
        driver.scale_vm("vm-1", 4, 512)


def test_xenserver_bad_password_and_unknown_host(xapi: tuple[XapiPeer, str]) -> None:
    _, url = xapi
    with pytest.raises(AuthenticationError) as raised:
        XenServerDriver().connect(Credentials(url, "root", "Secret-Guess-1"))
    assert "Secret-Guess-1" not in str(raised.value)

    with pytest.raises(HypervisorError, match="elsewhere"):
        XenServerDriver().connect(Credentials(f"{url}?host=elsewhere", "root", PASSWORD))


def test_xenserver_unreachable_within_the_timeout() -> None:
    with pytest.raises(Unreachable):
        XenServerDriver(timeout=2).connect(Credentials("xenserver://127.0.0.1:1", "root", "x"))


# -- Hyper-V ----------------------------------------------------------------------------------


Hyperv = tuple[WsmanPeer, HypervDriver, str]


@pytest.fixture
def wsman() -> Iterator[Hyperv]:
    peer = WsmanPeer(dataclasses.replace(SHAPE, version="6.3.9600"), "Administrator", PASSWORD)
    with peer.serving() as url:
        driver = HypervDriver(transport="basic")
        driver.connect(Credentials(url, "Administrator", PASSWORD))
        yield peer, driver, url


def test_hyperv_inventory_counts_sockets_from_processors(
    wsman: Hyperv,
) -> None:
    _, _, url = wsman
    inventory = HypervDriver(transport="basic").connect(Credentials(url, "Administrator", PASSWORD))

    assert (inventory.cpu_sockets, inventory.cpu_cores, inventory.cpu_speed_mhz) == (4, 32, 2100)
    assert (inventory.name, inventory.hypervisor_version) == ("h7", "6.3.9600")


@pytest.mark.parametrize(
    "name",
    ["vm'; Remove-VM -Force; '", "vm\u2019; Stop-VM -TurnOff -Force; \u2018", "$(Get-VM) | `n"],
)
def test_hyperv_names_cannot_inject_powershell(wsman: Hyperv, name: str) -> None:
    peer, driver, _ = wsman
    driver.start_vm(spec("bystander"))

    assert driver.start_vm(spec(name)).name == name
    driver.destroy_vm(name)

    assert [vm.name for vm in peer.host.vms.values()] == ["bystander"]
    assert peer.host.named("bystander")[0].state == "Running"


def test_hyperv_reports_powershell_errors_as_text(wsman: Hyperv) -> None:
    _, driver, _ = wsman
    driver.start_vm(spec())

    # Hyper-V cannot change the processor count of a running VM; the CLIXML is made readable.
    with pytest.raises(HypervisorError, match="current state") as raised:
        driver.scale_vm("vm-1", 2, 256)
    assert "CLIXML" not in str(raised.value)


def test_hyperv_bad_password_is_refused_without_echoing_it(
    wsman: Hyperv,
) -> None:
    _, _, url = wsman

    with pytest.raises(AuthenticationError) as raised:
        HypervDriver(transport="basic").connect(Credentials(url, "Administrator", "Guess-1"))

    assert "Guess-1" not in str(raised.value)
