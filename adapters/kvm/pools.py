"""Primary storage pools on a KVM host: each pool Stratus hands the host becomes a libvirt
storage pool named by the pool's id (as CloudStack names them), defined once and started.

The pool XML follows the pool's type: NFS is a `netfs` pool mounted under /mnt/<id>, a shared
mount point a `dir` pool at its path, CLVM a `logical` pool of the volume group, RBD an `rbd`
pool on its monitor. Ceph logins are not handed to hosts yet, so an RBD pool with a user is
refused rather than defined without its secret. Facts of libvirt's test driver (what the tests
run against): it defines and starts pools of every type without mounting anything, and answers
their capacity as the figures in the XML (none given: its own defaults).
"""

from __future__ import annotations

import contextlib
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from adapters import HypervisorError, PoolSpec, PoolStatus
from adapters.requests import Unsupported


def is_stratus_pool(name: str) -> bool:
    """Whether a libvirt pool is one Stratus defined (named by a pool's id)."""
    try:
        uuid.UUID(name)
    except ValueError:
        return False
    return True


def pool_xml(pool: PoolSpec) -> str:
    """The libvirt definition of the pool (see the module's note)."""
    root = ET.Element("pool")
    ET.SubElement(root, "name").text = pool.pool_id
    source = ET.SubElement(root, "source")
    target_path = f"/mnt/{pool.pool_id}"
    if pool.pool_type == "NetworkFilesystem":
        root.set("type", "netfs")
        ET.SubElement(source, "host", name=pool.host)
        ET.SubElement(source, "dir", path=pool.path)
        ET.SubElement(source, "format", type="nfs")
    elif pool.pool_type == "SharedMountPoint":
        root.set("type", "dir")
        target_path = pool.path
    elif pool.pool_type == "CLVM":
        root.set("type", "logical")
        group = pool.path.strip("/")
        ET.SubElement(source, "name").text = group
        target_path = f"/dev/{group}"
    elif pool.pool_type == "RBD":
        if pool.user:
            raise Unsupported("handing a Ceph login to a KVM host is not supported yet")
        root.set("type", "rbd")
        host = ET.SubElement(source, "host", name=pool.host)
        if pool.port:
            host.set("port", str(pool.port))
        ET.SubElement(source, "name").text = pool.path.strip("/")
        return ET.tostring(root, encoding="unicode")
    else:
        raise Unsupported(f"{pool.pool_type} pools are not supported yet on KVM")
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "path").text = target_path
    return ET.tostring(root, encoding="unicode")


def connect(conn: Any, pool: PoolSpec) -> PoolStatus:
    """Define the pool if the host has none of its id, start it if it is not active."""
    definition = pool_xml(pool)
    try:
        found = conn.storagePoolLookupByName(pool.pool_id)
    except libvirt.libvirtError:
        found = None
    try:
        if found is None:
            found = conn.storagePoolDefineXML(definition, 0)
        if not found.isActive():
            found.create(0)
        with contextlib.suppress(libvirt.libvirtError):
            found.setAutostart(1)
        _state, capacity, _allocation, available = found.info()
    except libvirt.libvirtError as exc:
        raise HypervisorError(f"storage pool {pool.pool_id}: {exc.get_error_message()}") from None
    return PoolStatus(pool.pool_id, int(capacity), int(available), found.name())
