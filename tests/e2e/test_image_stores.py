"""Image stores holding the bytes of templates and ISOs, through the `cs` client on every leg
(SQLite, PostgreSQL, and NATS with the simulator's adapter in its own process).

The stores are real servers started here: a Samba `smbd` share and moto's S3 server, both on
127.0.0.1. An NFS export cannot be mounted inside this machine's sandbox, so a directory stands
in for the mounted export (``$STRATUS_DATA/nfs-mounts/<host>/<path>``, where the adapter looks
for it): that is the only stand-in. Images are registered from an image server on the loopback.

The story of 4.3's migration to an object store: templates registered on NFS land in the NFS
export; after prepareSecondaryStorageForMigration the NFS store is the staging store, and new
templates land in the S3 bucket, passing through the staging store where a cached copy stays;
VMs deploy from both; deleting an image removes its bytes from wherever they are.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from cs import CloudStack

from tests.e2e.test_isos_and_sharing import _refused
from tests.e2e.test_storage import _detail_params
from tests.e2e.test_template_extracts import _allow_loopback
from tests.e2e.test_vms import _host, _place
from tests.support.s3_server import S3Server
from tests.support.samba import Samba
from tests.support.waiting import wait_until

SMB_PASSWORD = "Share-Password-42"
NFS_HOST = "10.0.0.9"


def _qcow2(payload_bytes: int) -> bytes:
    """A QCOW2 image: its header states a 1 GiB disk; the rest is random."""
    header = b"QFI\xfb" + struct.pack(">I", 3) + bytes(16) + struct.pack(">Q", 1 << 30)
    return header + os.urandom(payload_bytes)


SMALL = _qcow2(300_000)
LARGE = _qcow2(12 * 1024 * 1024)  # more than one S3 part: a multipart upload
DISC = b"CD001" + os.urandom(80_000)
FILES = {"/small.qcow2": SMALL, "/second.qcow2": _qcow2(200_000), "/large.qcow2": LARGE,
         "/disc.iso": DISC}  # fmt: skip


class _Images(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = FILES.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def images() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def samba(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Samba]:
    server = Samba(tmp_path_factory.mktemp("samba"), SMB_PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("moto"))
    server.start()
    yield server
    server.stop()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _os_type(admin: CloudStack) -> str:
    return str(admin.listOsTypes()["ostype"][0]["id"])


def _register(admin: CloudStack, zone: str, url: str, checksum: str = "") -> str:
    made = admin.registerTemplate(
        name=f"img-{uuid.uuid4().hex[:6]}", displaytext="img", url=url, hypervisor="Simulator",
        format="QCOW2", ostypeid=_os_type(admin), zoneid=zone, ispublic="true",
        **({"checksum": checksum} if checksum else {}),
    )["template"][0]  # fmt: skip
    return str(made["id"])


def _settled(admin: CloudStack, template_id: str, zone: str, iso: bool = False) -> dict:
    def done() -> dict | None:
        if iso:
            found = admin.listIsos(isofilter="all", id=template_id, zoneid=zone).get("iso", [])
        else:
            found = admin.listTemplates(templatefilter="all", id=template_id, zoneid=zone)
            found = found.get("template", [])
        if found and (found[0]["isready"] or found[0]["status"] not in ("Downloading", "")):
            return dict(found[0])
        return None

    return wait_until(done, what=f"image {template_id} to be fetched", timeout=60)


def _export(sandbox: Any, name: str) -> tuple[str, Path]:
    """An NFS export's URL and the directory standing in for it, mounted where the adapter
    looks (a directory stands in for the mounted export: the only stand-in)."""
    mounted = sandbox.data_dir / "nfs-mounts" / NFS_HOST / "export" / name
    mounted.mkdir(parents=True)
    return f"nfs://{NFS_HOST}/export/{name}", mounted


def _in_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _deploy_from(admin: CloudStack, place: Any, template_id: str) -> dict:
    return admin.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=template_id,
        fetch_result=True,
    )["virtualmachine"]  # fmt: skip


def _s3_store(admin: CloudStack, s3: S3Server, bucket: str, secret: str | None = None) -> dict:
    details = {"accesskey": s3.access_key, "secretkey": secret or s3.secret_key,
               "bucket": bucket, "endpoint": s3.endpoint, "usehttps": "false"}  # fmt: skip
    return admin.addImageStore(
        provider="S3", name=f"objects-{bucket}", **_detail_params(**details)
    )["imagestore"]


def _deleted(admin: CloudStack, template_id: str) -> None:
    admin.deleteTemplate(id=template_id, fetch_result=True)


def test_templates_move_from_nfs_to_the_object_store_as_4_3_migrates_secondary_storage(
    sandbox, images: str, s3: S3Server
) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    place = _place(admin)
    _host(admin, place, "h1")
    url, export = _export(sandbox, f"secondary-{uuid.uuid4().hex[:6]}")
    nfs = admin.addImageStore(provider="NFS", name="nfs", url=url, zoneid=place.zone)["imagestore"]

    # Before the migration: the template and an ISO land in the NFS export.
    old = _register(admin, place.zone, f"{images}/small.qcow2", _md5(SMALL))
    listed = _settled(admin, old, place.zone)
    assert listed["isready"] and (listed["hostid"], listed["hostname"]) == (nfs["id"], "nfs")
    assert _in_tree(export) == {f"template/tmpl/{old}/small.qcow2": SMALL}
    iso = admin.registerIso(
        name="disc", displaytext="disc", url=f"{images}/disc.iso", zoneid=place.zone,
        ostypeid=_os_type(admin), imagestoreuuid=nfs["id"],
    )["iso"][0]["id"]  # fmt: skip
    assert _settled(admin, iso, place.zone, iso=True)["isready"]
    assert _in_tree(export)[f"template/tmpl/{iso}/disc.iso"] == DISC

    # The migration: an S3 object store for the region, the NFS store becomes its staging store.
    bucket = f"templates-{uuid.uuid4().hex[:8]}"
    s3.bucket(bucket)
    objects = _s3_store(admin, s3, bucket)
    admin.prepareSecondaryStorageForMigration(id=nfs["id"], fetch_result=True)
    staging = admin.listSecondaryStagingStores(zoneid=place.zone)["imagestore"]
    assert [s["id"] for s in staging] == [nfs["id"]]

    # After it: new templates go to the bucket (in parts when large), through the staging store.
    new = _register(admin, place.zone, f"{images}/large.qcow2", "{SHA-256}" +
                    hashlib.sha256(LARGE).hexdigest())  # fmt: skip
    listed = _settled(admin, new, place.zone)
    assert listed["isready"] and listed["hostid"] == objects["id"], listed
    key = f"template/tmpl/{new}/large.qcow2"
    assert s3.objects(bucket) == {key: LARGE}
    stored = s3.client().head_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    assert "-" in stored["ETag"]  # a multipart upload's ETag names its parts
    assert _in_tree(export)[key] == LARGE  # the staging store's cached copy
    assert f"template/tmpl/{old}/small.qcow2" in _in_tree(export)  # the old one stays, read-only

    # VMs deploy from both.
    vms = [_deploy_from(admin, place, template_id) for template_id in (old, new)]
    assert [(vm["state"], vm["templateid"]) for vm in vms] == [("Running", old), ("Running", new)]

    # A snapshot is copied to the object store right after it is taken, through the staging store.
    root = admin.listVolumes(virtualmachineid=vms[0]["id"], type="ROOT")["volume"][0]
    snapshot = admin.createSnapshot(volumeid=root["id"], fetch_result=True)["snapshot"]
    assert snapshot["state"] == "BackedUp"
    copy = f"snapshots/{snapshot['id']}/stratus-{snapshot['id']}"
    kept = orjson.loads(s3.objects(bucket)[copy])
    assert kept["snapshot"] == f"stratus-{snapshot['id']}" and kept["vm"] == vms[0]["instancename"]
    assert _in_tree(export)[copy] == s3.objects(bucket)[copy]
    admin.deleteSnapshot(id=snapshot["id"], fetch_result=True)
    wait_until(lambda: copy not in s3.keys(bucket) and copy not in _in_tree(export),
               what="the snapshot's copy to be removed")  # fmt: skip

    # No secret in any answer.
    answers = [admin.listImageStores(), admin.listS3s(), admin.listSecondaryStagingStores(),
               admin.listTemplates(templatefilter="all", zoneid=place.zone)]  # fmt: skip
    assert s3.secret_key not in orjson.dumps(answers).decode()

    # Deleting removes the bytes from the store that holds them (and the cached copy).
    _deleted(admin, new)
    wait_until(lambda: s3.keys(bucket) == [] and key not in _in_tree(export),
               what="the object and its cached copy to be removed")  # fmt: skip
    _deleted(admin, old)
    wait_until(lambda: f"template/tmpl/{old}/small.qcow2" not in _in_tree(export),
               what="the NFS copy to be removed")  # fmt: skip
    # The object store holds nothing now, and goes (it is the region's: others are unaffected).
    wait_until(lambda: _gone(admin, objects["id"]), what="the object store to be deletable")


def _gone(admin: CloudStack, store_id: str) -> bool:
    try:
        admin.deleteImageStore(id=store_id)
    except Exception:
        return False
    return True


def test_an_smb_share_keeps_a_zones_templates_with_its_password_sealed(
    sandbox, images: str, samba: Samba
) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    place = _place(admin)
    folder = f"zone-{uuid.uuid4().hex[:6]}"
    share = admin.addImageStore(
        provider="SMB", name="share", zoneid=place.zone,
        url=f"{samba.url(folder)}&password={SMB_PASSWORD}",
    )["imagestore"]  # fmt: skip
    assert SMB_PASSWORD not in orjson.dumps(share).decode()
    template = _register(admin, place.zone, f"{images}/second.qcow2", _md5(FILES["/second.qcow2"]))
    listed = _settled(admin, template, place.zone)
    assert listed["isready"] and listed["hostid"] == share["id"]
    on_share = samba.share_dir / folder / "template" / "tmpl" / template / "second.qcow2"
    assert on_share.read_bytes() == FILES["/second.qcow2"]
    assert _refused(admin.deleteImageStore, 536, id=share["id"])  # it holds the template
    _deleted(admin, template)
    wait_until(lambda: not on_share.exists(), what="the template to leave the share")
    wait_until(lambda: _gone(admin, share["id"]), what="the share to be deletable")


def test_bad_images_and_stores_fail_clearly_and_leave_nothing(
    sandbox, images: str, samba: Samba
) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    place = _place(admin)
    before = admin.listTemplates(templatefilter="all").get("count", 0)
    assert "http" in _refused(
        admin.registerTemplate, 431, name="f", displaytext="f", url="file:///etc/passwd.qcow2",
        hypervisor="Simulator", format="QCOW2", ostypeid=_os_type(admin), zoneid=place.zone,
    )  # fmt: skip
    assert admin.listTemplates(templatefilter="all").get("count", 0) == before
    isos = admin.listIsos(isofilter="all").get("count", 0)
    assert "Unable to find image store" in _refused(
        admin.registerIso, 431, name="d", displaytext="d", url=f"{images}/disc.iso",
        zoneid=place.zone, ostypeid=_os_type(admin), imagestoreuuid=str(uuid.uuid4()),
    )  # fmt: skip
    assert admin.listIsos(isofilter="all").get("count", 0) == isos

    # An export that is not mounted: the download fails naming it; nothing is held.
    unmounted = admin.addImageStore(
        provider="NFS", url=f"nfs://{NFS_HOST}/export/never-{uuid.uuid4().hex[:6]}",
        zoneid=place.zone,
    )["imagestore"]  # fmt: skip
    failed = _settled(admin, _register(admin, place.zone, f"{images}/small.qcow2"), place.zone)
    assert not failed["isready"] and "is not mounted" in failed["status"], failed
    assert "hostid" not in failed
    assert _gone(admin, unmounted["id"])

    # A share whose password is wrong: refused as bad credentials, the password never shown.
    folder = f"bad-{uuid.uuid4().hex[:6]}"
    admin.addImageStore(provider="SMB", zoneid=place.zone,
                        url=f"{samba.url(folder)}&password=Not-The-Password-1")  # fmt: skip
    failed = _settled(admin, _register(admin, place.zone, f"{images}/small.qcow2"), place.zone)
    assert "bad credentials" in failed["status"] and "refused the user" in failed["status"]
    listed = orjson.dumps(admin.listTemplates(templatefilter="all")).decode()
    assert "Not-The-Password-1" not in listed
    assert not (samba.share_dir / folder).exists()


def test_a_checksum_that_does_not_match_leaves_nothing_in_the_store(sandbox, images: str) -> None:
    admin = sandbox.client()
    _allow_loopback(admin)
    place = _place(admin)
    url, export = _export(sandbox, f"sums-{uuid.uuid4().hex[:6]}")
    admin.addImageStore(provider="NFS", url=url, zoneid=place.zone)
    failed = _settled(admin, _register(admin, place.zone, f"{images}/small.qcow2", "0" * 32),
                      place.zone)  # fmt: skip
    assert not failed["isready"] and "checksum mismatch" in failed["status"]
    assert _in_tree(export) == {}
