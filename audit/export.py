"""Signed, self-describing JSON-lines exports of the log for auditors who work offline.

Line 1 is a header (format, fields, signing algorithm, public key and its fingerprint, range,
and the chain link just before the first record); then one record per event, with its leaf
and link; the last line is a trailer with the count, the SHA-256 of every line before it, and
an Ed25519 signature of that digest. The signing key is a 0600 PEM file the operator names
(`--signing-key`), made there on first use. A verifier needs only the file (and, to be sure
of the signer, the fingerprint published by the operator).
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from stratus.settings import ConfigurationError, Unavailable
from stratus.store.chain import GENESIS, leaf_hash, link_hash
from stratus.store.decoding import META_FIELDS, Decoder
from stratus.store.readonly import LogSource, RawEvent

FORMAT = "stratus-audit-export"
RECORD_FIELDS = (
    "id",
    "time",
    "resource_type",
    "resource_id",
    "version",
    "event",
    *META_FIELDS,
    "data",
    "leaf",
    "link",
)


def signing_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The Ed25519 key in `path` (0600), made there first when there is no file yet;
    (key, whether it was made now). Nothing else ever writes a key for an export."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load_signing_key(path), False
    except OSError as error:
        raise Unavailable(f"cannot create the signing key {path}: {error.strerror}") from None
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with os.fdopen(descriptor, "wb") as sink:
        sink.write(pem)
    return key, True


def _load_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise ConfigurationError(f"{path} must be readable by its owner only (chmod 600)")
        text = path.read_bytes()
    except OSError as error:
        raise Unavailable(f"cannot read the signing key {path}: {error.strerror}") from None
    try:
        loaded = serialization.load_pem_private_key(text, password=None)
    except ValueError:
        loaded = None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} does not hold an Ed25519 private key (PEM)")
    return loaded


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Range:
    since: datetime | None = None
    until: datetime | None = None

    def holds(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment <= self.until
        )


def write_export(source: LogSource, key: Ed25519PrivateKey, sink: IO[bytes], span: Range) -> int:
    """Write the export of ``span``; returns how many events it holds."""
    digest = hashlib.sha256()

    def emit(obj: dict[str, Any]) -> None:
        line = orjson.dumps(obj) + b"\n"
        digest.update(line)
        sink.write(line)

    chosen = _in_range(source, Decoder(), span)
    first = next(chosen, None)
    previous = GENESIS if first is None else source.link_before(first[0].id) or GENESIS
    emit(_header(key.public_key(), span, source.dialect, previous))
    count, links = 0, _Links(source)
    for raw, record in _chain(first, chosen):
        record["leaf"] = leaf_hash(raw.originator_id, raw.version, raw.topic, raw.state).hex()
        record["link"] = links[raw.id].hex()
        emit(record)
        count += 1
    signature = key.sign(digest.digest())
    trailer = {"trailer": True, "count": count, "sha256": digest.hexdigest()}
    trailer["signature"] = base64.b64encode(signature).decode()
    sink.write(orjson.dumps(trailer) + b"\n")
    return count


def _in_range(
    source: LogSource, decoder: Decoder, span: Range
) -> Iterator[tuple[RawEvent, dict[str, Any]]]:
    """Every event from the first to the last one in the span: ids stay contiguous, so the
    chain can be followed link by link (a concurrent commit may stamp times out of order)."""
    pending: list[tuple[RawEvent, dict[str, Any]]] = []
    for raw in source.scan():
        record = decoder.record(raw)
        inside = span.holds(datetime.fromisoformat(record["time"]))
        if not pending and not inside:
            continue
        pending.append((raw, record))
        if inside:
            yield from pending
            pending.clear()


def _chain(first: Any, rest: Iterator[Any]) -> Iterable[Any]:
    if first is not None:
        yield first
        yield from rest


class _Links:
    """Stored links read ahead in pages, for records that arrive in id order."""

    def __init__(self, source: LogSource) -> None:
        self._source = source
        self._page: dict[int, bytes] = {}
        self._last = -1

    def __getitem__(self, notification_id: int) -> bytes:
        if notification_id > self._last:
            batch = self._source.links_after(notification_id - 1, 5000)
            self._page = dict(batch)
            self._last = batch[-1][0] if batch else notification_id
        return self._page.get(notification_id, b"")


def _header(public: Ed25519PublicKey, span: Range, dialect: str, previous: bytes) -> dict[str, Any]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "format": FORMAT,
        "version": 1,
        "created": datetime.now(UTC).isoformat(),
        "store": dialect,
        "since": span.since.isoformat() if span.since else None,
        "until": span.until.isoformat() if span.until else None,
        "fields": list(RECORD_FIELDS),
        "hash": "link = sha256(previous link || id as 8-byte big-endian || leaf); leaf = sha256 "
        "of the stored originator id, version, topic and state",
        "previous_link": previous.hex(),
        "signature": {
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(raw).decode(),
            "fingerprint": fingerprint(public),
            "signs": "the SHA-256 of every line before the trailer",
        },
    }


def verify_export(path: Path, expected_fingerprint: str | None = None) -> tuple[bool, str]:
    """Check an export's signature, count and chain continuity; (ok, what was found)."""
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except OSError as error:
        raise Unavailable(f"cannot read {path}: {error.strerror}") from None
    if len(lines) < 2:
        return False, "not an export: fewer than two lines"
    try:
        header, trailer = orjson.loads(lines[0]), orjson.loads(lines[-1])
        if header.get("format") != FORMAT or not trailer.get("trailer"):
            return False, "not a Stratus audit export"
        public_raw = base64.b64decode(header["signature"]["public_key"])
        public = Ed25519PublicKey.from_public_bytes(public_raw)
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return False, "not a Stratus audit export"
    if expected_fingerprint and fingerprint(public) != expected_fingerprint.lower():
        return False, f"signed by another key (fingerprint {fingerprint(public)})"
    digest = hashlib.sha256(b"".join(lines[:-1])).digest()
    try:
        public.verify(base64.b64decode(trailer["signature"]), digest)
    except InvalidSignature:
        return False, "the signature does not match the content: the export was altered"
    records = [orjson.loads(line) for line in lines[1:-1]]
    if len(records) != trailer["count"]:
        return False, f"the trailer counts {trailer['count']} events, the file holds {len(records)}"
    broken = _broken_link(bytes.fromhex(header["previous_link"]), records)
    if broken is not None:
        return False, f"the chain breaks at event #{broken}"
    return True, f"{len(records)} events, signed by {fingerprint(public)}"


def _broken_link(previous: bytes, records: list[dict[str, Any]]) -> int | None:
    for record in records:
        link = link_hash(previous, record["id"], bytes.fromhex(record["leaf"]))
        if link.hex() != record["link"]:
            return int(record["id"])
        previous = link
    return None
