"""Download links of extracted images: signed, bound to their key, and expiring."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from api.extract_links import sign, verify
from stratus.store.secrets import SecretBox

KEY = b"k" * 32
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_link_names_its_offer_until_it_expires() -> None:
    offer = uuid.uuid4()
    token = sign(KEY, offer, NOW + timedelta(seconds=60))
    assert verify(KEY, token, NOW) == offer
    assert verify(KEY, token, NOW + timedelta(seconds=59)) == offer
    assert verify(KEY, token, NOW + timedelta(seconds=60)) is None


def test_a_link_signed_with_another_key_or_altered_names_nothing() -> None:
    token = sign(KEY, uuid.uuid4(), NOW + timedelta(hours=1))
    assert verify(b"x" * 32, token, NOW) is None
    for index in range(len(token)):
        altered = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
        assert verify(KEY, altered, NOW) is None
    assert verify(KEY, token[:-1], NOW) is None
    assert verify(KEY, token + "AAAA", NOW) is None
    assert verify(KEY, "not base64!", NOW) is None
    assert verify(KEY, "", NOW) is None


def test_the_link_key_is_derived_per_purpose_from_the_installation_key() -> None:
    box, other = SecretBox(b"s" * 32), SecretBox(b"t" * 32)
    assert box.derive("extract links") == SecretBox(b"s" * 32).derive("extract links")
    assert box.derive("extract links") != box.derive("something else")
    assert box.derive("extract links") != other.derive("extract links")
    assert b"s" * 32 not in box.derive("extract links")
