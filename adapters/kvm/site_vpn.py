"""The site-to-site VPN connections a KVM VPC router holds, kept in its libvirt domain
metadata under Stratus's own namespace, where the router's agent reads them:
``<sitevpns>{"<connection id>": {"generation": N, "ends": {…}, "psk_sha256": "…"}}</sitevpns>``.
A dropped connection keeps its generation with no ends, so an older request cannot bring it
back. The pre-shared key itself is never written: only its SHA-256 digest.

A tunnel check sees the routers of the host it is asked on: a connection of the router is up
when a connection held by another running router of the same host mirrors it (two VPCs whose
routers share a host; a far end elsewhere cannot be seen from here, and counts as down)."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from adapters import SiteVpnConfig
from adapters.kvm.rules import metadata_text
from adapters.site_vpn import tunnel_up

SITE_VPN_URI = "http://stratus.example/xmlns/site-vpn/1"
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


def held_connections(domain: Any) -> dict[str, dict[str, Any]]:
    """Every connection the router was given, by id ({} when none)."""
    text = metadata_text(domain, SITE_VPN_URI)
    if text is None:
        return {}
    held: dict[str, dict[str, Any]] = json.loads(ET.fromstring(text).text or "{}")
    return held


def hold_connection(domain: Any, connection: SiteVpnConfig) -> int:
    """Record the connection (or its removal) unless a newer generation of it is held;
    returns the generation held."""
    held = held_connections(domain)
    current = held.get(connection.connection_id)
    if current is not None and int(current["generation"]) >= connection.generation:
        return int(current["generation"])
    held[connection.connection_id] = {
        "generation": connection.generation,
        "ends": None if connection.removing else connection.ends,
        "psk_sha256": (
            None if connection.removing else hashlib.sha256(connection.psk.encode()).hexdigest()
        ),
    }
    element = ET.Element("sitevpns")
    element.text = json.dumps(held, sort_keys=True)
    domain.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        ET.tostring(element, encoding="unicode"),
        "stratussitevpn",
        SITE_VPN_URI,
        _LIVE,
    )
    return connection.generation


def _live_ends(domain: Any) -> list[dict[str, Any]]:
    """The connections a router holds now (dropped ones left out), as the check compares them."""
    return [
        {**held["ends"], "psk_sha256": held["psk_sha256"]}
        for held in held_connections(domain).values()
        if held.get("ends")
    ]


def connected_peers(conn: Any, domain: Any, peers: tuple[str, ...]) -> tuple[str, ...]:
    """Of `peers`, the far gateways the router `domain` has a tunnel up to."""
    own = _live_ends(domain)
    others: list[dict[str, Any]] = []
    for other in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        if other.name() != domain.name():
            others.extend(_live_ends(other))
    return tuple(p for p in peers if tunnel_up(p, own, others))
