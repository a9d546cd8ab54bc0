"""Extracting templates and ISOs through the `cs` client: the job answers a download link that
serves the image's bytes until it expires; a link tampered with, expired, or of a deleted image
serves nothing; who may extract what (owner, public and extractable, root administrators)."""

from __future__ import annotations

import os
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cs import CloudStack

from api.catalogue import reference
from tests.e2e.factories import make_tenant
from tests.e2e.test_isos_and_sharing import UBUNTU, _ready, _refused, _zone
from tests.support.waiting import wait_until

# A QCOW2 image whose header states a 1 GiB disk (an image store measures it so).
IMAGE = (
    b"QFI\xfb" + struct.pack(">I", 3) + bytes(16) + struct.pack(">Q", 1 << 30) + os.urandom(200_000)
)
DISC = b"CD001" + os.urandom(50_000)
LIFETIME = "extract.url.expiration.interval"


class _Images(BaseHTTPRequestHandler):
    """An image server on the loopback: the place templates are registered from."""

    def do_GET(self) -> None:
        body = {"/disk.qcow2": IMAGE, "/disc.iso": DISC}.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def images() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def _allow_loopback(admin: CloudStack) -> None:
    admin.updateConfiguration(name="secstorage.allowed.internal.sites", value="127.0.0.1/32")


def _template(client: CloudStack, zone: str, url: str, **extra: Any) -> dict:
    return client.registerTemplate(
        name="img", displaytext="img", url=url, hypervisor="Simulator", format="QCOW2",
        ostypeid=UBUNTU, zoneid=zone, **extra,
    )["template"][0]  # fmt: skip


def _tampered(url: str) -> str:
    head, token = url.rsplit("/", 1)
    flipped = ("A" if token[10] != "A" else "B").join((token[:10], token[11:]))
    return f"{head}/{flipped}"


def test_an_extracted_template_downloads_by_its_link(sandbox, images: str) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    zone, empty = _zone(admin), _zone(admin)
    user = make_tenant(sandbox, admin)
    template = _template(user.client, zone, f"{images}/disk.qcow2", isextractable="true")
    _ready(admin, "listTemplates", "template", template["id"], zone)

    answer = user.client.extractTemplate(
        id=template["id"], mode="HTTP_DOWNLOAD", zoneid=zone, fetch_result=True
    )["template"]
    assert answer["id"] == template["id"]
    assert answer["name"] == "img"
    assert answer["extractMode"] == "HTTP_DOWNLOAD"
    assert answer["state"] == "DOWNLOAD_URL_CREATED"
    assert answer["zoneid"] == zone and answer["zonename"]
    assert answer["accountid"] == user.account_id
    assert answer["extractId"] and answer["created"] and answer["status"]
    assert answer["url"].startswith(sandbox.server.url.split("/client/")[0] + "/client/extract/")
    assert set(reference()["extractTemplate"].response) == set(answer)

    assert _fetch(answer["url"]) == (200, IMAGE)
    assert _fetch(_tampered(answer["url"])) == (404, b"Not Found")
    assert _fetch(answer["url"] + "x")[0] == 404

    without_zone = user.client.extractTemplate(
        id=template["id"], mode="http_download", fetch_result=True
    )["template"]
    assert without_zone["zoneid"] == zone
    assert without_zone["extractId"] != answer["extractId"]

    _refused(user.client.extractTemplate, 431, id=template["id"], mode="FTP_UPLOAD",
             url="ftp://example.org/x")  # fmt: skip
    _refused(user.client.extractTemplate, 431, id=template["id"], mode="CARRIER_PIGEON")
    _refused(user.client.extractTemplate, 431, id=template["id"], mode="HTTP_DOWNLOAD",
             zoneid=empty)  # fmt: skip

    user.client.deleteTemplate(id=template["id"], fetch_result=True)
    assert _fetch(answer["url"])[0] == 404


def test_an_extracted_iso_downloads_and_a_link_stops_working_when_it_expires(
    sandbox, images: str
) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    zone = _zone(admin)
    user = make_tenant(sandbox, admin)
    iso = user.client.registerIso(
        name="disc", displaytext="disc", url=f"{images}/disc.iso", zoneid=zone,
        ostypeid=UBUNTU, isextractable="true",
    )["iso"][0]  # fmt: skip
    _ready(admin, "listIsos", "iso", iso["id"], zone)
    _refused(user.client.extractTemplate, 431, id=iso["id"], mode="HTTP_DOWNLOAD")

    answer = user.client.extractIso(id=iso["id"], mode="HTTP_DOWNLOAD", fetch_result=True)["iso"]
    assert answer["id"] == iso["id"] and answer["extractMode"] == "HTTP_DOWNLOAD"
    assert set(reference()["extractIso"].response) == set(answer)
    assert _fetch(answer["url"]) == (200, DISC)

    admin.updateConfiguration(name=LIFETIME, value="1")
    try:
        brief = user.client.extractIso(id=iso["id"], mode="HTTP_DOWNLOAD", fetch_result=True)
    finally:
        admin.updateConfiguration(name=LIFETIME, value="14400")
    link = brief["iso"]["url"]
    wait_until(lambda: _fetch(link)[0] == 404, 30, "the link's expiry")
    job = user.client.listAsyncJobs()["asyncjobs"]
    expired = [j for j in job if j.get("jobresult", {}).get("iso", {}).get("url") == link]
    assert expired and expired[0]["jobresult"]["iso"]["status"] == "Download URL expired"
    assert _fetch(answer["url"]) == (200, DISC)  # the first link still works


def test_who_may_extract_a_template(sandbox, images: str) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    zone = _zone(admin)
    owner = make_tenant(sandbox, admin)
    neighbour = make_tenant(sandbox, admin)
    url = f"{images}/disk.qcow2"
    private = _template(owner.client, zone, url, isextractable="true")
    sealed = _template(owner.client, zone, url)
    public = _template(owner.client, zone, url, isextractable="true", ispublic="true")
    for made in (private, sealed, public):
        _ready(admin, "listTemplates", "template", made["id"], zone)

    _refused(neighbour.client.extractTemplate, 531, id=private["id"], mode="HTTP_DOWNLOAD")
    _refused(neighbour.client.extractTemplate, 531, id=sealed["id"], mode="HTTP_DOWNLOAD")
    _refused(owner.client.extractTemplate, 431, id=sealed["id"], mode="HTTP_DOWNLOAD")
    before = neighbour.client.listAsyncJobs().get("asyncjobs", [])
    assert not before  # a refusal makes no job

    shared = neighbour.client.extractTemplate(
        id=public["id"], mode="HTTP_DOWNLOAD", fetch_result=True
    )["template"]
    assert shared["accountid"] == neighbour.account_id
    assert _fetch(shared["url"]) == (200, IMAGE)

    by_root = admin.extractTemplate(id=sealed["id"], mode="HTTP_DOWNLOAD", fetch_result=True)
    assert _fetch(by_root["template"]["url"]) == (200, IMAGE)
