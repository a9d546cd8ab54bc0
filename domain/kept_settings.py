"""The rest of 4.3's global settings: listed, validated by kind and kept at the scopes 4.3 sets
them at, so the tools that set them at start work, but not acted on.

The settings Stratus acts on are defined in `domain.configuration` beside their checks; the others
are rows of `kept_settings.tsv` (name, category, kind, 4.3's default, scopes, what it is for, and
for the settings 4.3 declares as config keys beside its code, whether 4.3 takes a change at once). A
setting is defined in one place only: moving a row's name into `domain.configuration` is how a
kept setting starts to take effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files


@dataclass(frozen=True)
class KeptSetting:
    name: str
    category: str
    kind: str  # "string", "int", "float", "fraction", "bool" or "secret"
    default: str
    scopes: tuple[str, ...]
    description: str
    dynamic: bool | None = None  # None: not recorded (the settings of 4.3's `Config` table)


def kept_settings() -> tuple[KeptSetting, ...]:
    text = files("domain").joinpath("kept_settings.tsv").read_text(encoding="utf-8")
    found = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, category, kind, default, scopes, description, *rest = line.split("\t")
        dynamic = {"true": True, "false": False}.get(rest[0]) if rest else None
        found.append(
            KeptSetting(
                name, category, kind, default, tuple(scopes.split(",")), description, dynamic
            )
        )
    return tuple(found)
