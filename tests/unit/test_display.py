"""The display flag: its aggregate (given-when-then, no I/O) and the one rule every resource's
create, update and list applies (api/display.py)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from api.access import Caller
from api.dispatch import ApiCommand, Call
from api.display import FOR_DISPLAY, FOR_DISPLAY_CHANGE, asked, condition, kept
from api.params import Param, ParamType
from domain.errors import PermissionDenied
from domain.resource_display import ResourceDisplay, display_id

USER, ROOT_ADMIN, DOMAIN_ADMIN = 0, 1, 2
SHOWN, HIDDEN = "shown = 1", "shown = 0"


def _call(account_type: int, *specs: Param) -> Call:
    caller = Caller("u", "someone", "a", "someone", account_type, "d", "/")
    command = ApiCommand("createFirewallRule", lambda call, args: None, specs)
    return Call(None, None, caller, command, {})  # type: ignore[arg-type]


# ---- the aggregate ------------------------------------------------------------------------


def test_one_resource_has_one_flag_whoever_sets_it() -> None:
    resource = uuid4()
    flag = ResourceDisplay("FirewallRule", resource, False)
    assert flag.id == display_id(resource) != display_id(uuid4())
    assert flag.display is False


def test_saying_what_already_holds_records_nothing() -> None:
    flag = ResourceDisplay("Vpc", uuid4(), False)
    flag.set(False)
    flag.set(True)
    events = flag.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "Set"]
    assert flag.display is True


# ---- setting it -------------------------------------------------------------------------------


@pytest.mark.parametrize("account_type", [USER, DOMAIN_ADMIN])
def test_only_a_root_admin_hides_a_new_resource(account_type: int) -> None:
    call = _call(account_type, FOR_DISPLAY)
    with pytest.raises(PermissionDenied) as refused:
        asked(call, {"fordisplay": False})
    assert str(refused.value) == "Parameter fordisplay can only be specified by a Root Admin"
    assert asked(_call(ROOT_ADMIN, FOR_DISPLAY), {"fordisplay": False}) is False


def test_a_create_asking_for_the_default_passes_from_anyone() -> None:
    assert asked(_call(USER, FOR_DISPLAY), {"fordisplay": True}) is True


@pytest.mark.parametrize("value", [True, False])
def test_an_update_of_the_flag_is_a_root_admins_only(value: bool) -> None:
    with pytest.raises(PermissionDenied):
        asked(_call(USER, FOR_DISPLAY_CHANGE), {"fordisplay": value})
    assert asked(_call(ROOT_ADMIN, FOR_DISPLAY_CHANGE), {"fordisplay": value}) is value
    assert asked(_call(USER, FOR_DISPLAY_CHANGE), {"fordisplay": None}) is None


def test_a_network_names_its_own_flag() -> None:
    flag = Param("displaynetwork", ParamType.BOOLEAN)
    with pytest.raises(PermissionDenied, match="Parameter displaynetwork"):
        asked(_call(USER, flag), {"displaynetwork": False}, "displaynetwork")


# ---- listing by it ------------------------------------------------------------------------


def _condition(account_type: int, wanted: bool | None) -> str | None:
    return condition(_call(account_type), wanted, "fordisplay", SHOWN, HIDDEN)


def test_other_callers_see_shown_resources_only_and_may_not_filter() -> None:
    assert _condition(USER, None) == _condition(DOMAIN_ADMIN, None) == SHOWN
    for wanted in (True, False):
        with pytest.raises(PermissionDenied):
            _condition(USER, wanted)


def test_a_root_admin_sees_everything_or_filters_by_the_flag() -> None:
    assert _condition(ROOT_ADMIN, None) is None
    assert (_condition(ROOT_ADMIN, True), _condition(ROOT_ADMIN, False)) == (SHOWN, HIDDEN)


def test_answers_already_rendered_are_kept_by_the_same_rule() -> None:
    items: list[dict[str, Any]] = [
        {"id": "a", "fordisplay": True},
        {"id": "b", "fordisplay": False},
    ]
    assert kept(_call(USER), {}, items) == items[:1]
    assert kept(_call(ROOT_ADMIN), {}, items) == items
    assert kept(_call(ROOT_ADMIN), {"fordisplay": False}, items) == items[1:]
