"""A command group or read model is found from its own module: nothing else has to name it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import projections
from api.cloudstack import tables
from api.dispatch import Dispatcher
from projections import registry
from stratus.projection import Projection


def _projection_modules() -> list[object]:
    return [
        importlib.import_module(f"projections.{info.name}")
        for info in pkgutil.iter_modules(projections.__path__)
    ]


def test_every_read_model_class_of_the_package_is_declared_in_its_module() -> None:
    declared = set(registry.read_model_classes())
    defined = {
        member
        for module in _projection_modules()
        for member in vars(module).values()
        if inspect.isclass(member)
        and issubclass(member, Projection)
        and member.__module__ == module.__name__  # type: ignore[attr-defined]
        and "name" in vars(member)
    }
    assert defined - declared == set(), "list it in its module's READ_MODELS"


def test_read_models_that_keep_secrets_are_built_with_the_sealer() -> None:
    sealed: list[str] = []
    built = {p.name: p for p in registry.build(lambda text: sealed.append(text) or "sealed")}
    assert built["identity"].seal("x") == "sealed"  # type: ignore[attr-defined]
    assert built["configuration"].seal("y") == "sealed"  # type: ignore[attr-defined]
    assert sealed == ["x", "y"]


def test_every_command_group_of_the_package_is_dispatched() -> None:
    dispatcher = Dispatcher(tables())
    assert dispatcher.find("deployVirtualMachine").name == "deployVirtualMachine"
    assert dispatcher.find("listvpcs").name == "listVPCs"
    assert sum(len(table) for table in tables()) == len(dispatcher.commands)


def test_a_command_declared_twice_is_refused() -> None:
    table = tables()[0]
    with pytest.raises(ValueError, match="declared twice"):
        Dispatcher([table, table[:1]])


def test_every_family_route_table_is_declared_and_reaches_the_outbox() -> None:
    from commands import families
    from commands.outbox import routes

    undeclared = [
        f"{module.__name__}.{name}"
        for module in families()
        if module.__name__ != "commands.outbox"
        for name, member in vars(module).items()
        if name.endswith("_routes")
        and inspect.isfunction(member)
        and member.__module__ == module.__name__
        and getattr(module, "OUTBOX_ROUTES", None) is not member
    ]
    assert undeclared == [], "name it in its module's OUTBOX_ROUTES"
    table = routes(None)
    for module in families():
        family = getattr(module, "OUTBOX_ROUTES", None)
        if family is not None:
            assert set(family(None, "stratus")) <= set(table), module.__name__


def test_every_result_handler_and_follow_up_of_a_family_is_dispatched() -> None:
    from commands import families
    from commands.results import result_handlers

    handlers = result_handlers()
    for module in families():
        claimed = set(getattr(module, "RESULT_HANDLERS", {})) | set(
            getattr(module, "FOLLOW_UPS", {})
        )
        assert claimed <= set(handlers), module.__name__
