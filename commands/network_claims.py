"""Taking and giving back claims on pool values (guest VLANs/VNIs, guest IPs).

Allocation looks at candidates in order: first the values the caller believes free (read from a
read model, lowest first), then the whole pool probed from a position derived from the holder,
so concurrent allocators spread out instead of all racing for the lowest value. Whatever a look
finds, the claim's save decides: a value taken meanwhile makes the save conflict, and the
command reruns and looks again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.errors import InsufficientCapacity
from domain.network_claims import Claim, claim_id

ALLOCATION_ATTEMPTS = 50  # many creates may race for one pool: keep reloading
PROBE_LIMIT = 8192  # looks per allocation: every VLAN pool, and plenty in a sparse VNI pool


def load_claim(store: Any, kind: str, scope: UUID, value: str) -> Claim | None:
    try:
        claim: Claim = store.repository.get(claim_id(kind, scope, value))
    except AggregateNotFoundError:
        return None
    return claim


def claim_first_free(
    store: Any, kind: str, scope: UUID, candidates: Iterable[str], holder: UUID, what: str
) -> Claim:
    """A claim on the first free candidate, taken for `holder` but not yet saved."""
    for value in islice(_unique(candidates), PROBE_LIMIT):
        claim = load_claim(store, kind, scope, value)
        if claim is None:
            return Claim(kind, scope, value, holder)
        if claim.free or claim.holder_id == holder:
            claim.take(holder)
            return claim
    raise InsufficientCapacity(f"Unable to allocate {what}: none is free")


def claim_exact(store: Any, kind: str, scope: UUID, value: str, holder: UUID, what: str) -> Claim:
    """A claim on `value` itself, or 533 when someone else holds it."""
    claim = load_claim(store, kind, scope, value)
    if claim is None:
        return Claim(kind, scope, value, holder)
    if not (claim.free or claim.holder_id == holder):
        raise InsufficientCapacity(f"The {what} {value} is already in use")
    claim.take(holder)
    return claim


def released(store: Any, kind: str, scope: UUID, value: str, holder: UUID) -> Claim | None:
    """The claim with its release pending, or None when `holder` does not hold it."""
    claim = load_claim(store, kind, scope, value)
    if claim is None or claim.holder_id != holder:
        return None
    claim.release(holder)
    return claim


def _unique(values: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for value in values:
        if value not in seen:
            seen.add(value)
            yield value
