"""KVM snapshots: libvirt's internal domain snapshots, by name.

A memory snapshot of a running domain is libvirt's default; any other is asked for with
``<memory snapshot='no'/>``. (libvirt's test driver records memory for a running domain even
then, and refuses the disk-only flag; on QEMU a disk-only snapshot of a running domain may need
external disk snapshots, which Stratus does not ask for yet.) A revert leaves the domain in the
power state it had before: libvirt would otherwise run it or stop it as the snapshot was.

A volume snapshot's copy for an image store (`snapshot_image`) is the disk's qcow2 volume, which
holds the internal snapshot by name, streamed out of its pool (virStorageVolDownload). libvirt's
test driver streams no volume (VIR_ERR_NO_SUPPORT); there the copy is a QCOW2 header stating the
disk's virtual size, as a template copied there keeps the source's size and not its content.
"""

from __future__ import annotations

import contextlib
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import libvirt

from adapters import HypervisorError, NotFoundOnHost, SnapshotInfo, SnapshotSpec, VmStatus
from adapters.image_checks import QCOW2_MAGIC
from adapters.kvm import disks

CHUNK = 1024 * 1024


class KvmSnapshots:
    """The snapshot half of `KvmDriver`, which provides `_find` and `_translated`."""

    _find: Any
    _translated: Any
    _require: Any

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

    def snapshot_image(
        self, vm_name: str, snapshot_name: str, disk_id: str = ""
    ) -> Iterator[bytes]:
        """The bytes of the disk a volume snapshot was taken of (the data disk `disk_id`, else
        the ROOT disk), its internal snapshot `snapshot_name` inside, streamed from its pool."""
        with self._translated(f"reading snapshot {snapshot_name} of {vm_name}"):
            if _lookup(self._find(vm_name), snapshot_name) is None:
                raise NotFoundOnHost(f"VM {vm_name} has no snapshot named {snapshot_name}")
            conn = self._require()
            volume = pool_volume(
                conn, disks.volume_name(disk_id) if disk_id else f"{vm_name}-root.qcow2"
            )
            _type, capacity, _allocation = volume.info()
            stream = conn.newStream(0)
            try:
                volume.download(stream, 0, 0, 0)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                    raise
                return iter([empty_qcow2(capacity)])
        return self._received(stream, f"streaming snapshot {snapshot_name} of {vm_name}")

    def _received(self, stream: Any, what: str) -> Iterator[bytes]:
        with self._translated(what):
            try:
                while block := stream.recv(CHUNK):
                    if isinstance(block, int):  # -2: a non-blocking stream's "not yet"
                        raise HypervisorError(f"{what}: the stream would block")
                    yield block
                stream.finish()
            except BaseException:
                with contextlib.suppress(libvirt.libvirtError):
                    stream.abort()
                raise

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


def pool_volume(conn: Any, name: str) -> Any:
    """The volume of that name in any active pool of the host (a disk may have been moved)."""
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        with contextlib.suppress(libvirt.libvirtError):
            return pool.storageVolLookupByName(name)
    raise NotFoundOnHost(f"no volume {name} in the active storage pools of this KVM host")


def empty_qcow2(virtual_size: int) -> bytes:
    """A QCOW2 (version 3) header stating `virtual_size` bytes and holding no data."""
    no_backing_file, cluster_bits = bytes(12), struct.pack(">I", 16)
    return (
        QCOW2_MAGIC + struct.pack(">I", 3) + no_backing_file + cluster_bits
        + struct.pack(">Q", virtual_size)
    )  # fmt: skip
