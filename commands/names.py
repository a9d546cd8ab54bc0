"""Taking a name for an owner: the one way every family claims a unique name."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.errors import NotFound
from domain.names import NameClaim, claim_id


def claimed(store: Any, kind: str, key: str, owner_id: UUID, what: str) -> NameClaim:
    """The claim of `key` among names of `kind`, taken for `owner_id` (not saved): made when
    nobody has it, refused (InvalidParameter, `what` already exists) when another owner does.
    Two commands taking one name write the same claim version, so only one save succeeds."""
    try:
        claim: NameClaim = store.get(NameClaim, claim_id(kind, key))
    except NotFound:
        return NameClaim(kind=kind, key=key, owner_id=owner_id)
    claim.take(owner_id, what)
    return claim


def released(store: Any, kind: str, key: str) -> NameClaim | None:
    """The claim of `key` given up (not saved), or None when nobody holds it."""
    try:
        claim: NameClaim = store.get(NameClaim, claim_id(kind, key))
    except NotFound:
        return None
    claim.release()
    return claim
