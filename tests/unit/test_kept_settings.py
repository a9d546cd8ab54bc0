"""The table of 4.3's settings that are kept without taking effect."""

from __future__ import annotations

from collections import Counter

import pytest

from domain.configuration import DEFINITIONS, SCOPES
from domain.errors import InvalidParameter
from domain.kept_settings import kept_settings


def test_each_kept_setting_is_defined_once_with_a_default_of_its_kind() -> None:
    kept = kept_settings()
    assert len(kept) > 200
    names = Counter(k.name for k in kept)
    assert [name for name, times in names.items() if times > 1] == []
    for setting in kept:
        spec = DEFINITIONS[setting.name]
        assert spec.kind in ("string", "int", "float", "fraction", "bool", "secret"), setting
        assert set(spec.scopes) <= set(SCOPES) and spec.scopes[0] == "global", setting
        assert setting.description and "\t" not in setting.description
        if setting.default and spec.kind != "secret":
            assert spec.validate(setting.default) is not None


def test_fractions_lie_between_0_and_1() -> None:
    threshold = DEFINITIONS["cluster.cpu.allocated.capacity.disablethreshold"]
    assert threshold.validate("0.9") == "0.9"
    with pytest.raises(InvalidParameter, match="between 0 and 1"):
        threshold.validate("1.2")
    assert DEFINITIONS["ping.timeout"].validate("3.5") == "3.5"
