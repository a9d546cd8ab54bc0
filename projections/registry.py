"""Every read model the product keeps: each module of this package that declares `READ_MODELS`.

A new read model is a `Projection` subclass listed in its module's `READ_MODELS`; `build()` finds
it, so nothing else needs to name it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

import projections
from stratus.projection import Projection


def read_model_classes() -> list[type[Projection]]:
    """Each module's `READ_MODELS`, in module name order."""
    found: list[type[Projection]] = []
    for module_info in sorted(pkgutil.iter_modules(projections.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{projections.__name__}.{module_info.name}")
        found.extend(getattr(module, "READ_MODELS", ()))
    return found


def build(seal: Callable[[str], str]) -> list[Projection]:
    """Fresh instances of every read model, for a store that seals secrets with `seal`."""
    built = [model.built(seal) for model in read_model_classes()]
    names = [projection.name for projection in built]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"read models named twice: {', '.join(duplicated)}")
    return built
