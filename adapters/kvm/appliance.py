"""What a KVM appliance (a router) records in its libvirt domain metadata: the release it runs
and its daemons' states, under Stratus's own XML namespace."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import libvirt

_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


APPLIANCE_URI = "http://stratus.example/xmlns/appliance/1"


def appliance_metadata(domain: Any) -> ET.Element | None:
    """``<appliance release="4.3.0"><service name="dnsmasq" state="stopped"/></appliance>``"""
    try:
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, APPLIANCE_URI, _LIVE)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return None
        raise
    return ET.fromstring(text)


def service_states(
    element: ET.Element, services: tuple[str, ...], restart: tuple[str, ...]
) -> dict[str, str]:
    recorded = {s.get("name", ""): s for s in element.iter("service")}
    found = {}
    for service in services:
        entry = recorded.get(service)
        state = entry.get("state", "running") if entry is not None else "running"
        if state == "running":
            found[service] = "running"
        elif state == "stopped" and service in restart and entry is not None:
            entry.set("state", "running")
            found[service] = "restarted"
        else:
            found[service] = "failed"
    return found
