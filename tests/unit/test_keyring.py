"""The secret keyring: the current key seals, current and retired keys open, values sealed
before keys were named still open, and a value whose key is not held fails naming it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from stratus.settings import ConfigurationError, Settings
from stratus.store.secrets import SecretBox, fingerprint

OLD, NEW, STRANGER = b"o" * 32, b"n" * 32, b"s" * 32


def _unnamed(key: bytes, plaintext: str) -> str:
    """A value as processes sealed it before sealed values named their key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), None)).decode()


def test_a_value_names_the_current_key_and_opens_after_that_key_is_retired() -> None:
    before = SecretBox(OLD)
    sealed = before.seal("host-password-1")
    assert sealed.startswith(fingerprint(OLD) + ":")
    assert "host-password-1" not in sealed

    after = SecretBox(NEW, [OLD])
    assert after.current == fingerprint(NEW)
    assert after.fingerprints == {fingerprint(OLD), fingerprint(NEW)}
    assert after.open(sealed) == "host-password-1"
    fresh = after.seal("api-secret-2")
    assert after.sealed_with(fresh) == fingerprint(NEW)
    assert SecretBox(NEW).open(fresh) == "api-secret-2"


def test_values_sealed_before_keys_were_named_open_with_whichever_key_of_the_ring_sealed_them() -> (
    None
):
    legacy = _unnamed(OLD, "from-before")
    assert SecretBox(OLD).sealed_with(legacy) is None
    assert SecretBox(OLD).open(legacy) == "from-before"
    assert SecretBox(NEW, [OLD]).open(legacy) == "from-before"
    with pytest.raises(ConfigurationError, match=f"holds {fingerprint(NEW)}"):
        SecretBox(NEW).open(legacy)


def test_a_value_sealed_with_a_key_not_in_the_ring_fails_naming_that_key() -> None:
    sealed = SecretBox(OLD).seal("secret")
    with pytest.raises(ConfigurationError, match=f"sealed with key {fingerprint(OLD)}"):
        SecretBox(NEW, [STRANGER]).open(sealed)


def test_a_value_that_names_a_held_key_but_was_tampered_with_does_not_open() -> None:
    box = SecretBox(NEW)
    mark, _, body = box.seal("secret").partition(":")
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(ConfigurationError, match="does not open"):
        box.open(f"{mark}:{base64.b64encode(bytes(raw)).decode()}")


def test_derived_keys_follow_the_current_key() -> None:
    assert SecretBox(NEW, [OLD]).derive("links") == SecretBox(NEW).derive("links")
    assert SecretBox(NEW, [OLD]).derive("links") != SecretBox(OLD).derive("links")


def test_a_retired_key_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="16, 24 or 32"):
        SecretBox(NEW, [b"short"])


def test_retired_keys_come_from_the_environment_else_a_private_file_in_the_data_directory(
    tmp_path: Path,
) -> None:
    from stratus.store.secrets import load_retired_keys

    old, stranger = base64.b64encode(OLD).decode(), base64.b64encode(STRANGER).decode()
    given = Settings(data_dir=tmp_path, retired_secret_keys=f"{old}, {stranger}")
    assert load_retired_keys(given) == [OLD, STRANGER]
    assert load_retired_keys(Settings(data_dir=tmp_path)) == []

    path = tmp_path / "retired.keys"
    path.write_text(f"{old}\n{stranger}\n")
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by its owner only"):
        load_retired_keys(Settings(data_dir=tmp_path))
    path.chmod(0o600)
    assert load_retired_keys(Settings(data_dir=tmp_path)) == [OLD, STRANGER]
    with pytest.raises(ConfigurationError, match="STRATUS_RETIRED_SECRET_KEYS is not valid"):
        load_retired_keys(Settings(data_dir=tmp_path, retired_secret_keys="not base64!"))
