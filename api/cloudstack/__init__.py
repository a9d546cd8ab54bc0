"""The command tables: every module of this package that declares `COMMANDS` is one API group.

A new family is a new module here with its `COMMANDS` tuple; `tables()` finds it, so nothing else
needs to name it. Modules without `COMMANDS` (shared rendering, listing and placement helpers) are
skipped.
"""

from __future__ import annotations

import importlib
import pkgutil

from api.dispatch import ApiCommand


def tables() -> list[tuple[ApiCommand, ...]]:
    """Each command module's `COMMANDS`, in module name order."""
    found: list[tuple[ApiCommand, ...]] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        commands = getattr(module, "COMMANDS", None)
        if commands is not None:
            found.append(tuple(commands))
    return found
