"""The at-rest key and the cipher that seals secret fields inside stored events."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stratus.datadir import private_directory
from stratus.settings import ConfigurationError, Settings, Unavailable

_NONCE_BYTES = 12


class SecretBox:
    """AES-GCM sealing of short secret strings; each sealed value carries its own nonce."""

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise ConfigurationError("the secret key must be 16, 24 or 32 bytes of base64")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), None)
        return base64.b64encode(sealed).decode("ascii")

    def open(self, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        try:
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None)
        except InvalidTag:
            raise ConfigurationError(
                "a stored secret cannot be decrypted: STRATUS_SECRET_KEY or the key file "
                "is not the key this data was written with"
            ) from None
        return plain.decode("utf-8")


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
