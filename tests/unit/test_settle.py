"""A synchronous command whose change the read models do not show in time names what it saved."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from api.access import Caller
from api.dispatch import ApiCommand, Call
from domain.errors import ResourceUnavailable


def _call(visible: bool) -> Call:
    runner = SimpleNamespace(wait_for=lambda position, timeout: visible)
    runtime = SimpleNamespace(runner=runner, settings=SimpleNamespace(write_visible_timeout=0.01))
    caller = Caller("u", "admin", "a", "admin", 1, "d", "/")
    command = ApiCommand("addHost", lambda call, args: None)
    return Call(runtime, None, caller, command, {})  # type: ignore[arg-type]


def test_a_change_still_invisible_is_refused_as_unavailable_naming_what_was_saved() -> None:
    with pytest.raises(ResourceUnavailable) as refused:
        _call(visible=False).settle(42, "host-1")
    assert refused.value.resource_ids == ("host-1",)


def test_a_visible_change_settles_quietly() -> None:
    _call(visible=True).settle(42, "host-1")
