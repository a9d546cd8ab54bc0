"""Logging into an external network device before it is registered, over its own protocol, as
CloudStack 4.3's device resources do when a device is added: NetScaler's NITRO (JSON), the
Palo Alto XML API, the Cisco VNMC XML API, the Nicira NVP REST API and the BigSwitch VNS REST
API (a health check: the controller takes no credentials). A device that refuses, or cannot
be reached, raises `DeviceRefused` with the reason; the password is sent and never logged.

Certificates are not verified: 4.3 trusts any certificate a device presents (appliances ship
self-signed ones), and an operator registers the address themselves.
"""

from __future__ import annotations

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


def _json(body: bytes) -> dict[str, object]:
    try:
        found = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}
