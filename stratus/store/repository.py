"""The repository the event store loads aggregates through: the library's, with its cache made
safe to share between threads.

The library keeps one cached aggregate per id and fast-forwards it in place under a lock kept
per aggregate, but hands the caller its deep copy after letting that lock go. A second thread
fast-forwarding the same aggregate then changes it while the first is still copying it ("dictionary
changed size during iteration", or a copy that mixes two versions). Here the copy is taken
under the same lock, and a freshly rebuilt aggregate is cached as a copy, so the object in the
cache is only ever touched by the thread holding its lock.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository, project_aggregate

from stratus.store.contention import Turns


class SharedCacheRepository(Repository[UUID]):
    """A repository whose cached aggregates are read, moved forward and copied one thread at a
    time (per aggregate), and whose loads inside a command attempt take the aggregate's turn
    when it is contended (stratus/store/contention.py)."""

    def __init__(self, turns: Turns, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.turns = turns

    def get(  # type: ignore[override]
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        if version is None:
            self.turns.loading(aggregate_id)
        copying = deepcopy_from_cache and self.deepcopy_from_cache
        if not self.cache or version is not None or not self.fastforward or not copying:
            return super().get(
                aggregate_id,
                version=version,
                projector_func=projector_func,
                fastforward_skipping=fastforward_skipping,
                deepcopy_from_cache=deepcopy_from_cache,
            )
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                return self._cached_copy(aggregate_id, projector_func)
        finally:
            self._disuse_fastforward_lock(aggregate_id)

    def _cached_copy(self, aggregate_id: UUID, projector_func: Any) -> Any:
        """A private copy of the aggregate as stored now (the caller holds its lock)."""
        assert self.cache is not None
        try:
            cached = self.cache.get(aggregate_id)
        except KeyError:
            rebuilt = self._reconstruct_aggregate(aggregate_id, None, projector_func)
            self.cache.put(aggregate_id, deepcopy(rebuilt))
            return rebuilt
        new_events = self.event_store.get(originator_id=aggregate_id, gt=cached.version)
        moved = projector_func(cached, new_events)
        if moved is None:
            raise AggregateNotFoundError(aggregate_id)
        if moved is not cached:
            self.cache.put(aggregate_id, moved)
        return deepcopy(moved)
