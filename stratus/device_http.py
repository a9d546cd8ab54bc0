"""Posting an XML document to a device's HTTP API and reading the answer: the one transport the
ONTAPI (`stratus.ontapi`) and UCS XML API (`stratus.ucsm`) clients share."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit


class DeviceHttpError(Exception):
    """The device could not be reached (`status` None), or answered an HTTP error status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def device_url(address: str, path: str) -> str:
    """The URL of `path` on a device given as a host, `host:port`, or an HTTP(S) URL."""
    if "://" not in address:
        address = f"http://{address}"
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{address} is not a host name or an HTTP URL")
    return f"{parts.scheme}://{parts.netloc}{path}"


def post_xml(url: str, document: bytes, headers: dict[str, str], timeout: float) -> bytes:
    """The body of the device's answer to `document`; DeviceHttpError when there is none."""
    request = urllib.request.Request(
        url, data=document, headers={"Content-Type": "text/xml", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body: bytes = answer.read()
            return body
    except urllib.error.HTTPError as error:
        raise DeviceHttpError(f"answered HTTP {error.code}", error.code) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeviceHttpError(f"cannot be reached: {reason}") from None
