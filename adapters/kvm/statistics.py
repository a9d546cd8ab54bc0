"""Counters of a KVM domain as libvirt reports them: its interfaces' bytes and its disks'
operations and bytes, both counted since the domain was started.

The epoch is the domain's uuid and id; libvirt gives a domain a new id at each start (a reboot
keeps it, and keeps the counters too). A disk's slot is the index of its target's last letter
(``vda`` 0, ``vdb`` 1, ``hdc`` 2), the order CloudStack gives device ids on KVM. A router's
counters are the sum over its interfaces from the domain's side: what it transmitted counts
as sent, what it received as received.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from adapters import DiskCounters, NetworkCounters


def _targets(domain: Any, device: str) -> list[tuple[ET.Element, str]]:
    found = []
    for element in ET.fromstring(domain.XMLDesc()).iterfind(f"devices/{device}"):
        target = element.find("target")
        if target is not None and target.get("dev"):
            found.append((element, str(target.get("dev"))))
    return found


def _epoch(domain: Any) -> str:
    return f"{domain.UUIDString()}/{domain.ID()}"


def network_counters(domain: Any) -> NetworkCounters:
    """libvirt's interfaceStats: (rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, …)."""
    sent = received = 0
    for _, dev in _targets(domain, "interface"):
        stats = domain.interfaceStats(dev)
        received += int(stats[0])
        sent += int(stats[4])
    return NetworkCounters(bytes_sent=sent, bytes_received=received, epoch=_epoch(domain))


def disk_counters(domain: Any) -> tuple[DiskCounters, ...]:
    """libvirt's blockStats: (rd_req, rd_bytes, wr_req, wr_bytes, errs) per disk, by slot."""
    found = []
    for element, dev in _targets(domain, "disk"):
        if element.get("device", "disk") != "disk":
            continue  # a CD-ROM is not a volume
        rd_req, rd_bytes, wr_req, wr_bytes = (int(n) for n in domain.blockStats(dev)[:4])
        slot = ord(dev[-1]) - ord("a")
        found.append(DiskCounters(slot, rd_req, wr_req, rd_bytes, wr_bytes, _epoch(domain)))
    return tuple(sorted(found, key=lambda disk: disk.device_id))
