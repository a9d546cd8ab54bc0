"""Live migration of a KVM guest, as CloudStack's KVM agent does it: the agent opens the
destination's libvirt and asks the source's to migrate the running domain there
(`virDomainMigrate2`), live, the definition kept only on the destination. Disks the destination
does not see at the same path (local storage) are copied with the guest; disks on storage both
share are not. The destination is handed the definition it is to keep (`destination_xml`).
libvirt's test driver has no migration: it answers VIR_ERR_NO_SUPPORT to every
virDomainMigrate* call (and VIR_ERR_ARGUMENT_UNSUPPORTED to a peer-to-peer one), which fails
the request definitively, naming the call, and the guest keeps running where it was."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import libvirt

from adapters import HypervisorError, NotFoundOnHost

FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)


@dataclass(frozen=True)
class Plan:
    """What the source's libvirt is asked for: the flags and the destination's definition."""

    flags: int
    xml: str


def plan(domain: Any, target: Any) -> Plan:
    flags = FLAGS if shares_disks(domain, target) else FLAGS | libvirt.VIR_MIGRATE_NON_SHARED_DISK
    return Plan(flags, destination_xml(domain))


def destination_xml(domain: Any) -> str:
    """The running guest's definition as the destination is to keep it: libvirt's migratable
    form, with any VNC display's listen address let go (an address of the source does not
    exist on the destination, whose own configuration then says where to listen), its keymap
    (the console keyboard layout the VM was deployed with) kept."""
    root = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE))
    for graphics in root.iterfind("devices/graphics"):
        graphics.attrib.pop("listen", None)
        for listen in graphics.findall("listen"):
            graphics.remove(listen)
    return ET.tostring(root, encoding="unicode")


def find(conn: Any, name: str) -> Any | None:
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
    return None


def migrate(source: Any, target: Any, name: str) -> Any:
    """The domain as it runs on `target` after the move; already there when only `target`
    has it (a repeated request)."""
    domain = find(source, name)
    if domain is None:
        moved = find(target, name)
        if moved is None:
            raise NotFoundOnHost(f"no VM named {name} on this KVM host or its destination")
        return moved
    if not domain.isActive():
        raise HypervisorError(f"cannot migrate {name} live: it is not running")
    asked = plan(domain, target)
    try:
        return domain.migrate2(target, asked.xml, asked.flags, None, None, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            raise HypervisorError(
                f"this libvirt cannot migrate {name} (virDomainMigrate2 is not supported by "
                "its driver)"
            ) from None
        raise


def disk_paths(domain: Any) -> list[str]:
    """The files of the domain's disks (not its CD drive)."""
    root = ET.fromstring(domain.XMLDesc(0))
    paths = []
    for disk in root.iterfind("devices/disk"):
        source = disk.find("source")
        if disk.get("device", "disk") == "disk" and source is not None and source.get("file"):
            paths.append(str(source.get("file")))
    return paths


def shares_disks(domain: Any, target: Any) -> bool:
    """Whether the destination's storage has every disk of the domain at the same path."""
    for path in disk_paths(domain):
        try:
            target.storageVolLookupByPath(path)
        except libvirt.libvirtError:
            return False
    return True
