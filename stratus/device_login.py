"""Logging into an external network device before it is registered, over its own protocol, as
CloudStack 4.3's device resources do when a device is added: NetScaler's NITRO (JSON), the
Palo Alto XML API, the Cisco VNMC XML API, the Nicira NVP REST API, the BigSwitch VNS REST
API (a health check: the controller takes no credentials), F5 BIG-IP's iControl REST API, the
Junos XML protocol of a Juniper SRX (JUNOScript sessions over the clear-text port 3221, as 4.3's
SRX resource opens them) and NITRO on a NetScaler SDX. A device that refuses, or cannot
be reached, raises `DeviceRefused` with the reason; the password is sent and never logged.

Certificates are not verified: 4.3 trusts any certificate a device presents (appliances ship
self-signed ones), and an operator registers the address themselves.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

import orjson

from domain.values import Secret

TIMEOUT = 10.0  # seconds; a device that does not answer in this time is not added


class DeviceRefused(Exception):
    """The device refused the login, answered what its protocol does not, or was not reached."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    cookie: str


def _context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _request(url: str, body: bytes | None, headers: dict[str, str], method: str = "POST") -> Answer:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=_context()) as answer:
            return Answer(answer.status, answer.read(), answer.headers.get("Set-Cookie", ""))
    except urllib.error.HTTPError as refused:
        return Answer(refused.code, refused.read(), "")
    except (OSError, ValueError) as unreachable:
        raise DeviceRefused(f"unable to reach {url}: {unreachable}") from None


def _base(url: str, default_scheme: str = "https") -> str:
    """The scheme, host and port of a device URL (or of a bare `host[:port]`)."""
    parts = urlsplit(url if "://" in url else f"{default_scheme}://{url}")
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def netscaler_login(url: str, username: str, password: Secret) -> None:
    """NITRO: POST /nitro/v1/config/login; the device answers errorcode 0 and a session id, which
    is then logged out."""
    base = _base(url)
    body = orjson.dumps({"login": {"username": username, "password": password.reveal()}})
    answer = _request(f"{base}/nitro/v1/config/login", body, {"Content-Type": "application/json"})
    found = _json(answer.body)
    session = found.get("sessionid")
    if answer.status // 100 != 2 or found.get("errorcode", 0) != 0 or not session:
        raise DeviceRefused(
            f"Failed to log in to Netscaler device at {urlsplit(base).hostname} due to error "
            f"{found.get('errorcode', answer.status)} and message {found.get('message', '')}"
        )
    logout = orjson.dumps({"logout": {}})
    headers = {"Content-Type": "application/json", "Cookie": f"NITRO_AUTH_TOKEN={session}"}
    _request(f"{base}/nitro/v1/config/logout", logout, headers)


def palo_alto_login(url: str, username: str, password: Secret) -> None:
    """The XML API's key generation (type=keygen): a success carries the API key."""
    base = _base(url)
    form = urlencode({"type": "keygen", "user": username, "password": password.reveal()})
    answer = _request(
        f"{base}/api/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    try:
        root = ElementTree.fromstring(answer.body)
    except ElementTree.ParseError:
        root = ElementTree.Element("response")
    if root.get("status") != "success" or not (root.findtext("result/key") or "").strip():
        message = " ".join(t.strip() for t in root.itertext() if t.strip())
        raise DeviceRefused(
            f"Unable to log in to the Palo Alto device at {urlsplit(base).hostname}: "
            f"{message or f'HTTP {answer.status}'}"
        )


def vnmc_login(hostname: str, username: str, password: Secret) -> None:
    """VNMC: POST an aaaLogin to /xmlIM/mgmt-controller on port 443; a success carries the
    session's outCookie, a refusal an errorCode."""
    base = _base(hostname if ":" in hostname else f"{hostname}:443", "https")
    body = f"<aaaLogin inName={quoteattr(username)} inPassword={quoteattr(password.reveal())} />"
    answer = _request(
        f"{base}/xmlIM/mgmt-controller", body.encode(), {"Content-Type": "application/xml"}
    )
    try:
        login = ElementTree.fromstring(answer.body)
    except ElementTree.ParseError:
        login = ElementTree.Element("aaaLogin", {"errorDescr": f"HTTP {answer.status}"})
    if answer.status != 200 or login.get("errorCode") or not login.get("outCookie"):
        raise DeviceRefused(
            "Unable to connect to VNMC, check if ip/username/password is valid: "
            f"{login.get('errorDescr') or f'HTTP {answer.status}'}"
        )


def nvp_login(hostname: str, username: str, password: Secret) -> None:
    """NVP: POST /ws.v1/login with the credentials as a form; the controller answers 200 and a
    session cookie, with which the control cluster's status is read."""
    base = _base(hostname, "https")
    form = urlencode({"username": username, "password": password.reveal()})
    answer = _request(
        f"{base}/ws.v1/login", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    if answer.status != 200 or not answer.cookie:
        raise DeviceRefused(f"Nicira NVP API login failed: HTTP {answer.status}")
    cookie = answer.cookie.split(";", 1)[0]
    status = _request(
        f"{base}/ws.v1/control-cluster/status", None, {"Cookie": cookie}, method="GET"
    )
    if status.status != 200:
        raise DeviceRefused(f"Nicira NVP control cluster status: HTTP {status.status}")


def bigswitch_health(hostname: str) -> None:
    """VNS: GET /networkService/v1.1/health on the controller's port 80 (or the one named)."""
    base = _base(hostname if ":" in hostname else f"{hostname}:80", "http")
    headers = {"Accept": "application/json", "INSTANCE_ID": "org.apache.cloudstack"}
    answer = _request(f"{base}/networkService/v1.1/health", None, headers, method="GET")
    if answer.status != 200:
        raise DeviceRefused(f"BigSwitch controller health check failed: HTTP {answer.status}")


def f5_login(url: str, username: str, password: Secret) -> None:
    """iControl REST: GET /mgmt/tm/sys/version with the credentials (HTTP basic); a BIG-IP
    answers 200 and its version, a refusal 401."""
    base = _base(url)
    token = base64.b64encode(f"{username}:{password.reveal()}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
    answer = _request(f"{base}/mgmt/tm/sys/version", None, headers, method="GET")
    found = _json(answer.body)
    if answer.status != 200 or found.get("kind") != "tm:sys:version:versionstats":
        raise DeviceRefused(
            f"Failed to log in to the F5 BigIp device at {urlsplit(base).hostname}: "
            f"{found.get('message') or f'HTTP {answer.status}'}"
        )


def sdx_login(url: str, username: str, password: Secret) -> None:
    """NITRO on the SDX: the login of `netscaler_login`, then the SDX's own resource (its list
    of NetScaler instances, `/nitro/v1/config/ns`), which a NetScaler appliance does not have."""
    base = _base(url)
    body = orjson.dumps({"login": {"username": username, "password": password.reveal()}})
    answer = _request(f"{base}/nitro/v1/config/login", body, {"Content-Type": "application/json"})
    found = _json(answer.body)
    session = found.get("sessionid")
    if answer.status // 100 != 2 or found.get("errorcode", 0) != 0 or not session:
        raise DeviceRefused(
            f"Failed to log into Netscaler SDX device at {urlsplit(base).hostname} due to "
            f"error {found.get('errorcode', answer.status)} and message {found.get('message', '')}"
        )
    headers = {"Accept": "application/json", "Cookie": f"NITRO_AUTH_TOKEN={session}"}
    listed = _request(f"{base}/nitro/v1/config/ns", None, headers, method="GET")
    if listed.status != 200 or _json(listed.body).get("errorcode", 0) != 0:
        raise DeviceRefused(
            f"The device at {urlsplit(base).hostname} is not a Netscaler SDX: "
            f"HTTP {listed.status} on its NetScaler instances"
        )
    logout = {"Content-Type": "application/json", "Cookie": f"NITRO_AUTH_TOKEN={session}"}
    _request(f"{base}/nitro/v1/config/logout", orjson.dumps({"logout": {}}), logout)


JUNOS_PORT = 3221  # xnm-clear-text, the port 4.3's SRX resource opens


def srx_login(url: str, username: str, password: Secret) -> None:
    """A JUNOScript session: the client's and the device's `junoscript` openers, a
    `request-login` RPC answered by an `authentication-response` whose status is success;
    then the session is closed with `request-end-session`."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host, port = parts.hostname or "", parts.port or JUNOS_PORT
    login = ElementTree.Element("rpc")
    request = ElementTree.SubElement(login, "request-login")
    ElementTree.SubElement(request, "username").text = username
    ElementTree.SubElement(request, "challenge-response").text = password.reveal()
    opener = b'<?xml version="1.0" encoding="us-ascii"?>\n<junoscript version="1.0" release="7.0">'
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as link:
            link.sendall(opener + b"\n" + ElementTree.tostring(login) + b"\n")
            answer = _read_until(link, b"</rpc-reply>")
            if b"<status>success</status>" in answer:
                link.sendall(b"<rpc><request-end-session/></rpc>\n</junoscript>\n")
                return
    except OSError as unreachable:
        raise DeviceRefused(f"unable to reach the SRX at {host}:{port}: {unreachable}") from None
    message = re.search(rb"<message>(.*?)</message>", answer, re.S)
    reason = message.group(1).decode(errors="replace").strip() if message else "no answer"
    raise DeviceRefused(f"Failed to log in to the SRX at {host}: {reason}")


def _read_until(link: socket.socket, end: bytes, limit: int = 1 << 20) -> bytes:
    received = b""
    while end not in received and len(received) < limit:
        chunk = link.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def _json(body: bytes) -> dict[str, object]:
    try:
        found = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}
