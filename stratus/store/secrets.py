"""The at-rest key and the cipher that seals secret fields inside stored events."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stratus.datadir import private_directory
from stratus.settings import ConfigurationError, Settings, Unavailable

_NONCE_BYTES = 12


class SecretBox:
    """AES-GCM sealing of short secret strings under a keyring: the current key seals, and the
    current and retired keys open. Each sealed value carries its own nonce and names its key by
    fingerprint (`<fingerprint>:<base64>`), so opening picks the right key after a rotation.
    Values sealed before keys were named have no prefix; any key of the ring that opens them
    (the AES-GCM tag tells) is theirs."""

    def __init__(self, key: bytes, retired: Sequence[bytes] = ()) -> None:
        for one in (key, *retired):
            if len(one) not in (16, 24, 32):
                raise ConfigurationError("the secret key must be 16, 24 or 32 bytes of base64")
        self._current = fingerprint(key)
        self._ring = {fingerprint(one): AESGCM(one) for one in (*retired, key)}
        self._aead = self._ring[self._current]
        self._derivation = hmac.new(key, b"stratus key derivation", hashlib.sha256).digest()

    @property
    def current(self) -> str:
        """The fingerprint of the key new values are sealed with."""
        return self._current

    @property
    def fingerprints(self) -> frozenset[str]:
        """The fingerprints of every key this box opens with (current and retired)."""
        return frozenset(self._ring)

    def derive(self, purpose: str) -> bytes:
        """A key of its own for one purpose (signing download links, say), derived from the
        current key: knowing it reveals neither the key nor another purpose's key."""
        return hmac.new(self._derivation, purpose.encode("utf-8"), hashlib.sha256).digest()

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), None)
        return f"{self._current}:{base64.b64encode(sealed).decode('ascii')}"

    def sealed_with(self, sealed: str) -> str | None:
        """The fingerprint a sealed value names, or None for a value sealed before keys were
        named."""
        mark, separator, _ = sealed.partition(":")
        return mark if separator else None

    def open(self, sealed: str) -> str:
        mark, separator, body = sealed.partition(":")
        if not separator:  # sealed before values named their key
            return self._open_unnamed(sealed)
        aead = self._ring.get(mark)
        if aead is None:
            raise ConfigurationError(
                f"a stored secret is sealed with key {mark}, which this process does not hold: "
                "give it as STRATUS_SECRET_KEY or in STRATUS_RETIRED_SECRET_KEYS"
            )
        plain = _decrypt(aead, body)
        if plain is None:
            raise ConfigurationError(f"a stored secret names key {mark} but does not open with it")
        return plain

    def _open_unnamed(self, sealed: str) -> str:
        for aead in self._ring.values():
            plain = _decrypt(aead, sealed)
            if plain is not None:
                return plain
        raise ConfigurationError(
            "a stored secret cannot be decrypted: it was sealed before key rotation with a key "
            f"this process does not hold (it holds {', '.join(sorted(self._ring))}); give the "
            "store's first key as STRATUS_SECRET_KEY or in STRATUS_RETIRED_SECRET_KEYS"
        )


def _decrypt(aead: AESGCM, text: str) -> str | None:
    try:
        raw = base64.b64decode(text, validate=True)
        plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None)
    except (InvalidTag, binascii.Error, ValueError):
        return None
    return plain.decode("utf-8")


def box_for(settings: Settings, key: bytes) -> SecretBox:
    """The keyring of a process: `key` current, and the retired keys its settings give."""
    return SecretBox(key, load_retired_keys(settings))


RETIRED_KEYS_FILE = "retired.keys"  # beside the key file: retired keys, one per line, 0600


def load_retired_keys(settings: Settings) -> list[bytes]:
    """The retired keys from STRATUS_RETIRED_SECRET_KEYS (comma-separated base64), else from
    the 0600 `retired.keys` file in the data directory (one per line); none when neither is."""
    if settings.retired_secret_keys:
        text, source = settings.retired_secret_keys, "STRATUS_RETIRED_SECRET_KEYS"
    else:
        path = settings.data_dir / RETIRED_KEYS_FILE
        try:
            if not path.exists():
                return []
            _check_permissions(path)
            text, source = path.read_text(), str(path)
        except OSError as error:
            raise Unavailable(f"cannot read {path}: {error.strerror}") from None
    parts = text.replace("\n", ",").split(",")
    return [_decode_key(part.strip(), source) for part in parts if part.strip()]


def load_or_create_key(settings: Settings) -> bytes:
    """The key from STRATUS_SECRET_KEY, else from the 0600 key file (created on first start)."""
    key = load_key(settings)
    if key is not None:
        return key
    key = new_key()
    write_key_file(settings.key_file, key)
    return key


def load_key(settings: Settings) -> bytes | None:
    """The key from STRATUS_SECRET_KEY, else from the 0600 key file; None when neither is."""
    if settings.secret_key:
        return _decode_key(settings.secret_key, "STRATUS_SECRET_KEY")
    path = settings.key_file
    try:
        if not path.exists():
            return None
        _check_permissions(path)
        text = path.read_text().strip()
    except OSError as error:
        raise Unavailable(f"cannot read the key file {path}: {error.strerror}") from None
    return _decode_key(text, str(path))


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def fingerprint(key: bytes) -> str:
    """A short name for `key` that reveals nothing of it (an HMAC of a fixed text)."""
    return hmac.new(key, b"stratus secret key fingerprint", hashlib.sha256).hexdigest()[:16]


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{source} is not valid base64") from None
    if len(key) not in (16, 24, 32):
        raise ConfigurationError(f"{source} must hold a 16, 24 or 32 byte key")
    return key


def _check_permissions(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigurationError(
            f"{path} must be readable by its owner only (mode 0600, found {mode:04o})"
        )


def write_key_file(path: Path, key: bytes) -> None:
    """Write `key` to a new 0600 file (never over an existing one)."""
    private_directory(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(key).decode("ascii") + "\n")
    except OSError as error:
        raise Unavailable(f"cannot write the key file {path}: {error.strerror}") from None
