"""Event state encoding: every tagged type comes back exactly, secrets stay sealed at rest."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.values import Secret
from stratus.store.secrets import SecretBox
from stratus.store.transcoder import OrjsonTranscoder


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


def transcoder() -> OrjsonTranscoder:
    return OrjsonTranscoder(SecretBox(os.urandom(32)))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 25, 12, 30, 1, 5, tzinfo=UTC),
        datetime(2026, 11, 25, 12, 30),
        datetime(2026, 6, 1, 9, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15))),
        datetime(1, 1, 1),
        date(2026, 2, 28),
        Decimal("1.50"),
        Decimal("-0.000001"),
        uuid4(),
        ("a", 1, (uuid4(), None)),
        (),
        {"nested": [uuid4(), {"at": date(2020, 1, 1)}], "n": 1.25, "ok": True},
        ["plain", 1, None, False],
    ],
)
def test_every_stored_type_comes_back_equal_and_of_its_type(value: object) -> None:
    codec = transcoder()
    again = codec.decode(codec.encode({"value": value}))["value"]
    assert again == value and type(again) is type(value)
    if isinstance(value, datetime):
        assert again.utcoffset() == value.utcoffset()


def test_a_secret_is_sealed_in_the_bytes_and_opened_on_reading() -> None:
    codec = transcoder()
    data = codec.encode({"password": Secret("hunter2-secret"), "in": [Secret("pw-in-list")]})
    assert b"hunter2" not in data and b"pw-in-list" not in data
    again = codec.decode(data)
    assert again["password"].reveal() == "hunter2-secret"
    assert again["in"][0].reveal() == "pw-in-list"


def test_enums_are_stored_as_their_plain_values() -> None:
    codec = transcoder()
    again = codec.decode(codec.encode({"colour": Colour.RED, "level": Level.HIGH}))
    assert again == {"colour": "red", "level": 3}
    assert type(again["colour"]) is str and type(again["level"]) is int


def test_a_value_of_an_unknown_type_is_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        transcoder().encode({"value": {1, 2}})


def test_bytes_written_by_the_earlier_encoding_still_decode() -> None:
    owner = UUID("11d320199b70439fbc19dc3898299186")
    earlier = (
        b'{"owner":{"_type_":"uuid","_data_":"11d320199b70439fbc19dc3898299186"},'
        b'"seen":{"_type_":"datetime","_data_":"2026-11-25T20:44:12.853811+00:00"},'
        b'"day":{"_type_":"date","_data_":"2026-11-25"},'
        b'"tags":{"_type_":"tuple","_data_":["a",{"_type_":"decimal","_data_":"1.5"}]}}'
    )
    assert transcoder().decode(earlier) == {
        "owner": owner,
        "seen": datetime(2026, 11, 25, 20, 44, 12, 853811, tzinfo=UTC),
        "day": date(2026, 11, 25),
        "tags": ("a", Decimal("1.5")),
    }


def test_an_unknown_tag_is_an_error_not_a_silent_dict() -> None:
    with pytest.raises(ValueError, match="unknown stored type tag"):
        transcoder().decode(b'{"v":{"_type_":"mystery","_data_":1}}')
