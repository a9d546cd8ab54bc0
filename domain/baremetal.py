"""Bare-metal provisioning servers: the DHCP server and the PXE servers (kickstart or PING) an
operator registers on a physical network whose bare-metal provider is there, as 4.3 keeps them.

Stratus records them (their login sealed) and lists them; a bare-metal deploy logs into them
over SSH through the bare-metal adapter (`commands.baremetal_boot`, `adapters.baremetal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.network_providers import canonical_in
from domain.values import Secret

DHCP = "dhcp"
PXE = "pxe"
DHCP_PROVIDER = "BaremetalDhcpProvider"
PXE_PROVIDER = "BaremetalPxeProvider"
DHCP_TYPES = ("DNSMASQ", "DHCPD")  # 4.3's BaremetalDhcpType
KICK_START = "KICK_START"
PING = "PING"


def check_kickstart_url(url: str) -> None:
    """A kickstart template's URL names its kickstart file, kernel and initrd, as 4.3 takes it:
    `ks=<URL>;kernel=<URL>;initrd=<URL>`."""
    parts = [part.strip().partition("=") for part in url.split(";")]
    names = sorted(key for key, _, value in parts if value)
    if names != ["initrd", "kernel", "ks"] or len(parts) != 3:
        raise InvalidParameter(
            f"template url[{url}] is not correctly encoded: it must be in the format of "
            "ks=http_link_to_kickstartfile;kernel=link_to_pxe_kernel;initrd=link_to_pxe_initrd"
        )


def check_dhcp_type(value: str) -> str:
    return canonical_in(
        value, DHCP_TYPES, f"Unsupport DHCP server type: {value} (use {' or '.join(DHCP_TYPES)})"
    )


def check_pxe_type(value: str, wanted: str) -> str:
    """The `pxeservertype` a PXE command takes: the kind of server that command adds."""
    return canonical_in(value, (wanted,), f"Unsupported PXE server type {value}: use {wanted}")


def server_address(url: str) -> str:
    """The server's address: the host of its URL, or the URL itself when it is a bare address
    (4.3 takes both)."""
    text = url.strip()
    host = urlsplit(text).hostname if "://" in text else None
    address = host or text
    if not address or "/" in address:
        raise InvalidParameter(f"Invalid URL {url}: give the server's address")
    return address


def check_provider(provider: dict[str, Any] | None, name: str, physical_network: str) -> UUID:
    """The provider a server is registered with: it must be on the physical network and not
    shut down (4.3's checks)."""
    if provider is None:
        raise InvalidState(
            f"Network Service Provider: {name} is not enabled in the physical network: "
            f"{physical_network} to add this device"
        )
    if provider["state"] == "Shutdown":
        raise InvalidState(
            f"Network Service Provider: {name} is in shutdown state in the physical network: "
            f"{physical_network} to add this device"
        )
    return UUID(provider["id"])


@dataclass(frozen=True)
class ServerSpec:
    """What an operator gives for one server; `ping` fields only for a PING PXE server."""

    kind: str
    server_type: str
    physical_network_id: UUID
    zone_id: UUID
    url: str
    username: str
    password: str = field(repr=False)
    pod_id: UUID | None = None
    tftp_dir: str = ""
    ping_dir: str = ""
    ping_storage_server_ip: str = ""
    ping_cifs_username: str = ""
    ping_cifs_password: str = field(default="", repr=False)

    def claim_key(self) -> str:
        """What at most one server may take: a zone's DHCP server, a zone's kickstart server,
        a pod's (else the zone's) PING server."""
        if self.kind == DHCP:
            return f"dhcp:{self.zone_id}"
        if self.server_type == PING and self.pod_id is not None:
            return f"pxe:pod:{self.pod_id}"
        return f"pxe:{self.zone_id}"


class BaremetalServer(Aggregate):
    """A DHCP or PXE server for bare-metal hosts, registered with its provider."""

    @event("Registered")
    def __init__(
        self,
        id: UUID,
        kind: str,
        server_type: str,
        physical_network_id: UUID,
        provider_id: UUID,
        zone_id: UUID,
        pod_id: UUID | None,
        url: str,
        address: str,
        username: str,
        password: Secret,
        details: dict[str, str],
        cifs_password: Secret | None,
    ) -> None:
        self.kind, self.server_type = kind, server_type
        self.physical_network_id, self.provider_id = physical_network_id, provider_id
        self.zone_id, self.pod_id = zone_id, pod_id
        self.url, self.address = url, address
        self.username, self.password = username, password
        self.details = dict(details)
        self.cifs_password = cifs_password


def register(server_id: UUID, spec: ServerSpec, provider_id: UUID) -> BaremetalServer:
    """The server as the operator describes it, each part checked."""
    if not spec.username:
        raise InvalidParameter("Specify the username")
    details: dict[str, str] = {}
    if spec.kind == PXE:
        if not spec.tftp_dir:
            raise InvalidParameter("No TFTP directory specified")
        details["tftp_dir"] = spec.tftp_dir
    if spec.server_type == PING:
        if not spec.ping_dir or not spec.ping_storage_server_ip:
            raise InvalidParameter("Specify the PING directory and storage server address")
        details.update(
            ping_dir=spec.ping_dir,
            ping_storage_server_ip=spec.ping_storage_server_ip,
            ping_cifs_username=spec.ping_cifs_username,
        )
    return BaremetalServer(
        id=server_id,
        kind=spec.kind,
        server_type=spec.server_type,
        physical_network_id=spec.physical_network_id,
        provider_id=provider_id,
        zone_id=spec.zone_id,
        pod_id=spec.pod_id,
        url=spec.url,
        address=server_address(spec.url),
        username=spec.username,
        password=Secret(spec.password),
        details=details,
        cifs_password=Secret(spec.ping_cifs_password) if spec.ping_cifs_password else None,
    )
