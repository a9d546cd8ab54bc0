"""The CloudStack 4.3 API contract shipped with the package, and the one loader that reads it.

`cloudstack-4.3-api.json` lists every command of 4.3: its parameters, the required ones, whether
it is asynchronous, its response fields and nested objects, and the roles that may call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

import orjson

REFERENCE_FILE = "cloudstack-4.3-api.json"

# 4.3's role bitmask: which account types may call a command.
ROOT_ADMIN_BIT = 1
RESOURCE_DOMAIN_ADMIN_BIT = 2
DOMAIN_ADMIN_BIT = 4
USER_BIT = 8


@dataclass(frozen=True)
class ReferenceCommand:
    """One 4.3 command as the reference describes it."""

    name: str
    is_async: bool
    params: tuple[str, ...]
    required: frozenset[str]
    response: tuple[str, ...]
    objects: MappingProxyType[str, tuple[str, ...]]
    roles: int
    described: bool  # False for the few vendor-plugin commands listed without detail


@cache
def reference() -> MappingProxyType[str, ReferenceCommand]:
    """Every 4.3 command by its literal name."""
    raw = orjson.loads(files(__name__).joinpath(REFERENCE_FILE).read_bytes())
    return MappingProxyType(
        {name: _command(name, body or {}) for name, body in sorted(raw["commands"].items())}
    )


def _command(name: str, body: dict[str, Any]) -> ReferenceCommand:
    return ReferenceCommand(
        name=name,
        is_async=bool(body.get("async")),
        params=tuple(body.get("params") or ()),
        required=frozenset(body.get("required") or ()),
        response=tuple(body.get("response") or ()),
        objects=MappingProxyType(
            {key: tuple(fields) for key, fields in (body.get("objects") or {}).items()}
        ),
        roles=int(body.get("roles") or 0),
        described=body.get("params") is not None,
    )
