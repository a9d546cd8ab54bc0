"""The `stratus` command's own help: its version, its roles and the read models it names."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import pytest

from entrypoint.cli import main, read_models
from projections import registry
from stratus.store.decoding import plain


def _help(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*args, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_version_names_the_installed_release(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("stratus ")


def test_help_explains_every_read_model_the_product_keeps(capsys) -> None:
    kept = [projection.name for projection in registry.build(lambda text: text)]
    assert sorted(read_models()) == sorted(kept)
    assert all(read_models().values()), "give each read model a `summary` of what it keeps"
    for args in (("projections",), ("projections", "rebuild")):
        shown = _help(capsys, *args)
        assert all(name in shown for name in kept)


def test_help_explains_the_roles_and_the_shared_key(capsys) -> None:
    shown = _help(capsys, "serve")
    for role in ("all", "api", "projections", "relay", "events"):
        assert f"\n  {role} " in shown
    assert "STRATUS_SECRET_KEY" in shown


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    colour: Colour
    size: int


def test_nested_values_become_json_values_not_reprs() -> None:
    assert plain({"inner": [Inner(Colour.RED, 3)]}) == {"inner": [{"colour": "red", "size": 3}]}
