"""Fetching a URL a user gave (a template image) for any adapter, under CloudStack 4.3's rules.

Only http and https. Every host is resolved once and each of its addresses checked: an internal
one (`stratus.addresses.is_internal`: loopback, link-local, private, unspecified, multicast,
reserved, also in IPv4-mapped and similar forms) is refused unless it lies inside a CIDR of
`secstorage.allowed.internal.sites`. The connection goes to the address that was checked, so a
second lookup cannot be rebound elsewhere. Redirects are followed here, a bounded number, each
target checked like the first. The body is bounded by `max.template.iso.size`, and time by a
timeout per connect or read and a deadline for the whole download.

Every failure is the same `FetchRefused` text, whatever the reason: an address not allowed, a
port closed or open, an answer that is not HTTP, an error status, too many bytes. A user learns
nothing about the network from it, and nothing the remote sent is repeated; the reason goes
to the adapter's log for the operator.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from adapters import HypervisorError
from stratus.addresses import IPAddress, IPNetwork, is_allowed, is_internal, parse_sites

log = logging.getLogger(__name__)

GIB = 1024**3
DEFAULT_MAX_GB = 50  # 4.3's max.template.iso.size
CHUNK = 1 << 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PORTS = {"http": 80, "https": 443}

Resolver = Callable[..., Sequence[tuple[Any, ...]]]  # socket.getaddrinfo's shape


class FetchRefused(HypervisorError):
    """A URL that could not be fetched; the text is the same whatever the reason was."""


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may reach and how much it may take."""

    allowed_sites: tuple[IPNetwork, ...] = ()
    max_bytes: int = DEFAULT_MAX_GB * GIB
    timeout: float = 60.0  # seconds one connect or one read may wait
    deadline: float = 4 * 3600.0  # seconds the whole download may take
    max_redirects: int = 5

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> FetchPolicy:
        """The policy a work request carries (`allowed_internal_sites`, `max_size_gb`); the
        strict defaults for a request from a server that sent none."""
        try:
            sites = parse_sites(str(params.get("allowed_internal_sites") or ""))
            max_gb = int(params.get("max_size_gb") or DEFAULT_MAX_GB)
        except ValueError as error:
            raise HypervisorError(f"the download's limits are not valid: {error}") from None
        return cls(allowed_sites=sites, max_bytes=max_gb * GIB)


def shown(url: str) -> str:
    """The URL as a failure may show it: no credentials, no query (it may hold a token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def refused(url: str) -> FetchRefused:
    return FetchRefused(
        f"cannot download {shown(url)}: the address is not allowed, or it did not serve "
        "a file within the limits"
    )


class _Refusal(Exception):
    """Why a fetch stopped, for the log only."""


def stream(
    url: str, policy: FetchPolicy, *, resolve: Resolver | None = None
) -> Generator[bytes, None, None]:
    """The body of `url`, block by block; FetchRefused (one text for every reason) on failure.
    Close the iterator (`contextlib.closing`) when stopping early. Names are looked up with
    `resolve` (the system's resolver by default), once per host."""
    deadline = time.monotonic() + policy.deadline
    try:
        connection, response = _follow(url, policy, resolve or socket.getaddrinfo, deadline)
        try:
            yield from _body(response, policy, deadline)
        finally:
            connection.close()
    except _Refusal as refusal:
        log.warning("download of %s refused: %s", shown(url), refusal)
        raise refused(url) from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        log.warning("download of %s failed: %s", shown(url), type(error).__name__)
        raise refused(url) from None


def _follow(
    url: str, policy: FetchPolicy, resolve: Resolver, deadline: float
) -> tuple[_PinnedConnection, http.client.HTTPResponse]:
    """The connection and response of the first answer that is not a redirect."""
    for _hop in range(policy.max_redirects + 1):
        connection = _connect(_Target.of(url), policy, resolve, deadline)
        try:
            response = connection.get()
        except BaseException:
            connection.close()
            raise
        location = response.getheader("Location")
        if response.status in _REDIRECTS and location:
            connection.close()
            url = urljoin(url, location.strip())
            continue
        if response.status != 200:
            connection.close()
            raise _Refusal(f"the server answered {response.status}")
        return connection, response
    raise _Refusal(f"more than {policy.max_redirects} redirects")


def _body(
    response: http.client.HTTPResponse, policy: FetchPolicy, deadline: float
) -> Iterator[bytes]:
    declared = response.getheader("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > policy.max_bytes:
        raise _Refusal(f"the body is declared larger than {policy.max_bytes} bytes")
    received = 0
    while block := response.read(CHUNK):
        received += len(block)
        if received > policy.max_bytes:
            raise _Refusal(f"the body is larger than {policy.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise _Refusal(f"the download took longer than {policy.deadline:.0f} s")
        yield block


@dataclass(frozen=True)
class _Target:
    """One URL to ask, taken apart."""

    scheme: str
    host: str  # IDNA, as it goes into DNS, the Host header and TLS
    port: int
    path: str  # path and query, as it goes into the request line

    @classmethod
    def of(cls, url: str) -> _Target:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _PORTS or not parts.hostname:
            raise _Refusal(f"the scheme {scheme!r} or a missing host")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname.encode("idna").decode("ascii")
        return cls(scheme, host, parts.port or _PORTS[scheme], path)


def _connect(
    target: _Target, policy: FetchPolicy, resolve: Resolver, deadline: float
) -> _PinnedConnection:
    """A connection to one of the host's addresses, all of which were checked first."""
    found = resolve(target.host, target.port, type=socket.SOCK_STREAM)
    places = [(family, sockaddr) for family, _type, _proto, _name, sockaddr in found]
    for _family, sockaddr in places:
        address = _address_of(sockaddr)
        if is_internal(address) and not is_allowed(address, policy.allowed_sites):
            raise _Refusal(f"{address} is internal and not an allowed site")
    tls = ssl.create_default_context() if target.scheme == "https" else None
    for family, sockaddr in places:
        connection = _PinnedConnection(target, family, sockaddr, tls, policy.timeout, deadline)
        try:
            connection.connect()
        except OSError:
            connection.close()
            continue
        return connection
    raise _Refusal("no address of the host could be connected to")


def _address_of(sockaddr: tuple[Any, ...]) -> IPAddress:
    return ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # without an IPv6 scope


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to an address chosen beforehand, never to a fresh lookup of its
    host; the host still names the server in the request and in TLS. The deadline shuts the
    socket down, which ends any read that is still waiting."""

    def __init__(
        self,
        target: _Target,
        family: int,
        sockaddr: tuple[Any, ...],
        tls: ssl.SSLContext | None,
        timeout: float,
        deadline: float,
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.default_port = _PORTS[target.scheme]
        self.target, self.family, self.sockaddr, self.tls = target, family, sockaddr, tls
        self.wait, self.deadline = timeout, deadline
        self._watchdog: threading.Timer | None = None

    def connect(self) -> None:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(min(self.wait, max(self.deadline - time.monotonic(), 0.001)))
            sock.connect(self.sockaddr)
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(self.wait)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._watchdog = threading.Timer(self.deadline - time.monotonic(), self._expire, (sock,))
        self._watchdog.daemon = True
        self._watchdog.start()

    @staticmethod
    def _expire(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)

    def get(self) -> http.client.HTTPResponse:
        self.request(
            "GET",
            self.target.path,
            headers={
                "User-Agent": "stratus-adapter",
                "Accept-Encoding": "identity",
                "Connection": "close",
            },
        )
        return self.getresponse()

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        super().close()
