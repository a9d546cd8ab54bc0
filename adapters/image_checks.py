"""Checks of a fetched image: its checksum as the registration gives it (plain hex is MD5, as
CloudStack 4.3 sends it; ``{SHA-256}hex``, ``{SHA-1}``, ``{SHA-512}``, ``{MD5}`` name their
algorithm) and its format and virtual size from its first bytes (a QCOW2 header states the
size; any other image is as large as its file)."""

from __future__ import annotations

import hashlib
import re
import struct

from adapters import HypervisorError

QCOW2_MAGIC = b"QFI\xfb"
_QCOW2_SIZE = struct.Struct(">Q")  # the virtual size, at byte 24 of the header
ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512"}
_TAGGED = re.compile(r"^\{([A-Za-z0-9-]+)\}([0-9a-fA-F]+)$")


def digest_for(checksum: str) -> hashlib._Hash | None:
    """A fresh hash of the checksum's algorithm; None when no checksum was given."""
    checksum = checksum.strip()
    if not checksum:
        return None
    tagged = _TAGGED.match(checksum)
    if tagged is None:
        if not re.fullmatch(r"[0-9a-fA-F]{32}", checksum):
            raise HypervisorError(
                f"the checksum is neither MD5 hex nor {{ALGORITHM}}hex ({', '.join(ALGORITHMS)})"
            )
        return hashlib.md5(usedforsecurity=False)
    algorithm = ALGORITHMS.get(tagged.group(1).upper())
    if algorithm is None:
        raise HypervisorError(
            f"unknown checksum algorithm {tagged.group(1)!r} (use one of {', '.join(ALGORITHMS)})"
        )
    return hashlib.new(algorithm)


def verify(digest: hashlib._Hash, checksum: str) -> None:
    """HypervisorError when the bytes hashed into `digest` are not the ones registered."""
    expected = checksum.strip().rsplit("}", 1)[-1].lower()
    found = digest.hexdigest()
    if found != expected:
        raise HypervisorError(f"checksum mismatch: expected {expected}, the image has {found}")


def virtual_size(head: bytes, physical_size: int, image_format: str) -> int:
    is_qcow2 = head[:4] == QCOW2_MAGIC
    if image_format.upper() == "QCOW2":
        if not is_qcow2 or len(head) < 32:
            raise HypervisorError("the image is not in QCOW2 format (no QCOW2 header)")
        (size,) = _QCOW2_SIZE.unpack_from(head, 24)
        if size <= 0:
            raise HypervisorError("the QCOW2 header states no virtual size")
        return int(size)
    if is_qcow2:
        raise HypervisorError(f"the image is QCOW2, not {image_format.upper()}")
    if physical_size == 0:
        raise HypervisorError("the image is empty")
    return physical_size
