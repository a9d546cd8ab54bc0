"""Stand-ins for the logins of three more network devices, at the protocol level: an F5 BIG-IP's
iControl REST API and a NetScaler SDX's NITRO (one HTTP server, `HttpDeviceStandIn`), and a
Juniper SRX's Junos XML protocol (JUNOScript over a clear-text TCP session, `JunosStandIn`).
Each accepts one user and password and records what it was asked.
"""

from __future__ import annotations

import base64
import re
import secrets
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.sax.saxutils import unescape

import orjson


@dataclass
class HttpDeviceStandIn:
    """An F5 BIG-IP (iControl REST) and a NetScaler SDX (NITRO) answering on one port."""

    username: str = "admin"
    password: str = "device-secret"
    seen: list[tuple[str, str]] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def url(self, query: str = "") -> str:
        return f"http://{self.address}/?{query}"

    def paths(self) -> list[str]:
        return [path for _, path in self.seen]

    def start(self) -> HttpDeviceStandIn:
        device = self

        class Handler(_HttpHandler):
            stand_in = device

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _HttpHandler(BaseHTTPRequestHandler):
    stand_in: HttpDeviceStandIn

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _json(self, status: int, body: object) -> None:
        data = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _session(self) -> str:
        for part in (self.headers.get("Cookie") or "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == "NITRO_AUTH_TOKEN":
                return value
        return ""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.stand_in.seen.append(("GET", path))
        if path == "/mgmt/tm/sys/version":
            self._f5_version()
        elif path == "/nitro/v1/config/ns":
            if self._session() in self.stand_in.sessions:
                self._json(200, {"errorcode": 0, "message": "Done", "ns": []})
            else:
                self._json(401, {"errorcode": 444, "message": "Invalid session"})
        else:
            self._json(404, {"code": 404, "message": "not found"})

    def _f5_version(self) -> None:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        given = base64.b64decode(token or b"").decode(errors="replace")
        if scheme == "Basic" and given == f"{self.stand_in.username}:{self.stand_in.password}":
            entries = {"https://localhost/mgmt/tm/sys/version/0": {"nestedStats": {}}}
            self._json(200, {"kind": "tm:sys:version:versionstats", "entries": entries})
        else:
            self._json(401, {"code": 401, "message": "Authentication failed."})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        self.stand_in.seen.append(("POST", path))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path == "/nitro/v1/config/login":
            login = orjson.loads(body or b"{}").get("login", {})
            given = (login.get("username"), login.get("password"))
            if given == (self.stand_in.username, self.stand_in.password):
                session = secrets.token_hex(8)
                self.stand_in.sessions.add(session)
                self._json(201, {"errorcode": 0, "message": "Done", "sessionid": session})
            else:
                self._json(401, {"errorcode": 354, "message": "Invalid username or password"})
        elif path == "/nitro/v1/config/logout":
            self.stand_in.sessions.discard(self._session())
            self._json(201, {"errorcode": 0, "message": "Done"})
        else:
            self._json(404, {"errorcode": 404, "message": "not found"})


@dataclass
class JunosStandIn:
    """A Juniper SRX's JUNOScript service: a session opens with `junoscript`, logs in with a
    `request-login` RPC and ends with `request-end-session`."""

    username: str = "root"
    password: str = "srx-secret"
    logins: list[tuple[str, bool]] = field(default_factory=list)  # user, accepted
    _server: socketserver.ThreadingTCPServer | None = None

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def url(self, query: str = "") -> str:
        return f"https://{self.address}?{query}"

    def start(self) -> JunosStandIn:
        device = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                device._session(self.connection)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _session(self, link: socket.socket) -> None:
        link.sendall(
            b'<?xml version="1.0" encoding="us-ascii"?>\n'
            b'<junoscript xmlns:junos="http://xml.juniper.net/junos/*/junos" '
            b'schemaLocation="http://xml.juniper.net/junos" os="JUNOS" release="12.1X44">\n'
        )
        received = b""
        while b"</rpc>" not in received:
            chunk = link.recv(65536)
            if not chunk:
                return
            received += chunk
        if not received.lstrip().startswith(b"<?xml") or b"<junoscript" not in received:
            return
        user = _text(received, b"username")
        accepted = (user, _text(received, b"challenge-response")) == (
            self.username,
            self.password,
        )
        self.logins.append((user, accepted))
        if accepted:
            answer = (
                "<rpc-reply><authentication-response><status>success</status>"
                f"<message>{user}</message><login-name>{user}</login-name>"
                "</authentication-response></rpc-reply>\n"
            )
        else:
            answer = (
                "<rpc-reply><authentication-response><status>fail</status>"
                "<message>authentication failed</message>"
                "</authentication-response></rpc-reply>\n"
            )
        link.sendall(answer.encode())


def _text(document: bytes, tag: bytes) -> str:
    found = re.search(rb"<" + tag + rb">(.*?)</" + tag + rb">", document, re.S)
    return unescape(found.group(1).decode()) if found else ""
