"""KVM live migration as far as libvirt's test driver lets it be shown.

The test driver has no migration at all: virDomainMigrate, virDomainMigrate2 and
virDomainMigrate3 answer VIR_ERR_NO_SUPPORT, peer-to-peer virDomainMigrateToURI* answers
VIR_ERR_ARGUMENT_UNSUPPORTED, and so do the migration job and speed calls. What it does show is
everything the driver prepares before the call, from real domains on two test-driver hosts: the
flags (disks the destination does not see are copied) and the definition the destination is to
keep (the console's keymap kept, a listen address of the source let go). Then the real call
fails definitively naming it, and the guest keeps running where it was. How libvirt itself
moves a guest is only shown against a stand-in connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters import Credentials, HypervisorError, VmSpec
from adapters.kvm import migration
from tests.integration.hypervisor_peers import KVM_NODE_XML
from tests.integration.test_hypervisor_contract import spec

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")


def _node(tmp_path: Path, name: str) -> Credentials:
    node = tmp_path / f"{name}.xml"
    node.write_text(KVM_NODE_XML)
    return Credentials(f"test://{node}", "admin", "kvm-password")


def test_a_libvirt_without_migration_fails_definitively_and_the_guest_stays(
    tmp_path: Path,
) -> None:
    from adapters.kvm.driver import KvmDriver

    driver = KvmDriver(stop_timeout=5.0, poll_interval=0.05)
    driver.connect(_node(tmp_path, "source"))
    driver.start_vm(spec())

    with pytest.raises(HypervisorError, match="virDomainMigrate2 is not supported"):
        driver.migrate_vm("vm-1", _node(tmp_path, "destination"))

    assert driver.vm_status("vm-1").state == "Running"
    driver.close()


def _connected(tmp_path: Path, name: str) -> Any:
    """A KVM driver connected to a test-driver host of its own."""
    from adapters.kvm.driver import KvmDriver

    driver = KvmDriver(stop_timeout=5.0, poll_interval=0.05, image_dir=tmp_path / "images")
    driver.connect(_node(tmp_path, name))
    return driver


def test_the_test_driver_has_no_migration_call_of_any_kind(tmp_path: Path) -> None:
    source_driver, target_driver = _connected(tmp_path, "source"), _connected(tmp_path, "target")
    source_driver.start_vm(spec())
    target = target_driver._require()
    domain = source_driver._require().lookupByName("vm-1")
    calls = {
        "virDomainMigrate": lambda: domain.migrate(target, migration.FLAGS, None, None, 0),
        "virDomainMigrate2": lambda: domain.migrate2(target, None, migration.FLAGS, None, None, 0),
        "virDomainMigrate3": lambda: domain.migrate3(target, {}, migration.FLAGS),
        "virDomainMigrateSetMaxSpeed": lambda: domain.migrateSetMaxSpeed(100, 0),
        "virDomainGetJobInfo": lambda: domain.jobInfo(),
    }
    for name, call in calls.items():
        with pytest.raises(libvirt.libvirtError) as refused:
            call()
        assert refused.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT, name
    peer_to_peer = migration.FLAGS | libvirt.VIR_MIGRATE_PEER2PEER
    with pytest.raises(libvirt.libvirtError) as refused:
        domain.migrateToURI3(_node(tmp_path, "target").url, {}, peer_to_peer)
    assert refused.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
    source_driver.close()
    target_driver.close()


def test_what_a_migration_asks_of_libvirt_is_built_from_the_running_guest(tmp_path: Path) -> None:
    from adapters.kvm import console

    driver, destination = _connected(tmp_path, "source"), _connected(tmp_path, "destination")
    guest = VmSpec("vm-kb", 1, 1000, 256, root_disk_gb=1, keyboard="fr")
    driver.start_vm(guest)
    source = driver._require()
    target = destination._require()
    domain = source.lookupByName("vm-kb")

    asked = migration.plan(domain, target)
    # Its ROOT disk is on the source's own storage: the destination does not see it.
    assert migration.disk_paths(domain) and not migration.shares_disks(domain, target)
    assert asked.flags == migration.FLAGS | libvirt.VIR_MIGRATE_NON_SHARED_DISK
    assert console.keymap(asked.xml) == "fr"
    assert migration.disk_paths(domain)[0] in asked.xml

    # A display bound to an address of the source is let go of that address.
    listening = source.defineXML(
        "<domain type='test'><name>vm-listen</name><memory unit='MiB'>64</memory>"
        "<vcpu>1</vcpu><os><type>hvm</type></os><devices>"
        "<graphics type='vnc' port='-1' autoport='yes' listen='192.0.2.10' keymap='de'>"
        "<listen type='address' address='192.0.2.10'/></graphics></devices></domain>"
    )
    listening.create()
    moved = migration.destination_xml(listening)
    assert "192.0.2.10" not in moved and console.keymap(moved) == "de"

    with pytest.raises(HypervisorError, match="virDomainMigrate2"):
        driver.migrate_vm("vm-kb", _node(tmp_path, "destination"))
    assert driver.vm_status("vm-kb").state == "Running"
    destination.close()
    driver.close()


class _Domain:
    """A running domain whose migrate call is recorded (the test driver has none to call)."""

    def __init__(self, disk: str) -> None:
        self.disk = disk
        self.asked: list[int] = []

    def isActive(self) -> bool:
        return True

    def XMLDesc(self, flags: int) -> str:
        return (
            "<domain><devices><disk type='file' device='disk'>"
            f"<source file='{self.disk}'/></disk></devices></domain>"
        )

    def migrate2(self, target: Any, xml: str, flags: int, *rest: Any) -> str:
        assert self.disk in xml  # the destination keeps the guest's definition
        self.asked.append(flags)
        return "moved"


class _Conn:
    def __init__(self, domain: _Domain | None, volumes: set[str]) -> None:
        self.domain, self.volumes = domain, volumes

    def lookupByName(self, name: str) -> _Domain:
        if self.domain is None:
            raise libvirt.libvirtError("no domain")
        return self.domain

    def storageVolLookupByPath(self, path: str) -> str:
        if path not in self.volumes:
            raise libvirt.libvirtError("no volume")
        return path


def test_disks_the_destination_does_not_see_are_copied_with_the_guest() -> None:
    domain = _Domain("/var/lib/libvirt/images/vm-1-root.qcow2")
    assert migration.migrate(_Conn(domain, set()), _Conn(None, set()), "vm-1") == "moved"
    shared = _Conn(None, {domain.disk})
    assert migration.migrate(_Conn(domain, set()), shared, "vm-1") == "moved"
    copied, kept = domain.asked
    assert copied == migration.FLAGS | libvirt.VIR_MIGRATE_NON_SHARED_DISK
    assert kept == migration.FLAGS
    assert kept & libvirt.VIR_MIGRATE_LIVE and kept & libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
