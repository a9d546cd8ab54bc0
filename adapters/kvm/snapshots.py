"""KVM snapshots: libvirt's internal domain snapshots, by name.

A memory snapshot of a running domain is libvirt's default; any other is asked for with
``<memory snapshot='no'/>``. (libvirt's test driver records memory for a running domain even
then, and refuses the disk-only flag; on QEMU a disk-only snapshot of a running domain may need
external disk snapshots, which Stratus does not ask for yet.) A revert leaves the domain in the
power state it had before: libvirt would otherwise run it or stop it as the snapshot was.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from adapters import NotFoundOnHost, SnapshotInfo, SnapshotSpec, VmStatus


class KvmSnapshots:
    """The snapshot half of `KvmDriver`, which provides `_find` and `_translated`."""

    _find: Any
    _translated: Any

    def create_snapshot(self, vm_name: str, snapshot: SnapshotSpec) -> SnapshotInfo:
        with self._translated(f"snapshotting {vm_name}"):
            domain = self._find(vm_name)
            found = _lookup(domain, snapshot.name)
            if found is None:
                found = domain.snapshotCreateXML(_snapshot_xml(snapshot, domain.isActive()), 0)
            return SnapshotInfo(snapshot.name, _holds_memory(found))

    def revert_snapshot(self, vm_name: str, snapshot_name: str) -> VmStatus:
        from adapters.kvm.driver import _status

        with self._translated(f"reverting {vm_name} to {snapshot_name}"):
            domain = self._find(vm_name)
            found = _lookup(domain, snapshot_name)
            if found is None:
                raise NotFoundOnHost(f"VM {vm_name} has no snapshot named {snapshot_name}")
            was_active = bool(domain.isActive())
            domain.revertToSnapshot(found, 0)
            if was_active and not domain.isActive():
                domain.create()
            elif not was_active and domain.isActive():
                domain.destroy()
            return _status(domain)

    def delete_snapshot(self, vm_name: str, snapshot_name: str) -> None:
        with self._translated(f"deleting snapshot {snapshot_name} of {vm_name}"):
            domain = self._find(vm_name, missing_ok=True)
            found = None if domain is None else _lookup(domain, snapshot_name)
            if found is not None:
                found.delete(0)

    def list_snapshots(self, vm_name: str) -> tuple[str, ...]:
        with self._translated(f"listing the snapshots of {vm_name}"):
            return tuple(sorted(self._find(vm_name).snapshotListNames(0)))


def _lookup(domain: Any, name: str) -> Any:
    try:
        return domain.snapshotLookupByName(name, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
            return None
        raise


def _snapshot_xml(snapshot: SnapshotSpec, active: bool) -> str:
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "name").text = snapshot.name
    if snapshot.description:
        ET.SubElement(root, "description").text = snapshot.description
    if not (snapshot.memory and active):
        ET.SubElement(root, "memory", snapshot="no")
    return ET.tostring(root, encoding="unicode")


def _holds_memory(snapshot: Any) -> bool:
    """Whether libvirt kept the guest's memory: a snapshot of a running domain with memory."""
    element = ET.fromstring(snapshot.getXMLDesc(0))
    memory = element.find("memory")
    kept = memory is not None and memory.get("snapshot", "no") != "no"
    return kept and element.findtext("state") == "running"
