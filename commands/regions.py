"""Commands on regions: add, update and remove one (the local region is there from the start)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands import Outcome
from domain.errors import NotFound
from domain.regions import Regions


def change_regions(store: Any, mutate: Callable[[Regions], Any]) -> Outcome:
    """Load the regions (started on first use) and apply one change, retried on a conflict."""

    def attempt() -> Outcome:
        try:
            regions: Regions = store.get(Regions, Regions.create_id(), what="regions")
        except NotFound:
            regions = Regions()
        mutate(regions)
        return Outcome(store.last_position(store.save(regions)), regions.id)

    result: Outcome = store.run(attempt)
    return result
