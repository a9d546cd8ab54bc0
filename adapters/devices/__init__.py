"""The device-provider protocol: external network devices driven by adapters beside the
hypervisors' and over the same bus.

A device stands where a host would: the server sends `apply_device_rules` on
``<prefix>.work.<kind>.apply_device_rules`` with the device's sealed credentials, the worker
(`adapters.worker`, the same runtime as the hypervisors') keeps one connected driver per device
and answers on the results subject. What a device is given is the network's share of rules its
provider serves (load balancing for NetScaler; firewall, port forwarding and static NAT for
Palo Alto) as one whole set with a generation, and the network's facts (CIDR, VLAN, source NAT
address). A driver makes the device hold exactly that set: what the device holds for the
network and the set does not is removed, what is missing is added, so applying a set twice
changes nothing.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from adapters import AuthenticationError, Credentials, HypervisorError, Unreachable
from stratus.actions import Capability

TIMEOUT = 30.0  # seconds a device has to answer one call


class DeviceRefused(HypervisorError):
    """The device answered a call with an error: the set is not applied."""


@dataclass(frozen=True)
class DeviceInventory:
    """What a device reports when its adapter logs in."""

    name: str
    kind: str
    address: str


@dataclass(frozen=True)
class NetworkFacts:
    """What a device knows of the network whose rules it holds."""

    network_id: str
    cidr: str
    gateway: str
    vlan: int | None
    source_nat: str | None
    options: dict[str, str]

    @classmethod
    def of(cls, given: dict[str, Any]) -> NetworkFacts:
        vlan = given.get("vlan")
        return cls(
            str(given["network_id"]),
            str(given["cidr"]),
            str(given["gateway"]),
            int(vlan) if vlan is not None else None,
            given.get("source_nat") or None,
            {str(k): str(v) for k, v in (given.get("options") or {}).items()},
        )

    @property
    def tag(self) -> str:
        """The short name the device's objects for this network start with."""
        return self.network_id.replace("-", "")[:8]


@dataclass(frozen=True)
class TlsMaterial:
    """A certificate an ssl load balancer terminates with: PEM text, its chain, its key (the
    key in memory only, opened from the request's seal)."""

    id: str
    certificate: str
    chain: str
    key: str


class NetworkDeviceDriver(Protocol):
    """What every device adapter implements (the `Hypervisor` protocol's counterpart)."""

    kind: str
    capabilities: frozenset[Capability]

    def connect(self, credentials: Credentials) -> DeviceInventory:
        """Log into the device; AuthenticationError when it refuses the credentials."""
        ...

    def ping(self) -> bool: ...

    def apply_rules(
        self,
        network: NetworkFacts,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        certificates: tuple[TlsMaterial, ...],
    ) -> int:
        """Make the device hold exactly `rules` for the network as `generation` (an older
        generation than the one held is not applied); returns the generation it holds."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    cookie: str


def base_url(url: str) -> str:
    """The scheme, host and port of a device's URL (https when it names none)."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def call(
    url: str, method: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    """One HTTP call to a device; Unreachable when it cannot be reached. Certificates are not
    verified (appliances present self-signed ones, as 4.3 trusts them)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as answer:
            return Reply(answer.status, answer.read(), answer.headers.get("Set-Cookie", ""))
    except urllib.error.HTTPError as refused:
        return Reply(refused.code, refused.read(), "")
    except (OSError, ValueError) as error:
        raise Unreachable(f"the device at {base_url(url)} does not answer: {error}") from None


class Generations:
    """The newest set this driver applied per network, so an older one is not applied."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}

    def stale(self, network: NetworkFacts, generation: int) -> int | None:
        held = self._held.get(network.network_id, 0)
        return held if generation < held else None

    def hold(self, network: NetworkFacts, generation: int) -> int:
        self._held[network.network_id] = generation
        return generation


__all__ = ["AuthenticationError", "Credentials", "DeviceRefused", "Unreachable"]
