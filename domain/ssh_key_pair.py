"""SSHKeyPair: an account's named public key, and how a public key is read and fingerprinted.

Only the public half is ever recorded: a pair the server generates hands its private half to the
caller once and keeps nothing of it. Names are unique per account (a `NameClaim`). The
fingerprint is CloudStack's: the MD5 of the decoded key blob, as colon-separated hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

CLAIM_KIND = "ssh-key-pair"
KEY_TYPES = frozenset(
    {
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
    }
)
_MALFORMED = "Public key is invalid"


def claim_key(account_id: UUID, name: str) -> str:
    return f"{account_id}:{name}"


@dataclass(frozen=True)
class PublicKey:
    """A public key in OpenSSH's one-line form (`type base64 [comment]`) and its fingerprint."""

    text: str
    fingerprint: str


def _first_string(blob: bytes) -> bytes:
    """The blob's leading length-prefixed string: the key's type, as SSH encodes keys."""
    if len(blob) < 4:
        raise InvalidParameter(_MALFORMED)
    length = int.from_bytes(blob[:4], "big")
    if length > len(blob) - 4:
        raise InvalidParameter(_MALFORMED)
    return blob[4 : 4 + length]


def fingerprint(blob: bytes) -> str:
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def parse_public_key(text: str) -> PublicKey:
    """A public key as OpenSSH writes it (RSA, DSA, ECDSA or ed25519), checked to be one."""
    parts = text.strip().split(None, 2)
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise InvalidParameter(_MALFORMED)
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter(_MALFORMED) from None
    if _first_string(blob) != parts[0].encode("ascii"):
        raise InvalidParameter(_MALFORMED)
    return PublicKey(" ".join(parts), fingerprint(blob))


class SSHKeyPair(Aggregate):
    """An account's key pair, known by its public key alone."""

    @event("Registered")
    def __init__(
        self,
        id: UUID,
        name: str,
        public_key: str,
        fingerprint: str,
        owner_account_id: UUID,
        owner_domain_id: UUID,
    ) -> None:
        if not name.strip():
            raise InvalidParameter("A key pair needs a name")
        self.name, self.public_key, self.fingerprint = name, public_key, fingerprint
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self.removed = False

    @event("Deleted")
    def delete(self) -> None:
        self.removed = True
