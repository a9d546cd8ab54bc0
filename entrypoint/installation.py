"""Opening this product's installation: the infrastructure's parts with every read model."""

from __future__ import annotations

from collections.abc import Sequence

from projections import registry
from stratus.projection import Projection
from stratus.runtime import Runtime, open_parts
from stratus.settings import Settings
from stratus.store.application import EventStore


def all_projections(store: EventStore) -> list[Projection]:
    """Every read model of the product, fresh instances wired to the store's cipher."""
    return registry.build(store.box.seal)


def open_runtime(
    settings: Settings, *, projections: Sequence[Projection] | None = None, migrate_now: bool = True
) -> Runtime:
    """The installation with the given read models (every read model of the product by default)."""
    chosen = (lambda store: projections) if projections is not None else all_projections
    return open_parts(settings, chosen, migrate_now=migrate_now)
