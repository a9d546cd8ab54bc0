"""Templates in a KVM image store: the pool volume that holds a fetched image.

A directory pool whose path is the image directory already holds the file; any other pool gets
a volume of the image's virtual size and the bytes uploaded into it.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import libvirt

from adapters.kvm import images

log = logging.getLogger("adapters.kvm")


def store_volume(
    conn: libvirt.virConnect, pool: Any, name: str, image: images.Image, image_format: str
) -> Any:
    """The pool's volume for a fetched image.

    A directory pool whose path is the image directory already holds the file: a refresh makes
    libvirt list it. Any other pool gets a volume of the image's virtual size and the bytes
    uploaded into it; a pool that cannot take uploads (libvirt's test driver) keeps the volume
    at that size while the image stays in the image directory.
    """
    if _pool_path(pool) == image.path.parent.resolve():
        pool.refresh(0)
        found = _existing_volume(pool, name)
        if found is not None:
            return found
    volume = _existing_volume(pool, name)
    if volume is not None:
        return volume
    volume = pool.createXML(_template_xml(name, image.virtual_size, image_format), 0)
    _upload(conn, volume, image)
    return volume


def copy_volume(
    store: libvirt.virConnect,
    pool: Any,
    name: str,
    source: tuple[libvirt.virConnect, Any],
    image_format: str,
) -> Any:
    """The pool's volume holding a copy of a host's volume (a template made from a VM's root
    disk). Within one libvirt connection libvirt copies it itself; across connections the
    bytes are streamed from the host into the store, and a side that takes no streams
    (libvirt's test driver) keeps the new volume at the source's size, as `store_volume` does.
    A volume of that name already there is the copy made before."""
    found = _existing_volume(pool, name)
    if found is not None:
        return found
    source_conn, volume = source
    _type, capacity, _allocation = volume.info()
    xml = _template_xml(name, capacity, image_format)
    if source_conn is store:
        return pool.createXMLFrom(xml, volume, 0)
    copy = pool.createXML(xml, 0)
    stream_volume(source_conn, volume, store, copy, capacity)
    return copy


def stream_volume(
    source_conn: libvirt.virConnect, source: Any, store: libvirt.virConnect, copy: Any, size: int
) -> None:
    """Stream a volume's bytes into its copy; a side that takes no streams leaves the copy as
    it was made."""
    downloading, uploading = source_conn.newStream(0), store.newStream(0)
    try:
        source.download(downloading, 0, size, 0)
        copy.upload(uploading, 0, size, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return
        raise
    while block := downloading.recv(images.CHUNK):
        if isinstance(block, int):  # -2: no data yet on a non-blocking stream; not ours
            break
        uploading.send(block)
    downloading.finish()
    uploading.finish()


def upload_blocks(conn: libvirt.virConnect, volume: Any, blocks: Iterable[bytes]) -> int:
    """Stream `blocks` into the volume; how many bytes went in (0 when libvirt takes no
    streams: the volume stays as it was made)."""
    stream = conn.newStream(0)
    try:
        volume.upload(stream, 0, 0, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            log.warning("libvirt takes no volume uploads here: %s keeps no image", volume.name())
            return 0
        raise
    written = 0
    for block in blocks:
        stream.send(block)
        written += len(block)
    stream.finish()
    return written


def _pool_path(pool: Any) -> Path | None:
    path = ET.fromstring(pool.XMLDesc(0)).findtext("target/path")
    return Path(path).resolve() if path else None


def _upload(conn: libvirt.virConnect, volume: Any, image: images.Image) -> None:
    with image.path.open("rb") as source:
        upload_blocks(conn, volume, iter(lambda: source.read(images.CHUNK), b""))


def volume_name(url: str, zone_id: str) -> str:
    file_name = urlsplit(url).path.rsplit("/", 1)[-1] or "template"
    return f"template-{zone_id}-{file_name}"


def _existing_volume(pool: Any, name: str) -> Any:
    try:
        return pool.storageVolLookupByName(name)
    except libvirt.libvirtError:
        return None


def _template_xml(name: str, size_bytes: int, image_format: str) -> str:
    volume = ET.Element("volume")
    ET.SubElement(volume, "name").text = name
    ET.SubElement(volume, "capacity", unit="bytes").text = str(size_bytes)
    target = ET.SubElement(volume, "target")
    ET.SubElement(target, "format", type=image_format.lower())
    return ET.tostring(volume, encoding="unicode")
