"""Image checksums as a template's registration gives them: plain hex is MD5 (as CloudStack 4.3
sends it), ``{SHA-256}hex`` (or ``{SHA-1}``, ``{SHA-512}``, ``{MD5}``) names its algorithm."""

from __future__ import annotations

import hashlib
import re

from adapters import HypervisorError

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
