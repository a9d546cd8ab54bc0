"""A KVM guest's console: the VNC display its definition gets, with the keyboard layout the VM
was deployed with as the display's keymap (CloudStack's `keyboard`), so a console typed into
from a French keyboard reaches the guest as French keys."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def add_to_definition(devices: ET.Element, keyboard: str) -> None:
    """A VNC display on a port libvirt picks, with `keyboard` as its keymap."""
    ET.SubElement(devices, "graphics", type="vnc", port="-1", autoport="yes", keymap=keyboard)


def keymap(domain_xml: str) -> str:
    """The keymap of a definition's VNC display ("" when it has none)."""
    graphics = ET.fromstring(domain_xml).find("devices/graphics[@type='vnc']")
    return str(graphics.get("keymap", "")) if graphics is not None else ""


def of_domain(domain: Any) -> str:
    """The keymap a defined domain's console has."""
    return keymap(domain.XMLDesc(0))
