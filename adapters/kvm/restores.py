"""The last restore a KVM guest's root disk was made anew by, kept in its libvirt domain metadata
(``<restore id="…"/>`` under Stratus's namespace), so a repeated restore request acts once."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import libvirt

RESTORE_URI = "http://stratus.example/xmlns/restore/1"


def record_restore(domain: Any, restore_id: str) -> None:
    element = ET.Element("restore", id=restore_id)
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if domain.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    domain.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        ET.tostring(element, encoding="unicode"),
        "stratusrestore",
        RESTORE_URI,
        flags,
    )


def recorded_restore(domain: Any) -> str:
    """The id of the restore that made the root disk last ("" when none did)."""
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    try:
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, RESTORE_URI, flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return ""
        raise
    return ET.fromstring(text).get("id", "")
