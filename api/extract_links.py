"""Download links of extracted templates, ISOs and volumes: `/client/extract/<token>`.

A link names one offer (`template_extracts`, `volume_extracts`) and when it stops working,
signed with HMAC-SHA256 under a key derived from the installation's secret key
(`SecretBox.derive`); the link is never stored, it is signed again from the recorded facts
whenever it is shown. Stratus holds no image bytes: a good link streams the image from the URL
it was registered (or a volume uploaded) from, fetched under the same rules as an adapter's
download (allowed internal sites, size limit), which the entry point hands in as the
`ImageSource`. A link that is malformed, tampered with, expired, or whose image was deleted or
can no longer be fetched answers 404 with no detail.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import struct
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from domain.configuration import DEFINITIONS
from domain.template import CopyState, FetchLimits
from domain.volume import VolumeState
from projections.configuration import global_value
from projections.templates import extract_row
from projections.volumes import volume_extract_row
from stratus.runtime import Runtime

log = logging.getLogger(__name__)

PATH = "/client/extract"
PURPOSE = "extract links"
_MAC_BYTES = 32
_LAYOUT = struct.Struct(">16sq")  # the offer's id, its expiry (seconds since the epoch)

# Fetches an image's bytes from its URL under the limits in force (the entry point gives one).
ImageSource = Callable[[str, FetchLimits], Iterator[bytes]]


def sign(key: bytes, extract_id: UUID, expires: datetime) -> str:
    """The token of an offer: its id and expiry, and their MAC."""
    body = _LAYOUT.pack(extract_id.bytes, int(expires.timestamp()))
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + mac).decode("ascii").rstrip("=")


def verify(key: bytes, token: str, now: datetime) -> UUID | None:
    """The offer a token names, if its MAC is good and it has not expired; else None."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _LAYOUT.size + _MAC_BYTES:
        return None
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        return None  # only the one spelling a token is issued in (no spare bits altered)
    body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        return None
    extract_id, expires = _LAYOUT.unpack(body)
    if now.timestamp() >= expires:
        return None
    return UUID(bytes=extract_id)


def link(base_url: str, key: bytes, extract_id: UUID, expires: datetime) -> str:
    return f"{base_url}{PATH}/{sign(key, extract_id, expires)}"


def link_key(runtime: Runtime) -> bytes:
    return bytes(runtime.store.box.derive(PURPOSE))


class Downloads:
    """The endpoint that serves a link's image."""

    def __init__(self, runtime: Runtime, images: ImageSource | None) -> None:
        self.runtime = runtime
        self.images = images

    async def serve(self, request: Request) -> Response:
        token = str(request.path_params.get("token", ""))
        opened = await run_in_threadpool(self._open, token)
        if opened is None:
            return PlainTextResponse("Not Found", status_code=404)
        name, blocks = opened
        headers = {
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        }
        return StreamingResponse(blocks, media_type="application/octet-stream", headers=headers)

    def _open(self, token: str) -> tuple[str, Iterator[bytes]] | None:
        """The file name and bytes the token offers; None for anything not to be served."""
        now = datetime.now(UTC)
        extract_id = verify(link_key(self.runtime), token, now)
        if extract_id is None or self.images is None:
            return None
        with self.runtime.db.read() as cursor:
            row = extract_row(cursor, str(extract_id)) or _volume_offer(cursor, str(extract_id))
            limits = _limits(cursor)
        if not _servable(row, now):
            return None
        assert row is not None
        blocks = self.images(row["url"], limits)
        try:
            first = next(blocks, b"")
        except Exception:  # a refused fetch (its reason is in the log): nothing to serve
            log.warning("extract %s: the image could not be fetched from its URL", extract_id)
            return None
        return _file_name(row), _chain(first, blocks)


def _volume_offer(cursor: Any, extract_id: str) -> dict[str, Any] | None:
    """An extracted volume's offer, shaped as a template's: served from the image the volume
    was uploaded from, while the volume is there and its upload is done."""
    row = volume_extract_row(cursor, extract_id)
    if row is None or not row["url"]:
        return None
    fetched = row["state"] not in (VolumeState.UPLOAD_OP, VolumeState.UPLOAD_ERROR)
    return dict(row, template_id=row["volume_id"], state=CopyState.READY if fetched else "")


def _servable(row: dict[str, Any] | None, now: datetime) -> bool:
    if row is None or row["removed"] or row["state"] != CopyState.READY:
        return False
    return now < datetime.fromisoformat(str(row["expires"]))


def _limits(cursor: Any) -> FetchLimits:
    """The fetch limits in force now, as an adapter's download would take them."""

    def value(name: str) -> str:
        return global_value(cursor, name, DEFINITIONS[name].default)

    return FetchLimits(
        allowed_internal_sites=value("secstorage.allowed.internal.sites"),
        max_size_gb=int(value("max.template.iso.size")),
    )


def _file_name(row: dict[str, Any]) -> str:
    """The last part of the image's URL path, kept to safe characters."""
    last = urlsplit(row["url"]).path.rsplit("/", 1)[-1]
    safe = "".join(ch for ch in last if ch.isalnum() or ch in "._-")
    return safe or f"{row['template_id']}.{str(row['format']).lower()}"


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    try:
        if first:
            yield first
        yield from rest
    finally:
        close = getattr(rest, "close", None)
        if close is not None:
            close()
