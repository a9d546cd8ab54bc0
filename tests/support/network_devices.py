"""A stand-in for external network devices at the protocol level: one HTTP (or HTTPS) server
that answers the login parts of NetScaler's NITRO, the Palo Alto and Cisco VNMC XML APIs, the
Nicira NVP REST API and the BigSwitch VNS REST API as those devices do, for one user and password.

It also keeps the configuration the device adapters write, checking every call as the device
would: NITRO's load balancing and SSL objects (`lbvserver`, `service`, their bindings,
`systemfile`, `sslcertkey`) under a session cookie, and the Palo Alto XML API's candidate
configuration (NAT and security rules, service objects) under an API key, made running only by
a commit, which validates it. A test can make the device refuse (`refuse`) one kind of object,
or fail commits (`commit_fails`).

It records each request's method and path, so a test can see what the client asked.
"""

from __future__ import annotations

import base64
import secrets
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
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
    # NITRO: objects by type and name; bindings as (vserver, service or certkey) pairs.
    nitro: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    service_bindings: set[tuple[str, str]] = field(default_factory=set)
    cert_bindings: set[tuple[str, str]] = field(default_factory=set)
    refuse: set[str] = field(default_factory=set)  # NITRO types (or Palo Alto places) refused
    # Palo Alto: entries by place ("nat", "security", "service") and name.
    candidate: dict[str, dict[str, str]] = field(default_factory=dict)
    running: dict[str, dict[str, str]] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    commits: list[str] = field(default_factory=list)  # "OK" or "FAIL", one per commit
    commit_fails: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
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
        if path.startswith(NITRO) and not path.endswith(("/login", "/logout")):
            self._nitro("GET", path[len(NITRO) :], b"")
        elif path == "/networkService/v1.1/health":
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
        elif path.startswith(NITRO):
            self._nitro("POST", path[len(NITRO) :], body)
        elif path == "/api/":
            form = parse_qs(body.decode())
            if form.get("type") == ["keygen"]:
                self._pan_keygen(form)
            else:
                self._pan(form)
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

    def do_DELETE(self) -> None:
        parts = urlsplit(self.path)
        self.stand_in.seen.append(("DELETE", parts.path))
        if parts.path.startswith(NITRO):
            self._nitro("DELETE", parts.path[len(NITRO) :], b"", parts.query)
        else:
            self._answer(404, b"", "text/html")

    def _nitro(self, method: str, path: str, body: bytes, query: str = "") -> None:
        if self._cookie("NITRO_AUTH_TOKEN") not in self.stand_in.sessions:
            self._json(401, _nitro_error(444, "Invalid session"))
            return
        _, kind, name = path.split("/", 2) if path.count("/") >= 2 else (*path.split("/", 1), "")
        try:
            with self.stand_in.lock:
                status, answer = _nitro_call(
                    self.stand_in, method, kind, unquote(name), body, query
                )
        except (KeyError, TypeError, ValueError) as bad:
            status, answer = 400, _nitro_error(1092, f"Invalid argument: {bad}")
        self._json(status, answer)

    def _pan(self, form: dict[str, list[str]]) -> None:
        given = {k: v[0] for k, v in form.items()}
        if given.get("key") not in self.stand_in.keys:
            self._pan_answer(403, "error", "<msg>Invalid credentials.</msg>", code="403")
            return
        with self.stand_in.lock:
            status, result = _pan_call(self.stand_in, given)
        self._pan_answer(200 if status == "success" else 400, status, result)

    def _pan_answer(self, http: int, status: str, result: str, code: str = "") -> None:
        coded = f" code = '{code}'" if code else ""
        body = f"<response status = '{status}'{coded}><result>{result}</result></response>"
        self._answer(http, body.encode(), "application/xml")

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
            self.stand_in.keys.add(key)
            body = f"<response status = 'success'><result><key>{key}</key></result></response>"
            self._answer(200, body.encode(), "application/xml")
        else:
            body = (
                "<response status = 'error' code = '403'><result><msg>Invalid Credential</msg>"
                "</result></response>"
            )
            self._answer(403, body.encode(), "application/xml")


# NITRO ------------------------------------------------------------------------------------------

NITRO = "/nitro/v1/config"
# What each object type must be given, as the device checks it.
NITRO_NEEDS = {
    "lbvserver": ("name", "ipv46", "port", "servicetype", "lbmethod"),
    "service": ("name", "ip", "port", "servicetype"),
    "systemfile": ("filename", "filelocation", "filecontent", "fileencoding"),
    "sslcertkey": ("certkey", "cert", "key"),
}
SERVICE_TYPES = ("TCP", "UDP", "HTTP", "SSL")
LB_METHODS = ("ROUNDROBIN", "LEASTCONNECTION", "SOURCEIPHASH")


def _nitro_error(code: int, message: str) -> dict[str, Any]:
    return {"errorcode": code, "message": message, "severity": "ERROR"}


_DONE = {"errorcode": 0, "message": "Done", "severity": "NONE"}


def _nitro_call(
    device: DeviceStandIn, method: str, kind: str, name: str, body: bytes, query: str
) -> tuple[int, dict[str, Any]]:
    if kind in device.refuse and method == "POST":
        return 599, _nitro_error(1, f"Internal error while adding {kind}")
    if kind == "nsconfig":
        return 200, {**_DONE, "nsconfig": {"systemtype": "Stand-alone"}}
    if kind in ("lbvserver_service_binding", "sslvserver_sslcertkey_binding"):
        return _nitro_binding(device, method, kind, name, body, query)
    if kind not in NITRO_NEEDS:
        return 404, _nitro_error(258, f"No such resource [{kind}]")
    objects = device.nitro.setdefault(kind, {})
    key = "certkey" if kind == "sslcertkey" else ("filename" if kind == "systemfile" else "name")
    if method == "GET":
        found = [objects[name]] if name else list(objects.values())
        if name and name not in objects:
            return 404, _nitro_error(258, f"No such resource [{key}, {name}]")
        return 200, {**_DONE, kind: found}
    if method == "DELETE":
        if name not in objects:
            return 404, _nitro_error(258, f"No such resource [{key}, {name}]")
        return _nitro_delete(device, kind, name)
    given = orjson.loads(body)[kind]
    missing = [n for n in NITRO_NEEDS[kind] if given.get(n) in (None, "")]
    if missing:
        return 400, _nitro_error(1097, f"Required argument missing [{missing[0]}]")
    if given.get("servicetype", "TCP") not in SERVICE_TYPES:
        return 400, _nitro_error(1092, f"Invalid value [servicetype, {given['servicetype']}]")
    if given.get("lbmethod", "ROUNDROBIN") not in LB_METHODS:
        return 400, _nitro_error(1092, f"Invalid value [lbmethod, {given['lbmethod']}]")
    if given[key] in objects:
        return 409, _nitro_error(273, f"Resource already exists [{key}, {given[key]}]")
    if kind == "systemfile":
        base64.b64decode(given["filecontent"], validate=True)
    if kind == "sslcertkey":
        files = device.nitro.get("systemfile", {})
        for part in ("cert", "key"):
            if given[part] not in files:
                return 400, _nitro_error(1540, f"File not found [{given[part]}]")
    objects[given[key]] = dict(given)
    return 201, _DONE


def _nitro_delete(device: DeviceStandIn, kind: str, name: str) -> tuple[int, dict[str, Any]]:
    if kind == "sslcertkey" and any(c == name for _, c in device.cert_bindings):
        return 409, _nitro_error(1541, f"Certificate is bound to a virtual server [{name}]")
    del device.nitro[kind][name]
    if kind == "lbvserver":  # a virtual server takes its bindings with it
        device.service_bindings = {b for b in device.service_bindings if b[0] != name}
        device.cert_bindings = {b for b in device.cert_bindings if b[0] != name}
    if kind == "service":
        device.service_bindings = {b for b in device.service_bindings if b[1] != name}
    return 200, _DONE


def _nitro_binding(
    device: DeviceStandIn, method: str, kind: str, name: str, body: bytes, query: str
) -> tuple[int, dict[str, Any]]:
    services = kind == "lbvserver_service_binding"
    pairs = device.service_bindings if services else device.cert_bindings
    field_name = "servicename" if services else "certkeyname"
    if method == "GET":
        bound = [
            {("name" if services else "vservername"): v, field_name: o}
            for v, o in sorted(pairs)
            if v == name
        ]
        return 200, {**_DONE, kind: bound}
    if method == "DELETE":
        wanted = dict(
            part.split(":", 1) for part in unquote(query).removeprefix("args=").split(",")
        )
        pair = (name, wanted[field_name])
        if pair not in pairs:
            return 404, _nitro_error(258, "No such resource [binding]")
        pairs.discard(pair)
        return 200, _DONE
    given = orjson.loads(body)[kind]
    vserver = given["name" if services else "vservername"]
    other = given[field_name]
    if vserver not in device.nitro.get("lbvserver", {}):
        return 404, _nitro_error(258, f"No such resource [name, {vserver}]")
    if other not in device.nitro.get("service" if services else "sslcertkey", {}):
        return 404, _nitro_error(258, f"No such resource [{field_name}, {other}]")
    if not services and device.nitro["lbvserver"][vserver]["servicetype"] != "SSL":
        return 400, _nitro_error(1093, "Certificates bind only to SSL virtual servers")
    if (vserver, other) in pairs:
        return 409, _nitro_error(273, "Resource already exists [binding]")
    pairs.add((vserver, other))
    return 201, _DONE


# The Palo Alto XML API -------------------------------------------------------------------------

PAN_VSYS = "/config/devices/entry/vsys/entry[@name='vsys1']"
PAN_PLACES = {
    f"{PAN_VSYS}/rulebase/nat/rules": "nat",
    f"{PAN_VSYS}/rulebase/security/rules": "security",
    f"{PAN_VSYS}/service": "service",
}


def _pan_place(xpath: str) -> tuple[str, str] | None:
    """The place and entry name an xpath names (the name empty for the place itself)."""
    if xpath in PAN_PLACES:
        return PAN_PLACES[xpath], ""
    base, _, tail = xpath.rpartition("/entry[@name='")
    place = PAN_PLACES.get(base)
    if place is None or (tail and not tail.endswith("']")):
        return None
    return place, tail[:-2] if tail else ""


def _pan_call(device: DeviceStandIn, form: dict[str, str]) -> tuple[str, str]:
    kind = form.get("type")
    if kind == "commit":
        return _pan_commit(device)
    if kind == "op":
        command = form.get("cmd", "")
        if command.startswith("<show><jobs><id>"):
            job = int(command.removeprefix("<show><jobs><id>").split("<", 1)[0])
            if not 0 < job <= len(device.commits):
                return "error", "<msg>job not found</msg>"
            outcome = device.commits[job - 1]
            return (
                "success",
                f"<job><id>{job}</id><status>FIN</status><result>{outcome}</result></job>",
            )
        if command == "<show><system><info></info></system></show>":
            return "success", "<system><hostname>pa-stand-in</hostname></system>"
        return "error", "<msg>unknown command</msg>"
    if kind != "config":
        return "error", "<msg>unknown request type</msg>"
    found = _pan_place(form.get("xpath", ""))
    if found is None:
        return "error", "<msg>invalid xpath</msg>"
    place, name = found
    entries = device.candidate.setdefault(place, {})
    action = form.get("action")
    if action == "get":
        listed = "".join(f'<entry name="{n}">{e}</entry>' for n, e in sorted(entries.items()))
        return "success", f"<{place}>{listed}</{place}>"
    if not name:
        return "error", "<msg>an entry must be named</msg>"
    if action == "delete":
        if entries.pop(name, None) is None:
            return "error", "<msg>Object doesn't exist</msg>"
        return "success", "<msg>command succeeded</msg>"
    if action != "set":
        return "error", "<msg>unknown action</msg>"
    if place in device.refuse:
        return "error", f"<msg>{place} rule {name} is not valid</msg>"
    element = form.get("element", "")
    try:
        ElementTree.fromstring(f"<entry>{element}</entry>")
    except ElementTree.ParseError:
        return "error", "<msg>malformed element</msg>"
    entries[name] = element
    return "success", "<msg>command succeeded</msg>"


def _pan_commit(device: DeviceStandIn) -> tuple[str, str]:
    """A commit validates the candidate (every service a rule names exists) and makes it the
    running configuration, or fails and leaves the running one as it was."""
    services = set(device.candidate.get("service", {})) | {"any", "application-default"}
    valid = not device.commit_fails
    for place in ("nat", "security"):
        for element in device.candidate.get(place, {}).values():
            root = ElementTree.fromstring(f"<entry>{element}</entry>")
            named = [m.text for m in root.iterfind("service/member")]
            named += [s.text for s in root.iterfind("service") if s.text]
            if any(n not in services for n in named):
                valid = False
    device.commits.append("OK" if valid else "FAIL")
    if valid:
        device.running = {p: dict(e) for p, e in device.candidate.items()}
    return "success", f"<job>{len(device.commits)}</job>"
