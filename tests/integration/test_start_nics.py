"""A VM's guest NICs reach its hypervisor with every start, below the API, on SQLite and
PostgreSQL: deployed on a network, given a second NIC while running (hot-plugged) and others
while stopped, then stopped and started again, on its host or on another one (as after a
migration or a recovery), it comes up with the NICs Stratus has for it, default first, as the
simulator records them and as libvirt's test driver has them in the domain's XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from uuid import UUID, uuid4

import pytest

from adapters import Credentials, NicSpec
from adapters.handlers import HANDLERS
from commands import vm_nics, vms
from commands.networks import NicRequest
from commands.placement import Candidate
from domain.network import Addressing, Network
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.integration.test_vm_lifecycle import Cloud
from tests.integration.test_vm_lifecycle import cloud as lifecycle_cloud

cloud = lifecycle_cloud  # the fixture: a store and a pump to the adapters' handlers
START, STOP, PLUG = HANDLERS["start_vm"], HANDLERS["stop_vm"], HANDLERS["plug_nic"]


def _network(cloud: Cloud, zone_id: UUID, cidr: str, vlan: str | None) -> UUID:
    network = Network(
        f"net-{cidr}",
        "guests",
        zone_id,
        None,
        uuid4(),
        "Shared",
        uuid4(),
        uuid4(),
        Addressing.isolated(cidr, None).facts(),
        vlan,
        "Implemented",
        id=uuid4(),
    )
    cloud.store.save(network)
    return network.id


def _deploy(
    cloud: Cloud, zone_id: UUID, network_id: UUID, h1: Candidate | None = None
) -> tuple[UUID, Candidate]:
    h1 = h1 or cloud.host("h1")
    vm_id, _ = cloud.deploy([h1], zone_id=zone_id, networks=[NicRequest(network_id)])
    return vm_id, h1


def _on_host(cloud: Cloud, host: str, vm_id: UUID) -> list[NicSpec]:
    return list(cloud.world.hosts[host].vms[cloud.vm(vm_id).instance_name].nics.values())


def _macs(cloud: Cloud, vm_id: UUID, *network_ids: UUID) -> list[str]:
    found = [cloud.vm(vm_id).nic_on(network_id) for network_id in network_ids]
    return [str(nic["mac_address"]) for nic in found if nic is not None]


def _add_nic(cloud: Cloud, vm_id: UUID, network_id: UUID) -> None:
    vm_nics.add_nic(cloud.store, vm_nics.AddNic(vm_id, NicRequest(network_id), cloud.job(vm_id)))
    cloud.pump()


def _stop(cloud: Cloud, vm_id: UUID) -> None:
    vms.stop_vm(cloud.store, vm_id, cloud.job(vm_id), forced=True)
    cloud.pump()


def _start_on(cloud: Cloud, vm_id: UUID, host: Candidate) -> None:
    vms.start_vm(cloud.store, vms.StartVirtualMachine(vm_id, [host], cloud.job(vm_id)))
    cloud.pump()


def test_a_simulated_vm_comes_back_with_its_deployed_and_hot_plugged_nics(cloud: Cloud) -> None:
    zone_id = uuid4()
    front = _network(cloud, zone_id, "10.1.0.0/24", "vlan://101")
    back = _network(cloud, zone_id, "10.2.0.0/24", None)
    vm_id, h1 = _deploy(cloud, zone_id, front)
    _add_nic(cloud, vm_id, back)  # hot-plugged: the VM runs
    both = _macs(cloud, vm_id, front, back)
    assert [nic.mac_address for nic in _on_host(cloud, "h1", vm_id)] == both

    _stop(cloud, vm_id)
    _start_on(cloud, vm_id, h1)
    assert [nic.mac_address for nic in _on_host(cloud, "h1", vm_id)] == both

    _stop(cloud, vm_id)
    _start_on(cloud, vm_id, cloud.host("h2"))  # a host that never had it, as after a migration
    on_h2 = _on_host(cloud, "h2", vm_id)
    assert [nic.mac_address for nic in on_h2] == both
    assert on_h2[0].broadcast_uri == "vlan://101"
    assert on_h2[0].ip_address == cloud.vm(vm_id).nic_on(front)["ip_address"]  # type: ignore[index]


def test_nics_changed_while_stopped_are_what_the_next_start_brings(cloud: Cloud) -> None:
    zone_id = uuid4()
    front = _network(cloud, zone_id, "10.1.0.0/24", "vlan://101")
    back = _network(cloud, zone_id, "10.2.0.0/24", None)
    spare = _network(cloud, zone_id, "10.3.0.0/24", "vlan://103")
    vm_id, h1 = _deploy(cloud, zone_id, front)
    _add_nic(cloud, vm_id, back)
    _stop(cloud, vm_id)
    vm_nics.remove_nic(cloud.store, vm_nics.RemoveNic(vm_id, back, cloud.job(vm_id)))
    _add_nic(cloud, vm_id, spare)
    vm_nics.change_default_nic(cloud.store, vm_id, spare, cloud.job(vm_id))
    _start_on(cloud, vm_id, h1)
    macs = [nic.mac_address for nic in _on_host(cloud, "h1", vm_id)]
    assert macs == _macs(cloud, vm_id, spare, front)


def _kvm() -> object:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    return driver


def _interfaces(driver: object, name: str) -> list[tuple[str, str | None]]:
    """(MAC, VLAN tag) of each NIC in the domain's persistent XML, in its order."""
    import libvirt

    domain = driver._require().lookupByName(name)  # type: ignore[attr-defined]
    xml = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    found = []
    for interface in xml.findall("devices/interface"):
        tag = interface.find("vlan/tag")
        mac = interface.find("mac")
        assert mac is not None and interface.find("source").get("bridge") == "cloudbr0"  # type: ignore[union-attr]
        found.append((str(mac.get("address")), tag.get("id") if tag is not None else None))
    return found


def _nic(mac: str, uri: str, ip: str) -> dict[str, str]:
    """A NIC as a start request carries it (`VirtualMachine.start_nics`)."""
    return {"mac_address": mac, "broadcast_uri": uri, "ip_address": ip}


FRONT = _nic("02:00:0a:01:00:05", "vlan://101", "10.1.0.5")
BACK = _nic("02:00:0a:02:00:05", "", "10.2.0.5")
SPARE = _nic("02:00:0a:03:00:05", "vlan://103", "")


def _start(driver: object, name: str, *nics: dict[str, str]) -> None:
    spec = {"name": name, "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256}
    START(driver, {**spec, "root_disk_gb": 1, "nics": list(nics)})


def test_a_kvm_domain_comes_back_with_its_deployed_and_hot_plugged_nics() -> None:
    driver = _kvm()
    name = "i-kvm-nics-VM"
    try:
        _start(driver, name, FRONT)  # deployed on one network
        assert _interfaces(driver, name) == [(FRONT["mac_address"], "101")]
        PLUG(driver, {"name": name, **BACK})  # hot-plugged while it runs
        STOP(driver, {"name": name, "forced": True})
        _start(driver, name, FRONT, BACK)  # what Stratus asks for now: both
        both = [(FRONT["mac_address"], "101"), (BACK["mac_address"], None)]
        assert _interfaces(driver, name) == both

        # Removed and added while stopped, the default changed: the next start has it so.
        STOP(driver, {"name": name, "forced": True})
        _start(driver, name, SPARE, FRONT)
        assert _interfaces(driver, name) == [(SPARE["mac_address"], "103"), both[0]]

        # A host that never had it (a migration, a recovery) defines it with its NICs.
        STOP(driver, {"name": name, "forced": True})
        driver.destroy_vm(name)  # type: ignore[attr-defined]
        _start(driver, name, FRONT, BACK)
        assert _interfaces(driver, name) == both
    finally:
        driver.destroy_vm(name)  # type: ignore[attr-defined]
        driver.close()  # type: ignore[attr-defined]


def test_a_kvm_vm_deployed_and_hot_plugged_comes_back_with_both_nics(settings: Settings) -> None:
    """The whole way on libvirt's test driver: the deploy's start defines the domain with its
    NIC, the hot-plugged one lands in its definition, and the next start has both."""
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver

    runtime = open_runtime(settings, projections=[])
    kvm = Cloud(runtime, driver=lambda _: KvmDriver(stop_timeout=0.1, poll_interval=0.05))
    host = kvm.host("test:///default", hypervisor="KVM")
    zone_id = uuid4()
    front = _network(kvm, zone_id, "10.1.0.0/24", "vlan://101")
    back = _network(kvm, zone_id, "10.2.0.0/24", None)
    vm_id, _ = _deploy(kvm, zone_id, front, host)
    driver = kvm.sessions[str(host.host_id)].driver
    name = kvm.vm(vm_id).instance_name
    try:
        _add_nic(kvm, vm_id, back)
        _stop(kvm, vm_id)
        _start_on(kvm, vm_id, host)
        assert kvm.vm(vm_id).state == "Running"
        front_mac, back_mac = _macs(kvm, vm_id, front, back)
        assert _interfaces(driver, name) == [(front_mac, "101"), (back_mac, None)]
    finally:
        driver.destroy_vm(name)  # type: ignore[union-attr]
        runtime.close()
