"""A stand-in for external network devices at the protocol level: one HTTP (or HTTPS) server
that answers the login parts of NetScaler's NITRO, the Palo Alto and Cisco VNMC XML APIs, the
Nicira NVP REST API and the BigSwitch VNS REST API as those devices do, for one user and password.

It records each request's method and path, so a test can see what the client asked.
"""

from __future__ import annotations

import secrets
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import orjson

from tests.support.certs import self_signed


@dataclass
class DeviceStandIn:
    """One device: its credentials, whether it is healthy, and what it was asked."""

    username: str = "nsroot"
    password: str = "device-secret"
    tls: bool = False
    healthy: bool = True
    seen: list[tuple[str, str]] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        """host:port, as a device's host name is given."""
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    def url(self, query: str = "") -> str:
        return f"{self.base}/?{query}" if query else self.base

    def start(self) -> DeviceStandIn:
        device = self

        class Handler(_Handler):
            stand_in = device

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls:
            self._server.socket = _tls().wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def paths(self) -> list[str]:
        return [path for _, path in self.seen]

    def accepts(self, username: str, password: str) -> bool:
        return (username, password) == (self.username, self.password)

    def new_session(self) -> str:
        session = secrets.token_hex(8)
        self.sessions.add(session)
        return session


def _tls() -> ssl.SSLContext:
    issued = self_signed("device.example.org")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="device-tls-") as folder:
        (Path(folder) / "cert.pem").write_text(issued.certificate)
        (Path(folder) / "key.pem").write_text(issued.key)
        context.load_cert_chain(Path(folder) / "cert.pem", Path(folder) / "key.pem")
    return context


class _Handler(BaseHTTPRequestHandler):
    stand_in: DeviceStandIn

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, body: bytes, kind: str, cookie: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: object, cookie: str = "") -> None:
        self._answer(status, orjson.dumps(body), "application/json", cookie)

    def _cookie(self, name: str) -> str:
        for part in (self.headers.get("Cookie") or "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return ""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.stand_in.seen.append(("GET", path))
        if path == "/networkService/v1.1/health":
            if self.stand_in.healthy:
                self._json(200, {"healthy": True})
            else:
                self._answer(503, b"controller is not healthy", "text/html")
        elif path == "/ws.v1/control-cluster/status":
            if self._cookie("JSESSIONID") in self.stand_in.sessions:
                self._json(200, {"cluster_status": "stable"})
            else:
                self._answer(401, b"", "text/html")
        else:
            self._answer(404, b"", "text/html")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        self.stand_in.seen.append(("POST", path))
        body = self._body()
        if path == "/nitro/v1/config/login":
            self._nitro_login(body)
        elif path == "/nitro/v1/config/logout":
            self.stand_in.sessions.discard(self._cookie("NITRO_AUTH_TOKEN"))
            self._json(201, {"errorcode": 0, "message": "Done", "severity": "NONE"})
        elif path == "/api/":
            self._pan_keygen(parse_qs(body.decode()))
        elif path == "/xmlIM/mgmt-controller":
            self._vnmc_login(body)
        elif path == "/ws.v1/login":
            form = parse_qs(body.decode())
            user, password = form.get("username", [""])[0], form.get("password", [""])[0]
            if self.stand_in.accepts(user, password):
                session = self.stand_in.new_session()
                self._answer(200, b"", "text/html", f"JSESSIONID={session}; Path=/; Secure")
            else:
                self._answer(401, b"", "text/html")
        else:
            self._answer(404, b"", "text/html")

    def _nitro_login(self, body: bytes) -> None:
        login = orjson.loads(body or b"{}").get("login", {})
        if self.stand_in.accepts(login.get("username", ""), login.get("password", "")):
            session = self.stand_in.new_session()
            answer = {"errorcode": 0, "message": "Done", "severity": "NONE", "sessionid": session}
            self._json(201, answer, f"NITRO_AUTH_TOKEN={session}; path=/nitro/v1")
        else:
            answer = {
                "errorcode": 354,
                "message": "Invalid username or password",
                "severity": "ERROR",
            }
            self._json(401, answer)

    def _vnmc_login(self, body: bytes) -> None:
        login = ElementTree.fromstring(body)
        if login.tag == "aaaLogin" and self.stand_in.accepts(
            login.get("inName", ""), login.get("inPassword", "")
        ):
            cookie = self.stand_in.new_session()
            answer = f'<aaaLogin response="yes" outCookie="{cookie}" outRefreshPeriod="600"/>'
        else:
            answer = (
                '<aaaLogin response="yes" errorCode="539" invocationResult="unidentified-fail" '
                'errorDescr="Authentication failed"/>'
            )
        self._answer(200, answer.encode(), "application/xml")

    def _pan_keygen(self, form: dict[str, list[str]]) -> None:
        user, password = form.get("user", [""])[0], form.get("password", [""])[0]
        if form.get("type") == ["keygen"] and self.stand_in.accepts(user, password):
            key = secrets.token_hex(16)
            body = f"<response status = 'success'><result><key>{key}</key></result></response>"
            self._answer(200, body.encode(), "application/xml")
        else:
            body = (
                "<response status = 'error' code = '403'><result><msg>Invalid Credential</msg>"
                "</result></response>"
            )
            self._answer(403, body.encode(), "application/xml")
