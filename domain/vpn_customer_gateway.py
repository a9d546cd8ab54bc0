"""VPN customer gateways: the far end of a site-to-site VPN, as an account describes it (its
public address, the networks behind it, the IKE and ESP policies and the pre-shared key)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret

CIPHERS = ("3des", "aes128", "aes192", "aes256")
HASHES = ("md5", "sha1")
DH_GROUPS = ("modp1024", "modp1536")
MAX_LIFETIME = 86400
_PRINTABLE = re.compile(r"[\x21-\x7e]+")


def check_policy(kind: str, text: str) -> str:
    """An IKE or ESP policy as 4.3 takes it: `cipher-hash[;dhgroup]`, several comma-separated
    (ciphers 3des, aes128, aes192, aes256; hashes md5, sha1; groups modp1024, modp1536)."""
    for policy in text.split(","):
        suite, _, group = policy.partition(";")
        cipher, _, digest = suite.partition("-")
        valid = cipher in CIPHERS and digest in HASHES and (not group or group in DH_GROUPS)
        if not valid or (";" in policy and not group):
            raise InvalidParameter(f"The customer gateway {kind} policy {text} is invalid!")
    return text


def check_cidrs(text: str) -> str:
    """The customer's networks: comma-separated IPv4 CIDRs that do not overlap."""
    networks = []
    for entry in text.split(","):
        try:
            network = ipaddress.IPv4Network(entry.strip(), strict=False)
        except ValueError:
            raise InvalidParameter(
                f"The customer gateway guest cidr list {text} is invalid guest cidr!"
            ) from None
        networks.append(network)
    for index, network in enumerate(networks):
        for other in networks[index + 1 :]:
            if network.overlaps(other):
                raise InvalidParameter(
                    f"The customer gateway guest cidr list {text} contains overlapping cidrs "
                    f"{network} and {other}"
                )
    return ",".join(str(network) for network in networks)


def check_gateway(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise InvalidParameter(f"The customer gateway ip {text} is invalid!") from None


def check_lifetime(kind: str, seconds: int) -> int:
    if not 0 <= seconds <= MAX_LIFETIME:
        raise InvalidParameter(
            f"The {kind} lifetime {seconds} of vpn connection is invalid: 0 to {MAX_LIFETIME}"
        )
    return seconds


def check_psk(psk: str) -> Secret:
    if not _PRINTABLE.fullmatch(psk) or len(psk) > 256:
        raise InvalidParameter(
            "The customer gateway IPsec pre-shared key must be 1 to 256 printable characters "
            "without spaces"
        )
    return Secret(psk)


@dataclass(frozen=True)
class GatewaySpec:
    """What an account says of its gateway, each part checked."""

    name: str
    gateway: str
    cidrs: str
    ike_policy: str
    esp_policy: str
    ike_lifetime: int
    esp_lifetime: int
    dpd: bool
    psk: Secret

    @classmethod
    def checked(cls, **given: Any) -> GatewaySpec:
        gateway = check_gateway(given["gateway"])
        name = given.get("name") or f"VPN-{gateway}"  # 4.3 names an unnamed gateway so
        return cls(
            name=name,
            gateway=gateway,
            cidrs=check_cidrs(given["cidrs"]),
            ike_policy=check_policy("IKE", given["ike_policy"]),
            esp_policy=check_policy("ESP", given["esp_policy"]),
            ike_lifetime=check_lifetime("IKE", given["ike_lifetime"]),
            esp_lifetime=check_lifetime("ESP", given["esp_lifetime"]),
            dpd=bool(given["dpd"]),
            psk=check_psk(given["psk"]),
        )

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "gateway": self.gateway,
            "cidrs": self.cidrs,
            "ike_policy": self.ike_policy,
            "esp_policy": self.esp_policy,
            "ike_lifetime": self.ike_lifetime,
            "esp_lifetime": self.esp_lifetime,
            "dpd": self.dpd,
            "psk": self.psk,
        }


class VpnCustomerGateway(Aggregate):
    """One account's customer gateway."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        domain_id: UUID,
        name: str,
        gateway: str,
        cidrs: str,
        ike_policy: str,
        esp_policy: str,
        ike_lifetime: int,
        esp_lifetime: int,
        dpd: bool,
        psk: Secret,
    ) -> None:
        self.account_id, self.domain_id = account_id, domain_id
        self._apply(name, gateway, cidrs, ike_policy, esp_policy, ike_lifetime, esp_lifetime, dpd)
        self.psk = psk
        self.removed = False

    def _apply(self, *values: Any) -> None:
        (
            self.name,
            self.gateway,
            self.cidrs,
            self.ike_policy,
            self.esp_policy,
            self.ike_lifetime,
            self.esp_lifetime,
            self.dpd,
        ) = values

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"The VPN customer gateway {self.name} has been removed")

    @property
    def connections(self) -> set[UUID]:
        """The VPN connections (domain/site_to_site_vpn.py) that use the gateway."""
        if not hasattr(self, "connected"):
            self.connected: set[UUID] = set()
        return self.connected

    def attach(self, connection_id: UUID) -> None:
        """A VPN connection uses the gateway (saved with the connection's creation)."""
        self._check_live()
        self._attached(connection_id=connection_id)

    @event("Attached")
    def _attached(self, connection_id: UUID) -> None:
        self.connections.add(connection_id)

    def detach(self, connection_id: UUID) -> None:
        if connection_id in self.connections:
            self._detached(connection_id=connection_id)

    @event("Detached")
    def _detached(self, connection_id: UUID) -> None:
        self.connections.discard(connection_id)

    def update(self, spec: GatewaySpec) -> None:
        self._check_live()
        if self.connections:  # 4.3 refuses while connections are not in Error; here: any
            raise InvalidParameter(
                f"Unable to update customer gateway {self.name} with connections: delete them first"
            )
        self._updated(**spec.fields())

    @event("Updated")
    def _updated(
        self,
        name: str,
        gateway: str,
        cidrs: str,
        ike_policy: str,
        esp_policy: str,
        ike_lifetime: int,
        esp_lifetime: int,
        dpd: bool,
        psk: Secret,
    ) -> None:
        self._apply(name, gateway, cidrs, ike_policy, esp_policy, ike_lifetime, esp_lifetime, dpd)
        self.psk = psk

    def remove(self) -> None:
        self._check_live()
        if self.connections:
            raise InvalidParameter(
                f"Unable to delete VPN customer gateway with id {self.id} because there is still "
                "related VPN connections!"
            )
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True
