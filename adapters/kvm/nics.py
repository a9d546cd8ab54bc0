"""A KVM domain's guest NICs: one virtio ``<interface type='bridge'>`` per guest network, named
by its MAC, on the host's guest bridge (``cloudbr0``, CloudStack's KVM default) and tagged with
the network's VLAN when it has one (``vlan://N``).

A NIC is plugged and unplugged with virDomainAttachDeviceFlags / DetachDeviceFlags: live and in
the persistent definition for a running domain, in the definition only for a stopped one. A
libvirt without device hot-plug (the test driver answers VIR_ERR_NO_SUPPORT) gets the NIC
written into the persistent definition, which a running guest sees from its next start, as data
disks and the CD drive do (`adapters.kvm.disks`, `adapters.kvm.cdrom`).

A start names every NIC the VM has, default first: a new domain is defined with them
(`add_to_definition`), and a shut-off one has its definition's NICs made those, in that order,
before it starts (`reconcile`): a NIC added or removed while it was stopped, or a domain left
behind by an earlier start, comes up as Stratus has it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from adapters import NicSpec

GUEST_BRIDGE = "cloudbr0"
_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


def macs(domain: Any) -> tuple[str, ...]:
    """The MACs of the domain's NICs, in the persistent definition's order."""
    return tuple(_mac(i) for i in _interfaces(_devices(domain, inactive=True)))


def plug(conn: Any, domain: Any, nic: NicSpec) -> tuple[str, ...]:
    """Plug the NIC in; a MAC already there changes nothing."""
    if nic.mac_address.lower() not in macs(domain):
        _change(conn, domain, _interface_xml(nic), nic.mac_address, attach=True)
    return macs(domain)


def unplug(conn: Any, domain: Any, mac_address: str) -> tuple[str, ...]:
    """Unplug the NIC with that MAC; one that is not there stays away."""
    for inactive in (True, False):
        for element in _interfaces(_devices(domain, inactive=inactive)):
            if _mac(element) == mac_address.lower():
                _change(conn, domain, element, mac_address, attach=False)
                return macs(domain)
    return macs(domain)


def add_to_definition(devices: ET.Element, nic: NicSpec) -> None:
    """Add the NIC to a domain definition being written (before it is defined)."""
    devices.append(_interface_xml(nic))


def reconcile(conn: Any, domain: Any, wanted: tuple[NicSpec, ...]) -> tuple[str, ...]:
    """Make a shut-off domain's NICs exactly `wanted`, in order; a definition that has them
    already (same MACs, same order) is left as it is."""
    if macs(domain) != tuple(nic.mac_address.lower() for nic in wanted):
        definition, devices = _definition(domain)
        for old in _interfaces(devices):
            devices.remove(old)
        for nic in wanted:
            add_to_definition(devices, nic)
        conn.defineXML(ET.tostring(definition, encoding="unicode"))
    return macs(domain)


def _change(conn: Any, domain: Any, element: ET.Element, mac: str, *, attach: bool) -> None:
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
        _redefine(conn, domain, element if attach else None, mac.lower())


def _redefine(conn: Any, domain: Any, element: ET.Element | None, mac: str) -> None:
    definition, devices = _definition(domain)
    for old in _interfaces(devices):
        if _mac(old) == mac:
            devices.remove(old)
    if element is not None:
        devices.append(element)
    conn.defineXML(ET.tostring(definition, encoding="unicode"))


def _definition(domain: Any) -> tuple[ET.Element, ET.Element]:
    """The domain's persistent definition and its `<devices>` element, to change and define."""
    definition = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    devices = definition.find("devices")
    if devices is None:
        devices = ET.SubElement(definition, "devices")
    return definition, devices


def _interface_xml(nic: NicSpec) -> ET.Element:
    interface = ET.Element("interface", type="bridge")
    ET.SubElement(interface, "mac", address=nic.mac_address.lower())
    ET.SubElement(interface, "source", bridge=GUEST_BRIDGE)
    scheme, _, tag = nic.broadcast_uri.partition("://")
    if scheme == "vlan" and tag.isdigit():
        vlan = ET.SubElement(interface, "vlan")
        ET.SubElement(vlan, "tag", id=tag)
    ET.SubElement(interface, "model", type="virtio")
    return interface


def _devices(domain: Any, *, inactive: bool) -> ET.Element:
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
    devices = ET.fromstring(domain.XMLDesc(flags)).find("devices")
    return devices if devices is not None else ET.Element("devices")


def _interfaces(devices: ET.Element) -> list[ET.Element]:
    return [i for i in devices.findall("interface") if i.find("mac") is not None]


def _mac(interface: ET.Element) -> str:
    found = interface.find("mac")
    return (found.get("address") or "").lower() if found is not None else ""
