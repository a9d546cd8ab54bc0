"""Command handlers: load aggregates, call one domain method, save. One module per family."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Outcome:
    """What a command leaves behind: the log position to wait for, and what it created."""

    position: int
    id: UUID | None = None
