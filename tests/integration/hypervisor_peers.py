"""The hypervisor peers the contract suite runs against: one context manager per driver.

A peer factory takes a private temporary directory and yields a `Peer`: an unconnected driver,
credentials that log in, and the inventory facts the driver must report, plus the extras some
cases need (credentials that must be refused, an address that cannot be reached, a fresh driver
for those, a probe of a VM's run). A case a peer cannot express is skipped with the peer's reason.

To add a driver, write a factory like `simulator_peer` and append it to `PEERS`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from adapters import Credentials, Hypervisor, IsoSpec
from adapters.simulator.disk import read_hosts
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from tests.peers.model import HostShape

GIB = 1024**3


@dataclass(frozen=True)
class Peer:
    """One driver under test and what the contract may expect of it."""

    driver: Hypervisor
    credentials: Credentials
    expected: Mapping[str, Any]  # HostInventory fields that must match exactly
    make_driver: Callable[[], Hypervisor]  # a fresh, unconnected driver talking to the same peer
    bad_credentials: Credentials | None = None
    unreachable: Credentials | None = None
    # Something that changes each time the named VM is (re)started: "start twice acts once".
    run_identity: Callable[[str], object] | None = None
    skip: Mapping[str, str] = field(default_factory=dict)  # contract case → reason
    # Puts an ISO where the host reads ISOs from (the zone's image store, seen by the host).
    provide_iso: Callable[[IsoSpec], None] = lambda iso: None
    # Another host of the same kind a running VM can be migrated to (live migration).
    second_host: Credentials | None = None


PeerFactory = Callable[[Path], AbstractContextManager[Peer]]


@contextlib.contextmanager
def simulator_peer(tmp_path: Path) -> Iterator[Peer]:
    world = SimulatedWorld()
    world.accept_only("admin", "sim-password")
    world.mark_unreachable("ghost")
    url = "simulator://host1?sockets=2&cores=16&mhz=2400&memory_gb=64&storage_gb=500"
    driver = SimulatorDriver(world)
    yield Peer(
        driver=driver,
        credentials=Credentials(url, "admin", "sim-password"),
        expected={
            "name": "host1",
            "hypervisor": "Simulator",
            "cpu_sockets": 2,
            "cpu_cores": 16,
            "cpu_speed_mhz": 2400,
            "memory_bytes": 64 * GIB,
            "local_storage_bytes": 500 * GIB,
        },
        make_driver=lambda: SimulatorDriver(world),
        bad_credentials=Credentials(url, "admin", "wrong"),
        unreachable=Credentials("simulator://ghost", "admin", "sim-password"),
        second_host=Credentials("simulator://host2?memory_gb=64", "admin", "sim-password"),
        run_identity=lambda name: world.hosts["host1"].boots(name),
    )
    driver.close()


@contextlib.contextmanager
def simulator_on_disk_peer(tmp_path: Path) -> Iterator[Peer]:
    """The simulator with its hosts in state files: each fresh driver is of a world of its own,
    as in another adapter process, and finds the VMs the others left."""
    state = tmp_path / "hypervisor"

    def fresh() -> SimulatorDriver:
        world = SimulatedWorld(state_dir=str(state))
        world.accept_only("admin", "sim-password")
        world.mark_unreachable("ghost")
        return SimulatorDriver(world)

    with simulator_peer(tmp_path) as peer:
        driver = fresh()
        yield replace(
            peer,
            driver=driver,
            make_driver=fresh,
            run_identity=lambda name: read_hosts(state)["host1"]["vms"][name]["boots"],
        )
        driver.close()


# A custom libvirt test-driver host: its own shape, a login, and a private state per connection.
KVM_NODE_XML = """<node>
  <auth><user password="kvm-password">admin</user></auth>
  <cpu>
    <mhz>2600</mhz><model>x86_64</model><active>32</active>
    <nodes>1</nodes><sockets>2</sockets><cores>8</cores><threads>2</threads>
  </cpu>
  <memory>67108864</memory>
  <pool type="dir"><name>default</name>
    <capacity unit="GiB">500</capacity><available unit="GiB">500</available>
    <target><path>/var/lib/libvirt/images</path></target></pool>
</node>
"""


@contextlib.contextmanager
def kvm_peer(tmp_path: Path) -> Iterator[Peer]:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver

    node = tmp_path / "kvm-node.xml"
    node.write_text(KVM_NODE_XML)
    other = tmp_path / "kvm-node-2.xml"
    other.write_text(KVM_NODE_XML)
    url = f"test://{node}"
    # The host is its own image store: templates made from its VMs land in its pool.
    driver = KvmDriver(stop_timeout=5.0, poll_interval=0.05, image_store=url)
    yield Peer(
        driver=driver,
        credentials=Credentials(url, "admin", "kvm-password"),
        expected={
            "hypervisor": "KVM",
            "cpu_sockets": 2,
            "cpu_cores": 16,
            "cpu_speed_mhz": 2600,
            "memory_bytes": 64 * GIB,
        },
        make_driver=KvmDriver,
        bad_credentials=Credentials(url, "admin", "wrong"),
        # Nothing listens on port 1 of loopback: the connection is refused at once.
        unreachable=Credentials("qemu+tcp://127.0.0.1:1/system", "admin", "kvm-password"),
        run_identity=lambda name: _libvirt_domain_id(driver, name),
        provide_iso=lambda iso: _kvm_iso_volume(driver, iso),
        second_host=Credentials(f"test://{other}", "admin", "kvm-password"),
        skip={
            "resize_disk": "libvirt 9.0's test driver has neither virDomainBlockResize nor "
            "virStorageVolResize (VIR_ERR_NO_SUPPORT)",
            "migrate": "libvirt 9.0's test driver has no virDomainMigrate (VIR_ERR_NO_SUPPORT): "
            "the KVM case of test_kvm_migration.py shows the definitive failure",
        },
    )
    driver.close()


def _kvm_iso_volume(driver: Any, iso: IsoSpec) -> None:
    """The image store's volume for the ISO, in the host's pool (as if the host mounted the
    store): the name the KVM adapter gave it when it downloaded it."""
    from adapters.kvm.template_store import volume_name

    pool = driver._conn.storagePoolLookupByName("default")
    name = volume_name(iso.url, iso.zone_id)
    pool.createXML(
        f"<volume><name>{name}</name><capacity unit='MiB'>4</capacity>"
        "<target><format type='iso'/></target></volume>",
        0,
    )


def _libvirt_domain_id(driver: Any, name: str) -> int:
    # libvirt gives a domain a new id each time it starts; a reboot keeps it.
    return driver._conn.lookupByName(name).ID()


# Nothing listens on port 1 of loopback: connections are refused at once.
REFUSED = "127.0.0.1:1"
PEER_SHAPE = HostShape(
    name="peer-host-1", sockets=4, cores=24, mhz=2900, memory_bytes=256 * GIB, version="6.2.0"
)


@contextlib.contextmanager
def vmware_peer(tmp_path: Path) -> Iterator[Peer]:
    from adapters.vmware.driver import VmwareDriver
    from tests.peers import vsphere

    reason = vsphere.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    with vsphere.running(PEER_SHAPE, "administrator", "vc-password") as simulator:
        # A vCenter with several hosts: the URL names the one this driver manages.
        url = f"{simulator.url}?host=DC0_C0_H1"
        driver = VmwareDriver(shutdown_timeout=5.0)
        yield Peer(
            driver=driver,
            credentials=Credentials(url, "administrator", "vc-password"),
            expected={
                "name": "DC0_C0_H1",
                "hypervisor": "VMware",
                "cpu_sockets": PEER_SHAPE.sockets,
                "cpu_cores": PEER_SHAPE.cores,
                "cpu_speed_mhz": PEER_SHAPE.mhz,
                "memory_bytes": PEER_SHAPE.memory_bytes,
                "local_storage_bytes": vsphere.datastore_capacity(simulator.tmpdir),
            },
            make_driver=VmwareDriver,
            bad_credentials=Credentials(url, "administrator", "wrong"),
            unreachable=Credentials(f"http://{REFUSED}/sdk", "administrator", "vc-password"),
            skip={
                "revert_restores_shape": "govmomi's simulator keeps a VM's configuration and "
                "power state when it reverts to a snapshot"
            },
        )
        driver.close()


@contextlib.contextmanager
def xenserver_peer(tmp_path: Path) -> Iterator[Peer]:
    from adapters.xenserver.driver import XenServerDriver
    from tests.peers.xapi import XapiPeer

    xapi = XapiPeer(PEER_SHAPE, "root", "xen-password")
    with xapi.serving() as url:
        driver = XenServerDriver()
        yield Peer(
            driver=driver,
            credentials=Credentials(url, "root", "xen-password"),
            expected=_expected_of(PEER_SHAPE, "XenServer"),
            make_driver=XenServerDriver,
            bad_credentials=Credentials(url, "root", "wrong"),
            unreachable=Credentials(f"http://{REFUSED}/", "root", "xen-password"),
            run_identity=lambda name: [vm.boots for vm in xapi.host.named(name)],
        )
        driver.close()


@contextlib.contextmanager
def hyperv_peer(tmp_path: Path) -> Iterator[Peer]:
    from adapters.hyperv.driver import HypervDriver
    from tests.peers.wsman import WsmanPeer

    shape = dataclasses.replace(PEER_SHAPE, version="6.3.9600")
    wsman = WsmanPeer(shape, "Administrator", "hv-password")
    with wsman.serving() as url:
        driver = HypervDriver(transport="basic")
        yield Peer(
            driver=driver,
            credentials=Credentials(url, "Administrator", "hv-password"),
            expected=_expected_of(shape, "Hyperv"),
            make_driver=lambda: HypervDriver(transport="basic"),
            bad_credentials=Credentials(url, "Administrator", "wrong"),
            unreachable=Credentials(f"http://{REFUSED}/wsman", "Administrator", "hv-password"),
            run_identity=lambda name: [vm.boots for vm in wsman.host.named(name)],
        )
        driver.close()


def _expected_of(shape: HostShape, hypervisor: str) -> dict[str, Any]:
    return {
        "name": shape.name,
        "hypervisor": hypervisor,
        "hypervisor_version": shape.version,
        "cpu_sockets": shape.sockets,
        "cpu_cores": shape.cores,
        "cpu_speed_mhz": shape.mhz,
        "memory_bytes": shape.memory_bytes,
        "local_storage_bytes": shape.local_storage_bytes,
    }


PEERS: list[Any] = [
    pytest.param(simulator_peer, id="simulator"),
    pytest.param(simulator_on_disk_peer, id="simulator-on-disk"),
    pytest.param(kvm_peer, id="kvm", marks=pytest.mark.libvirt),
    pytest.param(vmware_peer, id="vmware"),
    pytest.param(xenserver_peer, id="xenserver"),
    pytest.param(hyperv_peer, id="hyperv"),
]
