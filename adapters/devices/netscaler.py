"""The NetScaler adapter: a network's load balancers (and their SSL termination) held on a
NetScaler MPX/VPX through its NITRO REST API, as 4.3's NetscalerResource does.

Each load balancer rule is an `lbvserver` on its public address and port, each member a
`service` (the VM's address and private port) bound to it with `lbvserver_service_binding`;
a rule terminating SSL has its certificate and key uploaded as `systemfile`s, made an
`sslcertkey`, and bound with `sslvserver_sslcertkey_binding`. Every object is named after the
network (`NetworkFacts.tag`), so the device's objects of one network are found by name and the
set is applied by difference: extra objects are removed, missing ones added.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from adapters import AuthenticationError, Credentials
from adapters.devices import (
    DeviceInventory,
    DeviceRefused,
    Generations,
    NetworkFacts,
    TlsMaterial,
    base_url,
    call,
)
from stratus.actions import DEVICE_CAPABILITIES

NITRO = "/nitro/v1/config"
SSL_FOLDER = "/nflash/config/ssl"
METHODS = {"roundrobin": "ROUNDROBIN", "leastconn": "LEASTCONNECTION", "source": "SOURCEIPHASH"}
PERSISTENCE = {"LbCookie": "COOKIEINSERT", "AppCookie": "RULE", "SourceBased": "SOURCEIP"}
SESSION_GONE = (401, 440)  # the device forgot the session: log in once more


@dataclass(frozen=True)
class VirtualServer:
    """What one load balancer rule is on the device."""

    name: str
    spec: dict[str, Any]
    services: dict[str, dict[str, Any]]
    certkey: str | None


def _short(text: str) -> str:
    return text.replace("-", "")[:12]


class NetscalerDriver:
    """One NetScaler, logged into over NITRO (a session cookie)."""

    kind = "netscaler"
    capabilities = DEVICE_CAPABILITIES["netscaler"]

    def __init__(self) -> None:
        self._base = ""
        self._credentials: Credentials | None = None
        self._session = ""
        self._generations = Generations()

    # Session ------------------------------------------------------------------------------

    def connect(self, credentials: Credentials) -> DeviceInventory:
        self._base, self._credentials = base_url(credentials.url), credentials
        self._login()
        return DeviceInventory("NetScaler", self.kind, self._base)

    def _login(self) -> None:
        assert self._credentials is not None
        body = {
            "login": {
                "username": self._credentials.username,
                "password": self._credentials.password,
            }
        }
        reply = call(
            f"{self._base}{NITRO}/login",
            "POST",
            orjson.dumps(body),
            {"Content-Type": "application/json"},
        )
        found = _json(reply.body)
        if reply.status // 100 != 2 or found.get("errorcode", 0) != 0 or not found.get("sessionid"):
            raise AuthenticationError(
                f"the NetScaler at {self._base} refused the login: errorcode "
                f"{found.get('errorcode', reply.status)} {found.get('message', '')}".strip()
            )
        self._session = str(found["sessionid"])

    def ping(self) -> bool:
        return self._nitro("GET", "nsconfig", allow_missing=True) is not None

    def close(self) -> None:
        if self._session:
            # The session ends with the device's timeout anyway.
            with contextlib.suppress(Exception):
                self._nitro("POST", "logout", {"logout": {}})
            self._session = ""

    def _nitro(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        allow_missing: bool = False,
        again: bool = True,
    ) -> dict[str, Any] | None:
        """One NITRO call; its answer, None for a missing resource when `allow_missing`."""
        headers = {
            "Content-Type": "application/json",
            "Cookie": f"NITRO_AUTH_TOKEN={self._session}",
        }
        payload = orjson.dumps(body) if body is not None else None
        reply = call(f"{self._base}{NITRO}/{path}", method, payload, headers)
        found = _json(reply.body)
        if reply.status in SESSION_GONE and again and self._credentials is not None:
            self._login()
            return self._nitro(method, path, body, allow_missing=allow_missing, again=False)
        if allow_missing and (reply.status == 404 or found.get("errorcode") == 258):
            return None
        if reply.status // 100 != 2 or found.get("errorcode", 0) != 0:
            raise DeviceRefused(
                f"the NetScaler refused {method} {path.split('?')[0]}: errorcode "
                f"{found.get('errorcode', reply.status)} {found.get('message', '')}".strip()
            )
        return found

    def _list(self, kind: str, prefix: str) -> dict[str, dict[str, Any]]:
        found = self._nitro("GET", kind, allow_missing=True) or {}
        return {
            o["name"]: o for o in found.get(kind, []) if str(o.get("name", "")).startswith(prefix)
        }

    # The set ------------------------------------------------------------------------------

    def apply_rules(
        self,
        network: NetworkFacts,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        certificates: tuple[TlsMaterial, ...],
    ) -> int:
        held = self._generations.stale(network, generation)
        if held is not None:
            return held
        tag = network.tag
        wanted = {v.name: v for v in (_virtual_server(tag, r) for r in rules if _balancer(r))}
        materials = {c.id: c for c in certificates}
        certkeys = {v.certkey for v in wanted.values() if v.certkey}
        # Off first: servers that go or change, then services and certificates nobody uses.
        servers = self._list("lbvserver", f"Cloud-VS-{tag}-")
        for name, present in servers.items():
            if name not in wanted or _differs(present, wanted[name].spec):
                self._nitro("DELETE", f"lbvserver/{quote(name)}")
        services_wanted = {s: spec for v in wanted.values() for s, spec in v.services.items()}
        for name in self._list("service", f"Cloud-Svc-{tag}-"):
            if name not in services_wanted:
                self._nitro("DELETE", f"service/{quote(name)}")
        for name in self._list_certkeys(tag):
            if name not in certkeys:
                self._remove_certkey(name)
        # Then on: what is missing.
        present_services = self._list("service", f"Cloud-Svc-{tag}-")
        for name, spec in sorted(services_wanted.items()):
            if name not in present_services:
                self._nitro("POST", "service", {"service": spec})
        present_certkeys = self._list_certkeys(tag)
        for server in wanted.values():
            if server.certkey and server.certkey not in present_certkeys:
                cert_id = server.certkey.rsplit("-", 1)[-1]
                material = next((m for i, m in materials.items() if _short(i) == cert_id), None)
                if material is None:
                    raise DeviceRefused(f"the set names certificate {cert_id} but carries none")
                self._add_certkey(server.certkey, material)
                present_certkeys.add(server.certkey)
        remaining = self._list("lbvserver", f"Cloud-VS-{tag}-")
        for name, server in sorted(wanted.items()):
            if name not in remaining:
                self._nitro("POST", "lbvserver", {"lbvserver": server.spec})
            self._bind_services(server)
            self._bind_certificate(server)
        return self._generations.hold(network, generation)

    def _bind_services(self, server: VirtualServer) -> None:
        found = self._nitro(
            "GET", f"lbvserver_service_binding/{quote(server.name)}", allow_missing=True
        )
        bound = {b["servicename"] for b in (found or {}).get("lbvserver_service_binding", [])}
        for name in sorted(set(server.services) - bound):
            binding = {"name": server.name, "servicename": name}
            self._nitro("POST", "lbvserver_service_binding", {"lbvserver_service_binding": binding})
        for name in sorted(bound - set(server.services)):
            self._nitro(
                "DELETE",
                f"lbvserver_service_binding/{quote(server.name)}?args=servicename:{quote(name)}",
            )

    def _bind_certificate(self, server: VirtualServer) -> None:
        if server.spec["servicetype"] != "SSL":
            return
        path = f"sslvserver_sslcertkey_binding/{quote(server.name)}"
        found = self._nitro("GET", path, allow_missing=True)
        bound = {b["certkeyname"] for b in (found or {}).get("sslvserver_sslcertkey_binding", [])}
        if server.certkey and server.certkey not in bound:
            binding = {"vservername": server.name, "certkeyname": server.certkey}
            self._nitro(
                "POST", "sslvserver_sslcertkey_binding", {"sslvserver_sslcertkey_binding": binding}
            )

    def _list_certkeys(self, tag: str) -> set[str]:
        found = self._nitro("GET", "sslcertkey", allow_missing=True) or {}
        return {
            str(o["certkey"])
            for o in found.get("sslcertkey", [])
            if str(o.get("certkey", "")).startswith(f"Cloud-Cert-{tag}-")
        }

    def _add_certkey(self, name: str, material: TlsMaterial) -> None:
        for suffix, text in ((".crt", material.certificate), (".key", material.key)):
            upload = {
                "filename": f"{name}{suffix}",
                "filelocation": SSL_FOLDER,
                "filecontent": base64.b64encode(text.encode()).decode(),
                "fileencoding": "BASE64",
            }
            self._nitro("POST", "systemfile", {"systemfile": upload})
        certkey = {"certkey": name, "cert": f"{name}.crt", "key": f"{name}.key"}
        self._nitro("POST", "sslcertkey", {"sslcertkey": certkey})

    def _remove_certkey(self, name: str) -> None:
        self._nitro("DELETE", f"sslcertkey/{quote(name)}")
        for suffix in (".crt", ".key"):
            self._nitro(
                "DELETE",
                f"systemfile/{quote(name + suffix)}?args=filelocation:{quote(SSL_FOLDER, safe='')}",
                allow_missing=True,
            )


def _balancer(rule: dict[str, Any]) -> bool:
    return rule.get("kind") == "LoadBalancing"


def _virtual_server(tag: str, rule: dict[str, Any]) -> VirtualServer:
    ssl = bool(rule.get("cert_id"))
    protocol = str(rule.get("protocol") or "tcp").lower()
    front = "SSL" if ssl else ("UDP" if protocol == "udp" else "TCP")
    back = "HTTP" if ssl else front  # SSL ends on the device; the members speak plain
    port = int(rule.get("private_start") or rule["start_port"])
    services = {}
    for member in rule.get("members") or ():
        name = f"Cloud-Svc-{tag}-{member['vm_ip']}-{port}"
        services[name] = {"name": name, "ip": member["vm_ip"], "port": port, "servicetype": back}
    policies = rule.get("stickiness") or ()
    persistence = PERSISTENCE.get(policies[0]["method"], "NONE") if policies else "NONE"
    name = f"Cloud-VS-{tag}-{_short(str(rule['id']))}"
    spec = {
        "name": name,
        "ipv46": rule["address"],
        "port": int(rule["start_port"]),
        "servicetype": front,
        "lbmethod": METHODS.get(str(rule.get("algorithm") or "roundrobin"), "ROUNDROBIN"),
        "persistencetype": persistence,
    }
    certkey = f"Cloud-Cert-{tag}-{_short(str(rule['cert_id']))}" if ssl else None
    return VirtualServer(name, spec, services, certkey)


def _differs(present: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return any(str(present.get(k)) != str(v) for k, v in wanted.items())


def _json(body: bytes) -> dict[str, Any]:
    try:
        found = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}
