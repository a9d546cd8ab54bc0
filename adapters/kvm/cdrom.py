"""A KVM domain's CD drive: one IDE cdrom (``hdc``) reading an ISO from a storage pool.

The ISO is the image store's volume for it (named by `template_store.volume_name`), found in
one of the host's active pools: the host must see the zone's image store. The drive is changed
with virDomainAttachDeviceFlags / DetachDeviceFlags (live and in the definition while the domain
runs, in the definition while it is stopped); a libvirt without device hot-plug (the test
driver) gets the drive written into the persistent definition, which a running guest sees from
its next start, as data disks do (`adapters.kvm.disks`).
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from adapters import HypervisorError, IsoSpec
from adapters.kvm import template_store

TARGET = "hdc"
_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


def iso_path(conn: Any, iso: IsoSpec) -> str:
    """Where the host reads the ISO: its image-store volume in one of the host's pools."""
    name = template_store.volume_name(iso.url, iso.zone_id)
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        with contextlib.suppress(libvirt.libvirtError):
            return str(pool.storageVolLookupByName(name).path())
    raise HypervisorError(
        f"ISO {iso.iso_id} ({name}) is in no storage pool of this host: the host must see the "
        "zone's image store"
    )


def inserted(domain: Any) -> str | None:
    """The file the CD drive reads (the persistent definition first), None when empty."""
    for inactive in (True, False):
        drive = _drive(_devices(domain, inactive=inactive))
        if drive is not None:
            source = drive.find("source")
            return source.get("file") if source is not None else None
    return None


def insert(conn: Any, domain: Any, path: str) -> None:
    """Put the file in the CD drive; the same file again changes nothing, another is refused."""
    current = inserted(domain)
    if current == path:
        return
    if current is not None:
        raise HypervisorError(f"the CD drive of {domain.name()} holds {current} already")
    element = drive_element(path)
    _change(conn, domain, element, attach=True)


def eject(conn: Any, domain: Any) -> None:
    """Take the CD drive out (an empty drive stays empty)."""
    for inactive in (True, False):
        drive = _drive(_devices(domain, inactive=inactive))
        if drive is not None:
            _change(conn, domain, drive, attach=False)
            return


def _change(conn: Any, domain: Any, element: ET.Element, *, attach: bool) -> None:
    flags = _CONFIG | (_LIVE if domain.isActive() else 0)
    xml = ET.tostring(element, encoding="unicode")
    try:
        if attach:
            domain.attachDeviceFlags(xml, flags)
        else:
            domain.detachDeviceFlags(xml, flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        _redefine(conn, domain, element if attach else None)


def _redefine(conn: Any, domain: Any, element: ET.Element | None) -> None:
    definition = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    devices = definition.find("devices")
    if devices is None:
        devices = ET.SubElement(definition, "devices")
    old = _drive(devices)
    if old is not None:
        devices.remove(old)
    if element is not None:
        devices.append(element)
    conn.defineXML(ET.tostring(definition, encoding="unicode"))


def drive_element(path: str) -> ET.Element:
    """The CD drive reading the file (a new domain's definition gets it as it is)."""
    disk = ET.Element("disk", type="file", device="cdrom")
    ET.SubElement(disk, "driver", name="qemu", type="raw")
    ET.SubElement(disk, "source", file=path)
    ET.SubElement(disk, "target", dev=TARGET, bus="ide")
    ET.SubElement(disk, "readonly")
    return disk


def _devices(domain: Any, *, inactive: bool) -> ET.Element:
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
    devices = ET.fromstring(domain.XMLDesc(flags)).find("devices")
    return devices if devices is not None else ET.Element("devices")


def _drive(devices: ET.Element) -> ET.Element | None:
    for disk in devices.findall("disk"):
        target = disk.find("target")
        if disk.get("device") == "cdrom" and target is not None and target.get("dev") == TARGET:
            return disk
    return None
