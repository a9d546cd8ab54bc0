"""Moving a disk from one primary storage pool to another on a KVM host: the disk's volume is
cloned into the target libvirt pool (virStorageVolCreateXMLFrom, within the host's own
connection), the VM it belongs to is pointed at the copy in its persistent definition, and
the original is deleted. libvirt's test driver clones only within one pool: there the copy is
made and the bytes streamed (that driver takes no streams, so the copy stays as it was made).

Pools are the libvirt pools named by the Stratus pool's id (`adapters.kvm.pools`). A data disk
is the volume ``disk-<id>.qcow2`` (`adapters.kvm.disks`), a root disk ``<vm>-root.qcow2``. The
original is looked for in the source pool, then in the host's other pools (a disk placed on a
pool the host did not have active was made in its own pool). A copy already in the target pool
is the one made before (a repeated request): it is only pointed at and reported.

A running guest's disk is not moved: 4.3 gives KVM no storage motion, and the server refuses it
before asking (libvirt's test driver, what the tests run against, lacks virDomainBlockCopy too).
"""

from __future__ import annotations

import contextlib
import string
import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from adapters import DiskStatus, HypervisorError, NotFoundOnHost, VolumeMove
from adapters.kvm import disks
from adapters.kvm.template_store import stream_volume

GIB = 1024**3


def volume_name(move: VolumeMove) -> str:
    return f"{move.vm_name}-root.qcow2" if move.root else disks.volume_name(move.disk_id)


def move(conn: Any, wanted: VolumeMove) -> DiskStatus:
    """Copy, repoint, delete (see the module's note)."""
    target = _active_pool(conn, wanted.to_pool_id)
    domain = _domain(conn, wanted.vm_name) if wanted.vm_name else None
    if domain is not None and domain.isActive():
        raise HypervisorError(
            f"cannot move a disk of {wanted.vm_name} while it runs: storage motion of a running "
            "guest is not supported on KVM"
        )
    name = volume_name(wanted)
    source = _source(conn, name, wanted.from_pool_id, target.name())
    copy = _in_pool(target, name)
    if copy is None:
        if source is None:
            raise NotFoundOnHost(f"no volume {name} in the storage pools of this KVM host")
        copy = _copy(conn, target, name, source)
    device_id = _repoint(conn, domain, name, copy.path()) if domain is not None else -1
    if source is not None:
        source.delete(0)
    _type, capacity, _allocation = copy.info()
    return DiskStatus(wanted.disk_id, device_id, capacity // GIB, copy.path())


def _active_pool(conn: Any, pool_id: str) -> Any:
    try:
        pool = conn.storagePoolLookupByName(pool_id)
    except libvirt.libvirtError:
        pool = None
    if pool is None or not pool.isActive():
        raise HypervisorError(f"storage pool {pool_id} is not connected to this KVM host")
    return pool


def _domain(conn: Any, name: str) -> Any:
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError:
        raise NotFoundOnHost(f"no VM named {name} on this KVM host") from None


def _in_pool(pool: Any, name: str) -> Any:
    with contextlib.suppress(libvirt.libvirtError):
        return pool.storageVolLookupByName(name)
    return None


def _source(conn: Any, name: str, pool_id: str, target_name: str) -> Any:
    """The original: in the source pool, else in any other active pool but the target."""
    active = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    ordered = sorted(active, key=lambda pool: pool.name() != pool_id)
    for pool in ordered:
        if pool.name() == target_name:
            continue
        found = _in_pool(pool, name)
        if found is not None:
            return found
    return None


def _copy(conn: Any, target: Any, name: str, source: Any) -> Any:
    xml = _copy_xml(name, source)
    try:
        return target.createXMLFrom(xml, source, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise
    # libvirt's test driver clones a volume only within its own pool: the bytes are streamed.
    copy = target.createXML(xml, 0)
    _type, capacity, _allocation = source.info()
    stream_volume(conn, source, conn, copy, capacity)
    return copy


def _copy_xml(name: str, source: Any) -> str:
    _type, capacity, _allocation = source.info()
    volume = ET.Element("volume")
    ET.SubElement(volume, "name").text = name
    ET.SubElement(volume, "capacity", unit="bytes").text = str(capacity)
    ET.SubElement(ET.SubElement(volume, "target"), "format", type="qcow2")
    return ET.tostring(volume, encoding="unicode")


def _repoint(conn: Any, domain: Any, name: str, path: str) -> int:
    """The domain's disk of that volume reads the copy from now on; its slot (-1: none)."""
    definition = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    for disk in definition.iter("disk"):
        source = disk.find("source")
        if source is None or source.get("file", "").rsplit("/", 1)[-1] != name:
            continue
        if source.get("file") != path:
            source.set("file", path)
            conn.defineXML(ET.tostring(definition, encoding="unicode"))
        target = disk.find("target")
        dev = target.get("dev", "") if target is not None else ""
        return string.ascii_lowercase.index(dev[-1]) if dev.startswith("vd") else -1
    return -1
