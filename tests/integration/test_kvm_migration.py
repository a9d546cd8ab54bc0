"""KVM live migration: on libvirt's test driver, which has no virDomainMigrate, the request fails
definitively naming the call and the guest keeps running where it was; the flags the driver
asks libvirt for follow whether the destination sees the guest's disks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters import Credentials, HypervisorError
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

    with pytest.raises(HypervisorError, match="virDomainMigrate"):
        driver.migrate_vm("vm-1", _node(tmp_path, "destination"))

    assert driver.vm_status("vm-1").state == "Running"
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

    def migrate(self, target: Any, flags: int, *rest: Any) -> str:
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
