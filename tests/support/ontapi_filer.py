"""A NetApp filer stand-in speaking the part of ONTAPI the cloud uses, over HTTP, with state: a
volume made is listed until destroyed, a LUN takes room on its volume, initiator groups hold
initiators and LUN maps. Wrong credentials get HTTP 401, as a filer answers them.

Errors carry the errno a filer gives for the same case (the ones 4.3 looks at: 9004 group
exists, 9008 initiator in group, 9016 no such map, 9017 no such group, 9023 mapped already,
9029 group has maps, 13040 no such volume). A test can make the next call of an API fail.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from tests.support.xml_stand_in import XmlStandIn

GIB = 1024**3
NODE_NAME = "iqn.1992-08.com.netapp:sn.4082367845"
PATH = "/servlets/netapp.servlets.admin.XMLrequest_filer"
_UNITS = {"k": 1024, "m": 1024**2, "g": GIB, "t": 1024**4}


class Refusal(Exception):
    def __init__(self, errno: int, reason: str) -> None:
        super().__init__(reason)
        self.errno, self.reason = errno, reason


def size_in_bytes(text: str) -> int:
    unit = _UNITS.get(text[-1:].lower())
    return int(text[:-1]) * unit if unit else int(text)


@dataclass
class Volume:
    aggregate: str
    size: int
    state: str = "online"
    reserve: int = 0
    schedule: dict[str, str] = field(default_factory=dict)


@dataclass
class Filer:
    """The filer's state; every method answers one API or raises Refusal."""

    username: str
    password: str
    aggregates: tuple[str, ...] = ("aggr0", "aggr1")
    volumes: dict[str, Volume] = field(default_factory=dict)
    luns: dict[str, int] = field(default_factory=dict)  # path -> size
    igroups: dict[str, set[str]] = field(default_factory=dict)
    maps: dict[str, dict[str, int]] = field(default_factory=dict)  # path -> group -> lun id
    calls: list[str] = field(default_factory=list)
    failures: dict[str, tuple[int, str]] = field(default_factory=dict)

    def fail_next(self, api: str, errno: int = 13001, reason: str = "injected failure") -> None:
        self.failures[api] = (errno, reason)

    def volume(self, name: str) -> Volume:
        if name not in self.volumes:
            raise Refusal(13040, f"No volume named {name} exists")
        return self.volumes[name]

    def used(self, name: str) -> int:
        return sum(size for path, size in self.luns.items() if path.split("/")[2] == name)

    def answer(self, api: str, inputs: dict[str, str]) -> list[ET.Element]:
        self.calls.append(api)
        if api in self.failures:
            raise Refusal(*self.failures.pop(api))
        handler = getattr(self, "api_" + api.replace("-", "_"), None)
        if handler is None:
            raise Refusal(13005, f"Unable to find API: {api}")
        return handler(inputs) or []

    # ---- volumes ----

    def api_volume_create(self, i: dict[str, str]) -> None:
        if i["containing-aggr-name"] not in self.aggregates:
            raise Refusal(14420, f"No aggregate named {i['containing-aggr-name']} exists")
        if i["volume"] in self.volumes:
            raise Refusal(17, f"Volume {i['volume']} already exists")
        self.volumes[i["volume"]] = Volume(i["containing-aggr-name"], size_in_bytes(i["size"]))

    def api_volume_offline(self, i: dict[str, str]) -> None:
        self.volume(i["name"]).state = "offline"

    def api_volume_destroy(self, i: dict[str, str]) -> None:
        if self.volume(i["name"]).state != "offline":
            raise Refusal(13041, f"Volume {i['name']} is online: take it offline first")
        del self.volumes[i["name"]]

    def api_volume_list_info(self, i: dict[str, str]) -> list[ET.Element]:
        names = [i["volume"]] if "volume" in i else list(self.volumes)
        volumes = ET.Element("volumes")
        for name in names:
            volume = self.volume(name)
            info = ET.SubElement(volumes, "volume-info")
            for tag, value in (
                ("name", name),
                ("containing-aggregate", volume.aggregate),
                ("size-total", volume.size),
                ("size-available", volume.size - self.used(name)),
                ("state", volume.state),
            ):
                ET.SubElement(info, tag).text = str(value)
        return [volumes]

    def api_snapshot_set_reserve(self, i: dict[str, str]) -> None:
        self.volume(i["volume"]).reserve = int(i["percentage"])

    def api_snapshot_set_schedule(self, i: dict[str, str]) -> None:
        self.volume(i["volume"]).schedule = {k: v for k, v in i.items() if k != "volume"}

    def api_snapshot_get_schedule(self, i: dict[str, str]) -> list[ET.Element]:
        schedule = self.volume(i["volume"]).schedule
        out = []
        for tag in ("weeks", "days", "hours", "minutes", "which-hours", "which-minutes"):
            element = ET.Element(tag)
            element.text = schedule.get(tag, "0" if "which" not in tag else "")
            out.append(element)
        return out

    # ---- LUNs and initiator groups ----

    def api_lun_create_by_size(self, i: dict[str, str]) -> None:
        path, size = i["path"], int(i["size"])
        volume = path.split("/")[2] if path.startswith("/vol/") else ""
        room = self.volume(volume).size - self.used(volume)
        if path in self.luns:
            raise Refusal(9012, f"LUN {path} already exists")
        if size > room:
            raise Refusal(9041, f"Not enough space on volume {volume}")
        self.luns[path] = size

    def api_lun_destroy(self, i: dict[str, str]) -> None:
        if i["path"] not in self.luns:
            raise Refusal(9017, f"No LUN at {i['path']}")
        if self.maps.get(i["path"]) and i.get("force") != "true":
            raise Refusal(9013, "The LUN is mapped")
        del self.luns[i["path"]]
        self.maps.pop(i["path"], None)

    def api_igroup_create(self, i: dict[str, str]) -> None:
        if i["initiator-group-name"] in self.igroups:
            raise Refusal(9004, "Initiator group already exists")
        self.igroups[i["initiator-group-name"]] = set()

    def _group(self, name: str) -> set[str]:
        if name not in self.igroups:
            raise Refusal(9017, f"No initiator group named {name}")
        return self.igroups[name]

    def api_igroup_destroy(self, i: dict[str, str]) -> None:
        name = i["initiator-group-name"]
        self._group(name)
        if any(name in groups for groups in self.maps.values()):
            raise Refusal(9029, "LUN maps for this initiator group exist")
        del self.igroups[name]

    def api_igroup_add(self, i: dict[str, str]) -> None:
        group = self._group(i["initiator-group-name"])
        if i["initiator"] in group:
            raise Refusal(9008, "Initiator group already contains node")
        group.add(i["initiator"])

    def api_igroup_remove(self, i: dict[str, str]) -> None:
        group = self._group(i["initiator-group-name"])
        if i["initiator"] not in group:
            raise Refusal(9007, "Initiator group does not contain node")
        group.remove(i["initiator"])

    def api_lun_map(self, i: dict[str, str]) -> None:
        path, group = i["path"], i["initiator-group"]
        if path not in self.luns:
            raise Refusal(9017, f"No LUN at {path}")
        self._group(group)
        if group in self.maps.get(path, {}):
            raise Refusal(9023, "LUN already mapped to this group")
        self.maps.setdefault(path, {})[group] = int(i["lun-id"])

    def api_lun_unmap(self, i: dict[str, str]) -> None:
        if i["initiator-group"] not in self.maps.get(i["path"], {}):
            raise Refusal(9016, "No such LUN map")
        del self.maps[i["path"]][i["initiator-group"]]

    def api_iscsi_node_get_name(self, i: dict[str, str]) -> list[ET.Element]:
        element = ET.Element("node-name")
        element.text = NODE_NAME
        return [element]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _results(children: list[ET.Element] | None, refusal: Refusal | None) -> bytes:
    root = ET.Element("netapp", {"version": "1.1", "xmlns": "http://www.netapp.com/filer/admin"})
    if refusal is not None:
        attributes = {"status": "failed", "errno": str(refusal.errno), "reason": refusal.reason}
        ET.SubElement(root, "results", attributes)
    else:
        ET.SubElement(root, "results", {"status": "passed"}).extend(children or [])
    return b"<?xml version='1.0' encoding='UTF-8' ?>\n" + ET.tostring(root, encoding="utf-8")


class FilerServer(XmlStandIn):
    """The stand-in serving one `Filer`."""

    def __init__(self, username: str = "root", password: str = "filer-Pass-1") -> None:
        self.filer = Filer(username, password)
        super().__init__()

    def respond(self, path: str, headers: Any, body: bytes) -> tuple[int, bytes]:
        if path != PATH:
            return 404, b"no such servlet"
        expected = f"{self.filer.username}:{self.filer.password}".encode()
        if headers.get("Authorization", "") != "Basic " + base64.b64encode(expected).decode():
            return 401, b"Authorization failed"
        api_element = ET.fromstring(body)[0]
        inputs = {_local(c.tag): c.text or "" for c in api_element}
        try:
            return 200, _results(self.filer.answer(_local(api_element.tag), inputs), None)
        except Refusal as refusal:
            return 200, _results(None, refusal)
