"""Template images for the KVM image store: fetched over HTTP(S), checked, and measured.

The download goes through `adapters.fetch`, under the rules on addresses, redirects, size and
time that every adapter's fetch obeys.

An image is streamed to a ``.part`` file beside its final name, hashed on the way, and renamed
only once it is complete and its checksum and format check out, so a store never holds half an
image under a real name. The checksum is the one given at registration: plain hex is MD5 (as
CloudStack 4.3 sends it), ``{SHA-256}hex`` (or ``{SHA-1}``, ``{SHA-512}``, ``{MD5}``) names its
algorithm. The virtual size comes from the image itself: a QCOW2 header states it, a RAW image
is as large as its file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from adapters import HypervisorError
from adapters import fetch as fetching
from adapters.image_checks import QCOW2_MAGIC as QCOW2_MAGIC
from adapters.image_checks import digest_for as _digest
from adapters.image_checks import verify as _verify
from adapters.image_checks import virtual_size as _virtual_size

CHUNK = fetching.CHUNK


@dataclass(frozen=True)
class Image:
    path: Path
    physical_size: int  # bytes in the file
    virtual_size: int  # bytes the guest sees


@dataclass(frozen=True)
class Wanted:
    """The image a download asks for: where from, in which format, with which checksum."""

    url: str
    image_format: str
    checksum: str = ""


def fetch(
    wanted: Wanted, directory: Path, name: str, policy: fetching.FetchPolicy | None = None
) -> Image:
    """Download the image into `directory/name`, verify it, and measure it; HypervisorError
    when the checksum or the format is wrong, `fetch.FetchRefused` when the download is."""
    url, image_format, checksum = wanted.url, wanted.image_format, wanted.checksum
    digest = _digest(checksum)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    partial = directory / f"{name}.part"
    try:
        head = _download(url, partial, digest, policy or fetching.FetchPolicy())
        if digest is not None:
            _verify(digest, checksum)
        virtual_size = _virtual_size(head, partial.stat().st_size, image_format)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Image(target, target.stat().st_size, virtual_size)


def _download(
    url: str, sink_path: Path, digest: hashlib._Hash | None, policy: fetching.FetchPolicy
) -> bytes:
    """Stream the body to `sink_path`; returns its first bytes (for the format check)."""
    head = b""
    try:
        with (
            contextlib.closing(fetching.stream(url, policy)) as blocks,
            sink_path.open("wb") as sink,
        ):
            for block in blocks:
                if len(head) < 512:
                    head += block[: 512 - len(head)]
                sink.write(block)
                if digest is not None:
                    digest.update(block)
    except OSError as error:  # the image directory's, not the remote's: the operator's to fix
        raise HypervisorError(f"cannot write the image to {sink_path.parent}: {error}") from None
    return head


def default_dir() -> Path:
    """Where fetched images go: STRATUS_KVM_IMAGE_DIR, else `kvm-images` in the data directory."""
    configured = os.environ.get("STRATUS_KVM_IMAGE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("STRATUS_DATA") or "./stratus-data") / "kvm-images"
