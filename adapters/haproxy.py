"""The load balancer configuration a virtual router runs: haproxy's, built from the network's
rule set, as CloudStack's router builds it (one `listen` section per load balancer rule, its
algorithm, stickiness and, for ssl rules, the certificate it terminates with).

A certificate is referenced by its file on the router (`CERT_DIR/<id>.pem`); the file's text,
the certificate, its chain and its private key, is made here in memory for the driver to put
in place and is never part of the configuration text or of any log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CERT_DIR = "/etc/haproxy/certs"
_GLOBAL = """global
\tlog 127.0.0.1:3914 local0 warning
\tmaxconn {maxconn}
\tchroot /var/lib/haproxy
\tuser haproxy
\tgroup haproxy
\tdaemon

defaults
\tlog global
\tmode tcp
\toption dontlognull
\tretries 3
\toption redispatch
\ttimeout connect 5000
\ttimeout client 50000
\ttimeout server 50000
"""
DEFAULT_MAX_CONNECTIONS = 4096
_BALANCE = {"roundrobin": "roundrobin", "leastconn": "leastconn", "source": "source"}
_FLAGS = {"nocache", "indirect", "postonly", "request-learn", "prefix"}


@dataclass(frozen=True)
class Limits:
    """The network offering's say: at most `max_connections` at once over all rules, and
    HTTP keep-alive (else haproxy closes each HTTP connection after its request)."""

    max_connections: int = DEFAULT_MAX_CONNECTIONS
    keep_alive: bool = False

    @classmethod
    def of(cls, given: Mapping[str, Any]) -> Limits:
        """From a request's `balancer` mapping (missing values: the defaults)."""
        chosen = given.get("max_connections")
        return cls(
            int(chosen) if chosen is not None else DEFAULT_MAX_CONNECTIONS,
            bool(given.get("keep_alive", False)),
        )

    def head(self) -> str:
        """The global and defaults sections."""
        if self.max_connections < 1:
            raise ValueError(f"maxconn must be positive, not {self.max_connections}")
        text = _GLOBAL.format(maxconn=self.max_connections)
        return text + ("\toption http-keep-alive\n" if self.keep_alive else "")

    @property
    def closing(self) -> str:
        """What an HTTP section says of its connections."""
        return "option http-keep-alive" if self.keep_alive else "option httpclose"


@dataclass(frozen=True)
class BalancerConfig:
    """haproxy's configuration text and the PEM bundles (certificate, chain, key) of its ssl
    rules by certificate id; the bundles live in memory only."""

    text: str
    pems: Mapping[str, str] = field(default_factory=dict, repr=False)

    def digests(self) -> dict[str, str]:
        """A SHA-256 of each bundle: what a router may record of it."""
        return {cid: hashlib.sha256(pem.encode()).hexdigest() for cid, pem in self.pems.items()}


def _short(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def _truthy(value: str) -> bool:
    return str(value).strip().lower() not in ("false", "0", "no")


def _stickiness(policy: Mapping[str, Any], rule_name: str, closing: str) -> tuple[list[str], bool]:
    """The section's lines for a policy, and whether servers carry a cookie (`closing`: what
    the HTTP mode a cookie needs says of connections)."""
    params = {str(k).lower(): str(v) for k, v in dict(policy.get("params") or {}).items()}
    method = str(policy.get("method", ""))
    if method == "SourceBased":
        size, expire = params.get("tablesize", "200k"), params.get("expire", "30m")
        return [f"stick-table type ip size {size} expire {expire}", "stick on src"], False
    flags = [name for name in sorted(_FLAGS) if name in params and _truthy(params[name])]
    if method == "LbCookie":
        cookie = params.get("cookie-name") or f"lbcooki_{_short(rule_name)}"
        words = ["cookie", cookie, params.get("mode", "insert"), *flags]
        if params.get("domain"):
            words += ["domain", params["domain"]]
        return ["mode http", closing, " ".join(words)], True
    cookie = params.get("cookie-name") or f"appcookie_{_short(rule_name)}"
    words = [
        "appsession",
        cookie,
        "len",
        params.get("length", "52"),
        "timeout",
        params.get("holdtime", "3h"),
        *flags,
    ]
    if params.get("mode"):
        words += ["mode", params["mode"]]
    return ["mode http", closing, " ".join(words)], False


def _section(rule: Mapping[str, Any], limits: Limits) -> list[str]:
    address, port = rule["address"], rule["start_port"]
    name = f"{str(address).replace('.', '_')}-{port}"
    bind = f"\tbind {address}:{port}"
    if rule.get("cert_id"):
        bind += f" ssl crt {CERT_DIR}/{rule['cert_id']}.pem"
    lines = [f"listen {name}", bind, f"\tbalance {_BALANCE.get(rule['algorithm'], 'roundrobin')}"]
    cookies = False
    for policy in rule.get("stickiness") or ():
        extra, cookies = _stickiness(policy, name, limits.closing)
        lines += [f"\t{line}" for line in extra]
    if rule.get("cert_id") and not any("mode http" in line for line in lines):
        lines += ["\tmode http", f"\t{limits.closing}"]
    proxy = " send-proxy" if rule.get("protocol") == "tcp-proxy" else ""
    for index, member in enumerate(rule.get("members") or ()):
        server = f"{name}_{index}"
        cookie = f" cookie {server}" if cookies else ""
        lines.append(
            f"\tserver {server} {member['vm_ip']}:{rule['private_start']} check{cookie}{proxy}"
        )
    return lines


def build_config(
    rules: Iterable[Mapping[str, Any]],
    certificates: Iterable[Mapping[str, Any]] = (),
    keys: Mapping[str, str] | None = None,
    limits: Limits = Limits(),
) -> BalancerConfig:
    """haproxy's configuration for the set's load balancer rules (udp ones are not haproxy's),
    with the network offering's `limits`; each certificate's bundle joins the key from `keys`
    (opened from the request's seal)."""
    sections = []
    for rule in rules:
        if rule.get("kind") == "LoadBalancing" and rule.get("protocol") != "udp":
            sections.append("\n".join(_section(rule, limits)))
    text = limits.head() + "".join(f"\n{section}\n" for section in sections)
    pems = {}
    for cert in certificates:
        cert_id = str(cert["id"])
        key = (keys or {}).get(cert_id)
        if key is None:
            raise ValueError(f"the request carries no key for certificate {cert_id}")
        pems[cert_id] = str(cert["certificate"]) + str(cert.get("chain") or "") + key
    return BalancerConfig(text, pems)
