"""The Palo Alto adapter: a network's firewall, port forwarding, static NAT and source NAT held
on a Palo Alto firewall through its XML API, as 4.3's PaloAltoResource does.

The adapter logs in with the API's key generation, then writes the candidate configuration of
vsys1: a NAT rule per port forwarding (destination translation, with a service object for its
ports) and per static NAT (bi-directional static source translation), one source NAT rule for
the network's source NAT address (dynamic IP and port), and a security rule per firewall or
egress rule; then commits and waits for the commit job to finish. Every entry is named after
the network (`cs-<tag>-`), so the set is applied by difference, and nothing is committed when
nothing changed. The zones are the device's `publicnetwork` and `privatenetwork` options.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

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

VSYS = "/config/devices/entry/vsys/entry[@name='vsys1']"
PLACES = {
    "nat": f"{VSYS}/rulebase/nat/rules",
    "security": f"{VSYS}/rulebase/security/rules",
    "service": f"{VSYS}/service",
}
COMMIT_POLLS = 300  # a commit job is read this many times, 0.1 s apart, before giving up


def _short(text: str) -> str:
    return text.replace("-", "")[:8]


def _members(*values: str) -> str:
    return "".join(f"<member>{escape(v)}</member>" for v in values)


class PaloAltoDriver:
    """One Palo Alto firewall, reached with an API key."""

    kind = "paloalto"
    capabilities = DEVICE_CAPABILITIES["paloalto"]

    def __init__(self) -> None:
        self._base = ""
        self._credentials: Credentials | None = None
        self._key = ""
        self._generations = Generations()
        self._uncommitted = False  # a commit failed: the candidate is ahead of what runs

    def connect(self, credentials: Credentials) -> DeviceInventory:
        self._base, self._credentials = base_url(credentials.url), credentials
        self._keygen()
        return DeviceInventory("Palo Alto", self.kind, self._base)

    def _keygen(self) -> None:
        assert self._credentials is not None
        form = {
            "type": "keygen",
            "user": self._credentials.username,
            "password": self._credentials.password,
        }
        root = self._post(form, keyed=False)
        key = (root.findtext("result/key") or "").strip()
        if root.get("status") != "success" or not key:
            raise AuthenticationError(
                f"the Palo Alto at {self._base} refused the login: {_text(root)}"
            )
        self._key = key

    def ping(self) -> bool:
        root = self._api({"type": "op", "cmd": "<show><system><info></info></system></show>"})
        return root.get("status") == "success"

    def close(self) -> None:
        self._key = ""

    def _post(self, form: dict[str, str], keyed: bool = True) -> ElementTree.Element:
        data = dict(form, key=self._key) if keyed else form
        reply = call(
            f"{self._base}/api/",
            "POST",
            urlencode(data).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            return ElementTree.fromstring(reply.body)
        except ElementTree.ParseError:
            return ElementTree.Element("response", {"status": "error", "code": str(reply.status)})

    def _api(self, form: dict[str, str], again: bool = True) -> ElementTree.Element:
        root = self._post(form)
        if root.get("status") != "success" and root.get("code") == "403" and again:
            self._keygen()  # the key was revoked or the device restarted
            return self._api(form, again=False)
        return root

    def _config(self, action: str, xpath: str, element: str = "") -> ElementTree.Element:
        form = {"type": "config", "action": action, "xpath": xpath}
        if element:
            form["element"] = element
        root = self._api(form)
        if root.get("status") != "success":
            raise DeviceRefused(f"the Palo Alto refused to {action} {xpath}: {_text(root)}")
        return root

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
        wanted = _entries(network, rules)
        changed = False
        for place, xpath in PLACES.items():
            present = self._present(xpath, f"cs-{network.tag}-")
            for name, entry in present.items():
                if name not in wanted[place] or _canonical(entry) != _canonical(
                    _entry(name, wanted[place][name])
                ):
                    self._config("delete", f"{xpath}/entry[@name='{name}']")
                    changed = True
        # Services before the rules that name them.
        for place in ("service", "nat", "security"):
            present = self._present(PLACES[place], f"cs-{network.tag}-")
            for name, element in sorted(wanted[place].items()):
                if name not in present:
                    self._config("set", f"{PLACES[place]}/entry[@name='{name}']", element)
                    changed = True
        if changed or self._uncommitted:
            self._uncommitted = True
            self._commit()
            self._uncommitted = False
        return self._generations.hold(network, generation)

    def _present(self, xpath: str, prefix: str) -> dict[str, ElementTree.Element]:
        root = self._api({"type": "config", "action": "get", "xpath": xpath})
        if root.get("status") != "success":
            return {}
        return {
            str(e.get("name")): e
            for e in root.iter("entry")
            if str(e.get("name", "")).startswith(prefix)
        }

    def _commit(self) -> None:
        root = self._api({"type": "commit", "cmd": "<commit></commit>"})
        job = (root.findtext("result/job") or "").strip()
        if root.get("status") != "success" or not job:
            raise DeviceRefused(f"the Palo Alto refused to commit: {_text(root)}")
        for _ in range(COMMIT_POLLS):
            state = self._api({"type": "op", "cmd": f"<show><jobs><id>{job}</id></jobs></show>"})
            status = state.findtext("result/job/status") or ""
            if status == "FIN":
                outcome = state.findtext("result/job/result") or ""
                if outcome != "OK":
                    raise DeviceRefused(f"the Palo Alto commit {job} failed: {_text(state)}")
                return
            time.sleep(0.1)
        raise DeviceRefused(f"the Palo Alto commit {job} did not finish")


def _entries(network: NetworkFacts, rules: tuple[dict[str, Any], ...]) -> dict[str, dict[str, str]]:
    """The entries the network's set makes, by place and name (their XML elements)."""
    public = network.options.get("publicnetwork", "untrust")
    private = network.options.get("privatenetwork", "trust")
    tag = network.tag
    found: dict[str, dict[str, str]] = {place: {} for place in PLACES}
    if network.source_nat:
        found["nat"][f"cs-{tag}-snat"] = (
            f"<from>{_members(private)}</from><to>{_members(public)}</to>"
            f"<source>{_members(network.cidr)}</source><destination>{_members('any')}"
            "</destination><service>any</service><source-translation><dynamic-ip-and-port>"
            f"<translated-address>{_members(network.source_nat)}</translated-address>"
            "</dynamic-ip-and-port></source-translation>"
        )
    for rule in rules:
        kind, rid = rule.get("kind"), _short(str(rule.get("id", "")))
        if kind == "PortForwarding":
            service = f"cs-{tag}-svc-{rid}"
            found["service"][service] = _service(rule)
            found["nat"][f"cs-{tag}-dnat-{rid}"] = (
                f"<from>{_members(public)}</from><to>{_members(public)}</to>"
                f"<source>{_members('any')}</source><destination>{_members(rule['address'])}"
                f"</destination><service>{escape(service)}</service><destination-translation>"
                f"<translated-address>{escape(str(rule['vm_ip']))}</translated-address>"
                f"<translated-port>{int(rule['private_start'])}</translated-port>"
                "</destination-translation>"
            )
        elif kind == "StaticNat":
            found["nat"][f"cs-{tag}-stat-{rid}"] = (
                f"<from>{_members(private)}</from><to>{_members(public)}</to>"
                f"<source>{_members(str(rule['vm_ip']))}</source><destination>"
                f"{_members('any')}</destination><service>any</service><source-translation>"
                f"<static-ip><translated-address>{escape(rule['address'])}</translated-address>"
                "<bi-directional>yes</bi-directional></static-ip></source-translation>"
            )
        elif kind in ("Firewall", "FirewallEgress"):
            service = "any"
            if rule.get("protocol") in ("tcp", "udp") and rule.get("start_port"):
                service = f"cs-{tag}-svc-{rid}"
                found["service"][service] = _service(rule)
            ingress = kind == "Firewall"
            cidrs = tuple(rule.get("cidrs") or ("0.0.0.0/0",))
            source = cidrs if ingress else (network.cidr,)
            target = (rule["address"],) if ingress else cidrs
            zones = (public, private) if ingress else (private, public)
            found["security"][f"cs-{tag}-fw-{rid}"] = (
                f"<from>{_members(zones[0])}</from><to>{_members(zones[1])}</to>"
                f"<source>{_members(*source)}</source><destination>{_members(*target)}"
                f"</destination><application>{_members('any')}</application>"
                f"<service>{_members(service)}</service><action>allow</action>"
            )
    return found


def _service(rule: dict[str, Any]) -> str:
    protocol = "udp" if rule.get("protocol") == "udp" else "tcp"
    start = int(rule["start_port"])
    end = int(rule.get("end_port") or start)
    ports = str(start) if start == end else f"{start}-{end}"
    return f"<protocol><{protocol}><port>{ports}</port></{protocol}></protocol>"


def _entry(name: str, element: str) -> ElementTree.Element:
    return ElementTree.fromstring(f"<entry name={quoteattr(name)}>{element}</entry>")


def _canonical(entry: ElementTree.Element) -> str:
    return ElementTree.canonicalize(ElementTree.tostring(entry), strip_text=True)


def _text(root: ElementTree.Element) -> str:
    found = " ".join(t.strip() for t in root.itertext() if t.strip())
    return found or f"error {root.get('code', '')}".strip()
