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


def test_settings_4_3_declares_beside_its_code_say_whether_a_change_takes_effect_at_once() -> None:
    kept = {k.name: k for k in kept_settings()}
    assert (kept["vm.job.enabled"].default, kept["vm.job.enabled"].dynamic) == ("false", False)
    assert kept["enable.ha.storage.migration"].dynamic is True
    assert kept["alert.smtp.port"].dynamic is None  # a row of 4.3's Config table: not recorded
    assert DEFINITIONS["vm.job.timeout"].validate("1000") == "1000"
    with pytest.raises(InvalidParameter):
        DEFINITIONS["execute.in.sequence.hypervisor.commands"].validate("sometimes")


def test_the_overprovisioning_factor_is_kept_per_storage_pool_too() -> None:
    assert "storagepool" in DEFINITIONS["storage.overprovisioning.factor"].scopes
