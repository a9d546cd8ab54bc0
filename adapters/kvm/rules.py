"""The rule set a KVM router holds, kept in its libvirt domain metadata under Stratus's own
namespace, where the router's agent reads it: ``<rules generation="N">[…JSON…]</rules>``, and
the haproxy configuration of its load balancers beside it (``<haproxy>`` with the text and a
SHA-256 of each certificate bundle; never a private key)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from adapters.haproxy import BalancerConfig

RULES_URI = "http://stratus.example/xmlns/rules/1"
HAPROXY_URI = "http://stratus.example/xmlns/haproxy/1"
ACLS_URI = "http://stratus.example/xmlns/acls/1"  # a VPC router's network ACLs, per tier
_KEYS = {RULES_URI: "stratusrules", ACLS_URI: "stratusacls"}
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


def metadata_text(domain: Any, uri: str) -> str | None:
    """The domain's live metadata element under `uri`, None when it has none."""
    try:
        text: str = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, uri, _LIVE)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return None
        raise
    return text


def held_rules(domain: Any, uri: str = RULES_URI) -> tuple[int, list[dict[str, Any]]]:
    """The generation and rules the router holds ((0, []) when it was given none); `uri`
    names the set (ACLS_URI: its network ACLs)."""
    try:
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, uri, _LIVE)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return 0, []
        raise
    element = ET.fromstring(text)
    return int(element.get("generation", "0")), json.loads(element.text or "[]")


def held_balancer(domain: Any) -> tuple[str, dict[str, str]]:
    """The haproxy configuration the router was given and its bundles' digests."""
    try:
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, HAPROXY_URI, _LIVE)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return "", {}
        raise
    element = ET.fromstring(text)
    config = element.find("config")
    digests = {c.get("id", ""): c.get("sha256", "") for c in element.iter("certificate")}
    return (config.text or "") if config is not None else "", digests


def _hold_balancer(domain: Any, balancer: BalancerConfig) -> None:
    element = ET.Element("haproxy")
    ET.SubElement(element, "config").text = balancer.text
    for cert_id, digest in sorted(balancer.digests().items()):
        ET.SubElement(element, "certificate", id=cert_id, sha256=digest)
    domain.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        ET.tostring(element, encoding="unicode"),
        "stratushaproxy",
        HAPROXY_URI,
        _LIVE,
    )


def hold_rules(
    domain: Any,
    generation: int,
    rules: tuple[dict[str, Any], ...],
    balancer: BalancerConfig | None = None,
    uri: str = RULES_URI,
) -> int:
    """Record the set unless the router holds a newer one; returns the generation it holds."""
    held, _ = held_rules(domain, uri)
    if held >= generation:
        return held
    if balancer is not None:
        _hold_balancer(domain, balancer)
    element = ET.Element("rules", generation=str(generation))
    element.text = json.dumps(list(rules), sort_keys=True)
    domain.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        ET.tostring(element, encoding="unicode"),
        _KEYS[uri],
        uri,
        _LIVE,
    )
    return generation
