"""A Cisco UCS Manager spoken to over its XML API: one XML element posted to `/nuova` per method,
its inputs as attributes, the answer the same element with `response="yes"` and the outputs
(or `errorCode` and `errorDescr` when the method failed).

A session starts with `aaaLogin` (its `outCookie` goes with every later method) and ends with
`aaaLogout`. The password is a `Secret`: it is put into the login document and nowhere else.
"""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from domain.values import Secret
from stratus.device_http import DeviceHttpError, device_url, post_xml

PATH = "/nuova"
ROOT_ORG = "org-root"


class UcsError(Exception):
    """The UCS manager could not be reached, refused a method, or answered nonsense."""


class UcsRefused(UcsError):
    """The manager answered a method with an error (its `errorCode` and `errorDescr`)."""

    def __init__(self, method: str, code: str, description: str) -> None:
        super().__init__(f"{method} failed: {description} (error {code})")
        self.method, self.code, self.description = method, code, description


# ---- the wire ----------------------------------------------------------------------------


def method_document(method: str, attributes: dict[str, str], *children: ET.Element) -> bytes:
    element = ET.Element(method, attributes)
    element.extend(children)
    return ET.tostring(element, encoding="utf-8", xml_declaration=False)


def parse_answer(method: str, body: bytes) -> ET.Element:
    """The answer's element when the method succeeded; UcsRefused when it carries an error."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise UcsError(f"{method}: the UCS manager's answer is not XML ({error})") from None
    if root.get("errorCode"):
        raise UcsRefused(method, root.get("errorCode", ""), root.get("errorDescr", ""))
    if root.tag != method:
        raise UcsError(f"{method}: the UCS manager answered {root.tag}")
    return root


def association_document(cookie: str, profile_dn: str, blade_dn: str) -> bytes:
    """`configConfMos` binding a service profile to a blade (an `lsBinding` under it)."""
    server = ET.Element("lsServer", {"dn": profile_dn})
    ET.SubElement(server, "lsBinding", {"pnDn": blade_dn, "restrictMigration": "no", "rn": "pn"})
    pair = ET.Element("pair", {"key": profile_dn})
    pair.append(server)
    configs = ET.Element("inConfigs")
    configs.append(pair)
    return method_document("configConfMos", {"cookie": cookie, "inHierarchical": "true"}, configs)


@dataclass(frozen=True)
class Blade:
    """A compute blade as `configResolveClass computeBlade` lists it."""

    dn: str
    association: str = "none"
    assigned_to: str = ""


def endpoint(url: str) -> str:
    """Where the XML API is: `url` is a host, `host:port`, or an HTTP(S) URL (4.3 takes a host)."""
    try:
        return device_url(url, PATH)
    except ValueError as error:
        raise UcsError(f"The UCS manager url {error}") from None


@dataclass(frozen=True)
class UcsManagerClient:
    """One UCS manager and the account the cloud logs in with."""

    url: str
    username: str
    password: Secret
    timeout: float = 30.0

    def post(self, method: str, document: bytes) -> ET.Element:
        try:
            body = post_xml(endpoint(self.url), document, {}, self.timeout)
        except DeviceHttpError as error:
            raise UcsError(f"{method}: the UCS manager {self.url} {error}") from None
        return parse_answer(method, body)

    def call(self, method: str, cookie: str, **attributes: str) -> ET.Element:
        return self.post(method, method_document(method, {"cookie": cookie, **attributes}))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Logged in for the block (`aaaLogin`), logged out after it (`aaaLogout`)."""
        document = method_document(
            "aaaLogin", {"inName": self.username, "inPassword": self.password.reveal()}
        )
        cookie = self.post("aaaLogin", document).get("outCookie", "")
        if not cookie:
            raise UcsError("aaaLogin: the UCS manager answered no cookie")
        try:
            yield Session(self, cookie)
        finally:
            with contextlib.suppress(UcsError):  # else it times out on the manager by itself
                self.call("aaaLogout", cookie, inCookie=cookie)


@dataclass(frozen=True)
class Session:
    """Methods run with one login's cookie."""

    client: UcsManagerClient
    cookie: str

    def blades(self) -> list[Blade]:
        found = self.client.call(
            "configResolveClass", self.cookie, classId="computeBlade", inHierarchical="false"
        )
        return [
            Blade(b.get("dn", ""), b.get("association", "none"), b.get("assignedToDn", ""))
            for b in found.iter("computeBlade")
        ]

    def profiles(self) -> list[str]:
        """The dns of the service profiles (`lsServer`)."""
        found = self.client.call("configFindDnsByClassId", self.cookie, classId="lsServer")
        return [dn.get("value", "") for dn in found.iter("dn")]

    def clone_profile(self, source_dn: str, name: str) -> str:
        """A copy of a profile under the root organisation, by the given name; its dn."""
        found = self.client.call(
            "lsClone",
            self.cookie,
            dn=source_dn,
            inTargetOrg=ROOT_ORG,
            inServerName=name,
            inHierarchical="false",
        )
        server = found.find("outConfig/lsServer")
        if server is None or not server.get("dn"):
            raise UcsError(f"lsClone: the UCS manager answered no profile for {source_dn}")
        return server.get("dn", "")

    def associate(self, profile_dn: str, blade_dn: str) -> None:
        document = association_document(self.cookie, profile_dn, blade_dn)
        self.client.post("configConfMos", document)

    def association_of(self, blade_dn: str) -> str:
        found = self.client.call("configResolveDn", self.cookie, dn=blade_dn)
        blade = found.find("outConfig/computeBlade")
        if blade is None:
            raise UcsError(f"configResolveDn: the UCS manager has no blade {blade_dn}")
        return blade.get("association", "none")

    def wait_associated(
        self,
        blade_dn: str,
        *,
        timeout: float = 600.0,
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Until the manager reports the blade `associated` (4.3 waits up to 600 seconds)."""
        deadline = clock() + timeout
        while self.association_of(blade_dn) != "associated":
            if clock() >= deadline:
                raise UcsError(f"The blade {blade_dn} was not associated within {timeout:g}s")
            time.sleep(interval)
