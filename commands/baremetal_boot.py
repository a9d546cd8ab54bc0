"""A bare-metal deploy's network boot: once the deploy has chosen its bare-metal host, the
PXE server of the host's pod (else its zone's) and the zone's DHCP server are taken with their
logins, and the host's MAC, the address its default NIC gets and the template's URL go with
them on the VM's start request, for the bare-metal adapter to write (`adapters.baremetal`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from domain.baremetal import BaremetalServer
from domain.errors import ResourceUnavailable
from domain.host import Host


@dataclass(frozen=True)
class BaremetalPlan:
    """What the API found for a bare-metal deploy: the template and the zone's servers."""

    template_id: UUID
    template_url: str
    pxe_server_ids: tuple[UUID, ...]
    dhcp_server_id: UUID


def ssh_address(url: str) -> str:
    """Where a provisioning server is logged into: its URL's host, and its port if it names one
    (the SSH port; 22 otherwise)."""
    text = url.strip()
    return urlsplit(text).netloc.rsplit("@", 1)[-1] if "://" in text else text


def baremetal_boot(
    store: Any, plan: BaremetalPlan, host_id: UUID, hostname: str, nics: list[dict[str, str]]
) -> dict[str, Any]:
    """The network boot of the VM placed on `host_id` (its passwords as sealed values)."""
    host: Host = store.get(Host, host_id, what="host")
    servers = [store.get(BaremetalServer, s, what="PXE server") for s in plan.pxe_server_ids]
    mine = [s for s in servers if s.pod_id == host.pod_id] or [
        s for s in servers if s.pod_id is None
    ]
    if not mine:
        raise ResourceUnavailable(f"No PXE server found in pod {host.pod_id} of the host")
    pxe = mine[0]
    dhcp = store.get(BaremetalServer, plan.dhcp_server_id, what="DHCP server")
    if not nics:
        raise ResourceUnavailable("A bare-metal instance needs a guest NIC to boot from")
    ping = {
        "storage_server_ip": pxe.details.get("ping_storage_server_ip", ""),
        "dir": pxe.details.get("ping_dir", ""),
        "cifs_username": pxe.details.get("ping_cifs_username", ""),
    }
    return {
        "mac": str(host.inventory.get("mac_address", "")),
        "ip_address": nics[0]["ip_address"],
        "hostname": hostname,
        "pxe_type": pxe.server_type,
        "tftp_dir": pxe.details.get("tftp_dir", ""),
        "dhcp_type": dhcp.server_type,
        "template_id": str(plan.template_id),
        "template_url": plan.template_url,
        "pxe_address": ssh_address(pxe.url),
        "pxe_username": pxe.username,
        "pxe_password": pxe.password,
        "dhcp_address": ssh_address(dhcp.url),
        "dhcp_username": dhcp.username,
        "dhcp_password": dhcp.password,
        "ping": ping if pxe.server_type == "PING" else {},
        "cifs_password": pxe.cifs_password if pxe.server_type == "PING" else None,
    }
