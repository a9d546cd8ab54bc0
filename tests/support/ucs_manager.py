"""A Cisco UCS manager stand-in speaking the part of the UCS XML API the cloud uses (`/nuova`),
with state: blades, service profiles, login cookies, profiles cloned and bound to blades.

Like the real manager it answers every method with HTTP 200 and puts a failure in the answer
(`errorCode`, `errorDescr`): 551 for a refused login, 552 for a method without a valid cookie.
A blade bound to a profile reports `associating` for `associating_polls` resolves, then
`associated`.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from tests.support.xml_stand_in import XmlStandIn


class Refusal(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass
class Blade:
    dn: str
    association: str = "none"
    assigned_to: str = ""
    polls_left: int = 0


@dataclass
class Manager:
    """The manager's state; every `method_*` answers one XML API method or raises Refusal."""

    username: str
    password: str
    blades: dict[str, Blade] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    cookies: set[str] = field(default_factory=set)
    logins: int = 0
    associating_polls: int = 0

    def answer(self, method: str, request: ET.Element) -> ET.Element:
        attributes = dict(request.attrib)
        if method != "aaaLogin" and attributes.get("cookie") not in self.cookies:
            raise Refusal("552", "Authorization required")
        handler = getattr(self, "method_" + method, None)
        if handler is None:
            raise Refusal("1", f"unknown method {method}")
        out = ET.Element(method, {"cookie": attributes.get("cookie", ""), "response": "yes"})
        handler(request, out)
        return out

    def method_aaaLogin(self, request: ET.Element, out: ET.Element) -> None:
        if (request.get("inName"), request.get("inPassword")) != (self.username, self.password):
            raise Refusal("551", "Authentication failed")
        cookie = f"{secrets.randbelow(10**10)}/{secrets.token_hex(16)}"
        self.cookies.add(cookie)
        self.logins += 1
        out.attrib.update({"outCookie": cookie, "outRefreshPeriod": "600", "outPriv": "admin"})

    def method_aaaLogout(self, request: ET.Element, out: ET.Element) -> None:
        self.cookies.discard(request.get("inCookie", ""))
        out.set("outStatus", "success")

    def method_configResolveClass(self, request: ET.Element, out: ET.Element) -> None:
        configs = ET.SubElement(out, "outConfigs")
        if request.get("classId") == "computeBlade":
            configs.extend(self._blade(blade) for blade in self.blades.values())

    def _blade(self, blade: Blade) -> ET.Element:
        return ET.Element(
            "computeBlade",
            {
                "dn": blade.dn,
                "association": blade.association,
                "assignedToDn": blade.assigned_to,
                "numOfCpus": "2",
                "totalMemory": "98304",
            },
        )

    def method_configFindDnsByClassId(self, request: ET.Element, out: ET.Element) -> None:
        dns = ET.SubElement(out, "outDns")
        if request.get("classId") == "lsServer":
            for dn in self.profiles:
                ET.SubElement(dns, "dn", {"value": dn})

    def method_lsClone(self, request: ET.Element, out: ET.Element) -> None:
        if request.get("dn") not in self.profiles:
            raise Refusal("103", f"no such profile {request.get('dn')}")
        dn = f"{request.get('inTargetOrg')}/ls-{request.get('inServerName')}"
        if dn in self.profiles:
            raise Refusal("103", f"a profile {dn} exists already")
        self.profiles.append(dn)
        ET.SubElement(ET.SubElement(out, "outConfig"), "lsServer", {"dn": dn})

    def method_configConfMos(self, request: ET.Element, out: ET.Element) -> None:
        for pair in request.iter("pair"):
            binding = pair.find("lsServer/lsBinding")
            if pair.get("key") not in self.profiles or binding is None:
                raise Refusal("103", f"no such profile {pair.get('key')}")
            blade = self.blades.get(binding.get("pnDn", ""))
            if blade is None:
                raise Refusal("103", f"no such blade {binding.get('pnDn')}")
            blade.association, blade.assigned_to = "associating", pair.get("key", "")
            blade.polls_left = self.associating_polls
        ET.SubElement(out, "outConfigs")

    def method_configResolveDn(self, request: ET.Element, out: ET.Element) -> None:
        config = ET.SubElement(out, "outConfig")
        blade = self.blades.get(request.get("dn", ""))
        if blade is None:
            return
        if blade.association == "associating":
            if blade.polls_left <= 0:
                blade.association = "associated"
            blade.polls_left -= 1
        config.append(self._blade(blade))


class UcsServer(XmlStandIn):
    """The stand-in serving one `Manager` at `/nuova`."""

    def __init__(self, username: str = "ucs-admin", password: str = "ucs-Pass-1") -> None:
        self.manager = Manager(username, password)
        super().__init__()

    @property
    def url(self) -> str:
        return self.address

    def respond(self, path: str, headers: Any, body: bytes) -> tuple[int, bytes]:
        if path != "/nuova":
            return 404, b"not found"
        request = ET.fromstring(body)
        try:
            out = self.manager.answer(request.tag, request)
        except Refusal as refusal:
            failure = {
                "cookie": request.get("cookie", ""),
                "response": "yes",
                "errorCode": refusal.code,
                "invocationResult": "unidentified-fail",
                "errorDescr": refusal.description,
            }
            out = ET.Element(request.tag, failure)
        return 200, ET.tostring(out, encoding="utf-8")
