"""Data disks on a KVM host: one qcow2 volume per disk (``disk-<volume id>.qcow2``) in the host's
first active storage pool, plugged into the domain as a virtio disk whose target follows the slot
(slot 1 is ``vdb``, 2 ``vdc``, 4 ``vde``; 0 is the root disk ``vda``).

A disk is plugged and unplugged with virDomainAttachDeviceFlags / DetachDeviceFlags: live and in
the persistent definition for a running domain, in the definition only for a stopped one. It is
grown with virDomainBlockResize while the domain runs and virStorageVolResize while it is stopped.

Facts of libvirt's test driver (libvirt 9.0.0, what the tests run against), checked by hand:
attachDevice, attachDeviceFlags, detachDeviceFlags, updateDeviceFlags, blockResize,
storageVolResize and storageVolWipe all answer VIR_ERR_NO_SUPPORT; defineXML of a running domain
changes its persistent definition only (the live XML keeps its devices until the next start);
storage volumes are created, looked up by path, listed and deleted, and keep the capacity they
were made with; blockInfo answers fixed figures (1 TiB), not the volume's size.

So a connection without device hot-plug gets the disk written into the domain's persistent
definition (defineXML), which a running guest sees from its next start: `PlugResult.live` says
which happened. A host that cannot resize answers a definitive failure naming libvirt's call.
"""

from __future__ import annotations

import contextlib
import logging
import string
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import libvirt

from adapters import DiskSpec, DiskStatus, HypervisorError

log = logging.getLogger("adapters.kvm")

GIB = 1024**3
_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
_PREFIX = "disk-"


@dataclass(frozen=True)
class PlugResult:
    status: DiskStatus
    live: bool  # the running guest has it now (False: from its next start)


def volume_name(disk_id: str) -> str:
    return f"{_PREFIX}{disk_id}.qcow2"


def target_dev(device_id: int) -> str:
    """The virtio target of a slot: 0 → vda, 1 → vdb, ..."""
    if not 0 <= device_id < len(string.ascii_lowercase):
        raise HypervisorError(f"slot {device_id} has no virtio disk name on KVM")
    return f"vd{string.ascii_lowercase[device_id]}"


def plug(conn: Any, pool: Any, domain: Any, disk: DiskSpec) -> PlugResult:
    """Make the disk's volume if the pool has none, and plug it into its slot (see above)."""
    found = _disk_element(domain, disk.disk_id)
    if found is not None:
        return PlugResult(_status_of(conn, found), live=_in_live(domain, disk.disk_id))
    dev = target_dev(disk.device_id)
    if dev in _targets(domain):
        raise HypervisorError(f"slot {disk.device_id} ({dev}) of {domain.name()} is taken")
    volume = _volume(pool, disk)
    element = _disk_xml(volume.path(), dev, disk.disk_id)
    add_iotune(element, disk.io_limits)
    active = bool(domain.isActive())
    try:
        domain.attachDeviceFlags(ET.tostring(element, encoding="unicode"), _flags(active))
        live = active
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        _redefine(conn, domain, lambda devices: devices.append(element))
        live = False
        if active:
            log.warning(
                "%s: this libvirt cannot hot-plug disks; disk %s is in the definition and the "
                "guest sees it from its next start",
                domain.name(),
                disk.disk_id,
            )
    return PlugResult(_status(volume, disk.disk_id, dev), live)


def unplug(conn: Any, domain: Any, disk_id: str) -> bool:
    """Take the disk out of the domain (the volume stays); False when it was not plugged."""
    element = _disk_element(domain, disk_id)
    if element is None:
        return False
    live = _in_live(domain, disk_id)
    try:
        flags = _CONFIG | (_LIVE if live else 0)
        domain.detachDeviceFlags(ET.tostring(element, encoding="unicode"), flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        _redefine(conn, domain, lambda devices: _remove(devices, disk_id))
    return True


def resize(conn: Any, domain: Any, disk_id: str, size_gb: int, *, shrink_ok: bool) -> DiskStatus:
    """Give a plugged disk a new size: blockResize while running, volume resize while not."""
    element = _disk_element(domain, disk_id)
    if element is None:
        raise HypervisorError(f"no disk {disk_id} is attached to {domain.name()}")
    current = _status_of(conn, element)
    if size_gb == current.size_gb:
        return current
    if size_gb < current.size_gb and not shrink_ok:
        raise HypervisorError(f"disk {disk_id} of {domain.name()} would shrink: not allowed")
    if domain.isActive():
        flags = libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES
        domain.blockResize(current.location, size_gb * GIB, flags)
    else:
        shrink = libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK if size_gb < current.size_gb else 0
        conn.storageVolLookupByPath(current.location).resize(size_gb * GIB, shrink)
    return _status_of(conn, element)


def disks_of(conn: Any, domain: Any) -> tuple[DiskStatus, ...]:
    """The data disks in the domain's persistent definition, by slot."""
    found = [_status_of(conn, e) for e in _data_disks(_devices(domain, inactive=True))]
    return tuple(sorted(found, key=lambda disk: disk.device_id))


def add_to_definition(devices: ET.Element, pool: Any, disk: DiskSpec) -> None:
    """A new domain's definition gets the disk from the start."""
    volume = _volume(pool, disk)
    element = _disk_xml(volume.path(), target_dev(disk.device_id), disk.disk_id)
    add_iotune(element, disk.io_limits)
    devices.append(element)


# Stratus's I/O throttling rates and libvirt's names for them (as 4.3's KVM agent writes them).
IOTUNE = {
    "bytes_read_rate": "read_bytes_sec",
    "bytes_write_rate": "write_bytes_sec",
    "iops_read_rate": "read_iops_sec",
    "iops_write_rate": "write_iops_sec",
}


def add_iotune(disk: ET.Element, limits: dict[str, int]) -> None:
    """Throttle a disk (libvirt `<iotune>`): QEMU holds the guest to these rates per second."""
    if not limits:
        return
    tune = ET.SubElement(disk, "iotune")
    for key, name in IOTUNE.items():
        if limits.get(key):
            ET.SubElement(tune, name).text = str(limits[key])


# Helpers ---------------------------------------------------------------------------------------


def _flags(active: bool) -> int:
    return _CONFIG | _LIVE if active else _CONFIG


def _volume(pool: Any, disk: DiskSpec) -> Any:
    name = volume_name(disk.disk_id)
    with contextlib.suppress(libvirt.libvirtError):
        return pool.storageVolLookupByName(name)
    volume = ET.Element("volume")
    ET.SubElement(volume, "name").text = name
    ET.SubElement(volume, "capacity", unit="GiB").text = str(disk.size_gb)
    ET.SubElement(ET.SubElement(volume, "target"), "format", type="qcow2")
    return pool.createXML(ET.tostring(volume, encoding="unicode"), 0)


def _disk_xml(path: str, dev: str, disk_id: str) -> ET.Element:
    disk = ET.Element("disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="qcow2")
    ET.SubElement(disk, "source", file=path)
    ET.SubElement(disk, "target", dev=dev, bus="virtio")
    # The guest sees the volume's id (as much as virtio keeps) as the disk's serial number.
    ET.SubElement(disk, "serial").text = disk_id.replace("-", "")[:20]
    return disk


def _devices(domain: Any, *, inactive: bool) -> ET.Element:
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
    devices = ET.fromstring(domain.XMLDesc(flags)).find("devices")
    return devices if devices is not None else ET.Element("devices")


def _data_disks(devices: ET.Element) -> list[ET.Element]:
    return [
        disk
        for disk in devices.findall("disk")
        if _source(disk).rsplit("/", 1)[-1].startswith(_PREFIX)
    ]


def _source(disk: ET.Element) -> str:
    source = disk.find("source")
    return source.get("file", "") if source is not None else ""


def _named(disks: list[ET.Element], disk_id: str) -> ET.Element | None:
    wanted = volume_name(disk_id)
    return next((d for d in disks if _source(d).rsplit("/", 1)[-1] == wanted), None)


def _disk_element(domain: Any, disk_id: str) -> ET.Element | None:
    """The disk in the persistent definition, else in the live one."""
    for inactive in (True, False):
        found = _named(_data_disks(_devices(domain, inactive=inactive)), disk_id)
        if found is not None:
            return found
    return None


def _in_live(domain: Any, disk_id: str) -> bool:
    if not domain.isActive():
        return False
    return _named(_data_disks(_devices(domain, inactive=False)), disk_id) is not None


def _targets(domain: Any) -> set[str]:
    found = set()
    for inactive in (True, False):
        for disk in _devices(domain, inactive=inactive).findall("disk"):
            target = disk.find("target")
            if target is not None:
                found.add(target.get("dev", ""))
    return found


def _remove(devices: ET.Element, disk_id: str) -> None:
    found = _named(_data_disks(devices), disk_id)
    if found is not None:
        devices.remove(found)


def _redefine(conn: Any, domain: Any, change: Any) -> None:
    """Write a changed persistent definition (a running domain takes it at its next start)."""
    definition = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    devices = definition.find("devices")
    if devices is None:
        devices = ET.SubElement(definition, "devices")
    change(devices)
    conn.defineXML(ET.tostring(definition, encoding="unicode"))


def _status_of(conn: Any, element: ET.Element) -> DiskStatus:
    path = _source(element)
    volume = conn.storageVolLookupByPath(path)
    disk_id = path.rsplit("/", 1)[-1][len(_PREFIX) : -len(".qcow2")]
    target = element.find("target")
    return _status(volume, disk_id, target.get("dev", "") if target is not None else "")


def _status(volume: Any, disk_id: str, dev: str) -> DiskStatus:
    _type, capacity, _allocation = volume.info()
    device_id = string.ascii_lowercase.index(dev[-1]) if dev.startswith("vd") else -1
    return DiskStatus(disk_id, device_id, capacity // GIB, volume.path())
