"""A resource's history from the event log: each of its events, with who made it and how."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from stratus.store.decoding import Decoder
from stratus.store.readonly import LogSource


def history(source: LogSource, resource_id: UUID) -> list[dict[str, Any]]:
    """Every event of the resource, oldest first, as flat records (secrets masked)."""
    decoder = Decoder()
    return [decoder.record(raw) for raw in source.events_of(resource_id)]
