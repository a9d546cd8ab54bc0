"""A NetApp filer spoken to over ONTAPI: XML requests posted over HTTP, as the Manageability SDK
sends them (API version 1.3, the login-password style: HTTP basic authentication).

Each request is one `<netapp>` document holding one API element whose children are its inputs;
the answer is a `<results>` element, `status="passed"` with the outputs as children, or
`status="failed"` with an `errno` and a `reason`. The password is a `Secret`: it goes into the
Authorization header of each request and nowhere else (no error or log line carries it).
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from domain.values import Secret
from stratus.device_http import DeviceHttpError, device_url, post_xml

NAMESPACE = "http://www.netapp.com/filer/admin"
API_VERSION = "1.3"
PATH = "/servlets/netapp.servlets.admin.XMLrequest_filer"
GIB = 1024**3

# Errors ONTAPI answers that 4.3 takes as done already.
NO_SUCH_VOLUME = 13040
IGROUP_EXISTS = 9004
INITIATOR_IN_GROUP = 9008
NO_SUCH_MAP = 9016
NO_SUCH_IGROUP = 9017
LUN_ALREADY_MAPPED = 9023
LUN_ID_TAKEN = 9024
IGROUP_HAS_MAPS = 9029


class FilerError(Exception):
    """The filer could not be reached, refused the credentials, or answered nonsense."""


class FilerRefused(FilerError):
    """The filer ran the API and answered `failed` (its `errno` and `reason`)."""

    def __init__(self, api: str, errno: int, reason: str) -> None:
        super().__init__(f"{api} failed: {reason} (errno {errno})")
        self.api, self.errno, self.reason = api, errno, reason


# ---- the wire ----------------------------------------------------------------------------


def request_document(api: str, inputs: list[tuple[str, str]]) -> bytes:
    """The XML an API call is posted as: `<netapp><api><name>value</name>…</api></netapp>`."""
    root = ET.Element("netapp", {"version": API_VERSION, "xmlns": NAMESPACE})
    element = ET.SubElement(root, api)
    for name, value in inputs:
        ET.SubElement(element, name).text = value
    return b"<?xml version='1.0' encoding='utf-8' ?>\n" + ET.tostring(root, encoding="utf-8")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def strip_namespaces(element: ET.Element) -> ET.Element:
    for node in element.iter():
        node.tag = _local(node.tag)
    return element


def parse_results(api: str, body: bytes) -> ET.Element:
    """The `<results>` of an answer when it passed; FilerRefused when it failed."""
    try:
        root = strip_namespaces(ET.fromstring(body))
    except ET.ParseError as error:
        raise FilerError(f"{api}: the filer's answer is not XML ({error})") from None
    results = root if root.tag == "results" else root.find("results")
    if results is None:
        raise FilerError(f"{api}: the filer's answer holds no results")
    if results.get("status") != "passed":
        errno = results.get("errno", "0")
        reason = results.get("reason", "unknown reason")
        raise FilerRefused(api, int(errno) if errno.isdigit() else 0, reason)
    return results


def text_of(element: ET.Element, name: str, default: str = "") -> str:
    child = element.find(name)
    return default if child is None or child.text is None else child.text


# ---- the client --------------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeSpace:
    """What `volume-list-info` says of a volume: its state and free bytes."""

    state: str
    available: int

    @property
    def online(self) -> bool:
        return self.state.lower() == "online"


@dataclass(frozen=True)
class SnapshotSchedule:
    """A volume's snapshot schedule, as 4.3 writes it: `weeks days hours@which minutes@which`."""

    weeks: str = ""
    days: str = ""
    hours: str = ""
    which_hours: str = ""
    minutes: str = ""
    which_minutes: str = ""

    @classmethod
    def parse(cls, policy: str) -> SnapshotSchedule:
        """4.3's form, each part optional from the end: `0 2 6@8,12 0@`."""
        parts = policy.split()
        hours, _, which_hours = (parts[2] if len(parts) > 2 else "").partition("@")
        minutes, _, which_minutes = (parts[3] if len(parts) > 3 else "").partition("@")
        return cls(
            weeks=parts[0] if parts else "",
            days=parts[1] if len(parts) > 1 else "",
            hours=hours,
            which_hours=which_hours,
            minutes=minutes,
            which_minutes=which_minutes,
        )

    def inputs(self) -> list[tuple[str, str]]:
        pairs = [
            ("weeks", self.weeks),
            ("days", self.days),
            ("hours", self.hours),
            ("minutes", self.minutes),
            ("which-hours", self.which_hours),
            ("which-minutes", self.which_minutes),
        ]
        return [(name, value) for name, value in pairs if value]

    def text(self) -> str:
        return (
            f"{self.weeks} {self.days} {self.hours}@{self.which_hours} "
            f"{self.minutes}@{self.which_minutes}"
        )


def endpoint(address: str) -> str:
    """The URL of the filer's ONTAPI servlet: `address` is a host, `host:port`, or a URL."""
    try:
        return device_url(address, PATH)
    except ValueError as error:
        raise FilerError(f"The filer address {error}") from None


@dataclass(frozen=True)
class Filer:
    """One filer and the credentials of an administrator on it."""

    address: str
    username: str
    password: Secret
    timeout: float = 30.0

    def invoke(self, api: str, *inputs: tuple[str, str]) -> ET.Element:
        """Run one API; its results when it passed."""
        document = request_document(api, list(inputs))
        try:
            body = post_xml(
                endpoint(self.address), document, {"Authorization": self._auth()}, self.timeout
            )
        except DeviceHttpError as error:
            if error.status == 401:
                raise FilerError(f"The filer {self.address} refused the login") from None
            raise FilerError(f"The filer {self.address} {error}") from None
        return parse_results(api, body)

    def _auth(self) -> str:
        pair = f"{self.username}:{self.password.reveal()}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    # ---- volumes ----

    def create_volume(self, name: str, aggregate: str, size: str) -> None:
        self.invoke(
            "volume-create", ("volume", name), ("containing-aggr-name", aggregate), ("size", size)
        )

    def set_snapshot_reserve(self, volume: str, percentage: int) -> None:
        self.invoke("snapshot-set-reserve", ("percentage", str(percentage)), ("volume", volume))

    def set_snapshot_schedule(self, volume: str, schedule: SnapshotSchedule) -> None:
        self.invoke("snapshot-set-schedule", ("volume", volume), *schedule.inputs())

    def snapshot_schedule(self, volume: str) -> SnapshotSchedule:
        found = self.invoke("snapshot-get-schedule", ("volume", volume))
        return SnapshotSchedule(
            weeks=text_of(found, "weeks"),
            days=text_of(found, "days"),
            hours=text_of(found, "hours"),
            which_hours=text_of(found, "which-hours"),
            minutes=text_of(found, "minutes"),
            which_minutes=text_of(found, "which-minutes"),
        )

    def destroy_volume(self, name: str) -> None:
        """Take the volume offline, then destroy it (a filer destroys only offline volumes)."""
        self.invoke("volume-offline", ("name", name))
        self.invoke("volume-destroy", ("name", name))

    def volume_space(self, name: str) -> VolumeSpace:
        found = self.invoke("volume-list-info", ("volume", name))
        info = found.find("volumes/volume-info")
        if info is None:
            return VolumeSpace("unknown", -1)
        available = text_of(info, "size-available", "-1")
        return VolumeSpace(
            text_of(info, "state", "unknown"), int(available) if available.isdigit() else -1
        )

    # ---- LUNs and initiator groups ----

    def create_lun(self, path: str, size_bytes: int) -> None:
        self.invoke(
            "lun-create-by-size", ("ostype", "linux"), ("path", path), ("size", str(size_bytes))
        )

    def destroy_lun(self, path: str) -> None:
        self.invoke("lun-destroy", ("force", "true"), ("path", path))

    def create_igroup(self, name: str) -> None:
        self.invoke(
            "igroup-create",
            ("initiator-group-name", name),
            ("initiator-group-type", "iscsi"),
            ("os-type", "linux"),
        )

    def destroy_igroup(self, name: str) -> None:
        self.invoke("igroup-destroy", ("initiator-group-name", name))

    def add_initiator(self, group: str, initiator: str) -> None:
        self.invoke(
            "igroup-add",
            ("force", "true"),
            ("initiator", initiator),
            ("initiator-group-name", group),
        )

    def remove_initiator(self, group: str, initiator: str) -> None:
        self.invoke(
            "igroup-remove",
            ("force", "true"),
            ("initiator", initiator),
            ("initiator-group-name", group),
        )

    def map_lun(self, path: str, group: str, lun_id: int) -> None:
        self.invoke(
            "lun-map",
            ("force", "true"),
            ("initiator-group", group),
            ("path", path),
            ("lun-id", str(lun_id)),
        )

    def unmap_lun(self, path: str, group: str) -> None:
        self.invoke("lun-unmap", ("initiator-group", group), ("path", path))

    def target_name(self) -> str:
        """The filer's iSCSI node name: the target IQN initiators log in to."""
        return text_of(self.invoke("iscsi-node-get-name"), "node-name")
