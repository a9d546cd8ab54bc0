"""The public SSH key a KVM guest is to let in, and its user data, kept in its libvirt domain
metadata.

The key is written into the domain's persistent definition before each start, under Stratus's
namespace (``<sshkey>ssh-rsa AAAA… comment</sshkey>``), where a guest agent or config drive
builder reads it; an empty element means the guest was given none. Only a public key is ever
written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import libvirt

SSH_KEY_URI = "http://stratus.example/xmlns/sshkey/1"


def record_ssh_key(domain: Any, public_key: str) -> None:
    """Write the key into the (stopped) domain's definition; its next start carries it."""
    element = ET.Element("sshkey")
    element.text = public_key
    domain.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        ET.tostring(element, encoding="unicode"),
        "stratuskey",
        SSH_KEY_URI,
        libvirt.VIR_DOMAIN_AFFECT_CONFIG,
    )


def recorded_ssh_key(domain: Any) -> str:
    """The key the domain holds ("" when it was given none)."""
    flags = (
        libvirt.VIR_DOMAIN_AFFECT_LIVE if domain.isActive() else libvirt.VIR_DOMAIN_AFFECT_CONFIG
    )
    try:
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, SSH_KEY_URI, flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return ""
        raise
    return ET.fromstring(text).text or ""


USER_DATA_URI = "http://stratus.example/xmlns/userdata/1"


def record_user_data(domain: Any, user_data: str) -> None:
    """Write the user data (Base64) into the stopped domain's definition, beside the key."""
    element = ET.Element("userdata")
    element.text = user_data
    domain.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        ET.tostring(element, encoding="unicode"),
        "stratususerdata",
        USER_DATA_URI,
        libvirt.VIR_DOMAIN_AFFECT_CONFIG,
    )


def recorded_user_data(domain: Any) -> str:
    """The user data the domain holds ("" when it was given none)."""
    flags = (
        libvirt.VIR_DOMAIN_AFFECT_LIVE if domain.isActive() else libvirt.VIR_DOMAIN_AFFECT_CONFIG
    )
    try:
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, USER_DATA_URI, flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return ""
        raise
    return ET.fromstring(text).text or ""
