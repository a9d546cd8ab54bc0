"""Commands on regions: add, update and remove one (the local region is there from the start)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands import Outcome, change_singleton
from domain.regions import Regions


def change_regions(store: Any, mutate: Callable[[Regions], Any]) -> Outcome:
    """Load the regions (started on first use) and apply one change, retried on a conflict."""
    return change_singleton(store, Regions, mutate, what="regions")
