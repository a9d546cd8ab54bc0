"""Security group rules and remote access VPNs on KVM, through libvirt.

A VM's rules become an nwfilter, ``stratus-sg-<vm>``: each allowed rule accepts its protocol
and ports from (ingress) or to (egress) its CIDR, established traffic is accepted, and the rest
of the ingress (and, once egress rules exist, the egress) is dropped, as CloudStack's security
groups behave. The rule set is also recorded in the domain's metadata under Stratus's namespace
(``<securitygroups filter="…">[…JSON…]</securitygroups>``), which is what the driver reports.
libvirt's test driver has no nwfilter support: there only the metadata is written.

A router's VPN is recorded in its metadata for its agent: the addresses, the user names and a
SHA-256 digest of the pre-shared key. Passwords and the key itself are never written there.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from ipaddress import ip_network
from typing import Any

import libvirt

from adapters import VpnConfig

SECURITY_URI = "http://stratus.example/xmlns/securitygroups/1"
VPN_URI = "http://stratus.example/xmlns/vpn/1"
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG


def filter_name(vm_name: str) -> str:
    return f"stratus-sg-{vm_name}"


def nwfilter_xml(vm_name: str, rules: tuple[dict[str, Any], ...]) -> str:
    root = ET.Element("filter", name=filter_name(vm_name), chain="root")
    established = ET.SubElement(root, "rule", action="accept", direction="inout", priority="100")
    ET.SubElement(established, "all", state="ESTABLISHED,RELATED")
    for rule in rules:
        inbound = rule["direction"] == "ingress"
        element = ET.SubElement(
            root, "rule", action="accept", direction="in" if inbound else "out", priority="500"
        )
        ET.SubElement(element, rule["protocol"], _match(rule, inbound))
    ET.SubElement(
        ET.SubElement(root, "rule", action="drop", direction="in", priority="1000"), "all"
    )
    if any(rule["direction"] == "egress" for rule in rules):
        ET.SubElement(
            ET.SubElement(root, "rule", action="drop", direction="out", priority="1000"), "all"
        )
    return ET.tostring(root, encoding="unicode")


def _match(rule: dict[str, Any], inbound: bool) -> dict[str, str]:
    network = ip_network(rule["cidr"], strict=False)
    side = "src" if inbound else "dst"
    attributes = {f"{side}ipaddr": str(network.network_address)}
    attributes[f"{side}ipmask"] = str(network.prefixlen)
    if rule["protocol"] in ("tcp", "udp"):
        attributes.update(dstportstart=str(rule["start"]), dstportend=str(rule["end"]))
    elif rule["protocol"] == "icmp" and rule["start"] >= 0:
        attributes["type"] = str(rule["start"])
        if rule["end"] >= 0:
            attributes["code"] = str(rule["end"])
    return attributes


def define_filter(conn: Any, vm_name: str, rules: tuple[dict[str, Any], ...]) -> bool:
    """Define (or redefine) the VM's nwfilter; False when the connection has no nwfilters."""
    try:
        conn.nwfilterDefineXML(nwfilter_xml(vm_name, rules))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return False
        raise
    return True


def _flags(domain: Any) -> int:
    return int(_LIVE if domain.isActive() else _CONFIG)


def record_rules(domain: Any, vm_name: str, rules: tuple[dict[str, Any], ...]) -> None:
    element = ET.Element("securitygroups", filter=filter_name(vm_name))
    element.text = json.dumps(list(rules), sort_keys=True)
    domain.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        ET.tostring(element, encoding="unicode"),
        "stratussg",
        SECURITY_URI,
        _flags(domain),
    )


def recorded_rules(domain: Any) -> list[dict[str, Any]]:
    try:
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, SECURITY_URI, _flags(domain))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return []
        raise
    return list(json.loads(ET.fromstring(text).text or "[]"))


def record_vpn(domain: Any, vpn: VpnConfig) -> dict[str, Any]:
    """Write (or, removing, clear) the router's VPN metadata; its state and user count."""
    if vpn.removing:
        element = ET.Element("vpn", state="Removed")
    else:
        element = ET.Element(
            "vpn",
            state="Running",
            public_ip=vpn.public_ip,
            local_ip=vpn.local_ip,
            ip_range=vpn.ip_range,
            key_sha256=hashlib.sha256(vpn.preshared_key.encode()).hexdigest(),
        )
        for username, _password in vpn.users:
            ET.SubElement(element, "user", name=username)
    domain.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        ET.tostring(element, encoding="unicode"),
        "stratusvpn",
        VPN_URI,
        _LIVE,
    )
    return {"state": element.get("state"), "users": 0 if vpn.removing else len(vpn.users)}
