"""Live migration of a KVM guest, as CloudStack's KVM agent does it: the agent opens the
destination's libvirt and asks the source's to migrate the running domain there
(`virDomainMigrate`), live, the definition kept only on the destination. Disks the destination
does not see at the same path (local storage) are copied with the guest; disks on storage both
share are not. libvirt's test driver has no migration: it answers VIR_ERR_NO_SUPPORT, which
fails the request definitively, naming the call, and the guest keeps running where it was."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from adapters import HypervisorError, NotFoundOnHost

FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)


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
    flags = FLAGS if shares_disks(domain, target) else FLAGS | libvirt.VIR_MIGRATE_NON_SHARED_DISK
    try:
        return domain.migrate(target, flags, None, None, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            raise HypervisorError(
                f"this libvirt cannot migrate {name} (virDomainMigrate is not supported by "
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
