"""Value types shared by aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Secret:
    """A secret value (password, secret key, pre-shared key) that is encrypted when stored.

    Its text is reachable only through ``reveal()``; ``repr`` and ``str`` never show it, so a
    secret cannot leak into a log line or an error message by accident.
    """

    value: str = field(repr=False)

    def reveal(self) -> str:
        return self.value

    def __str__(self) -> str:
        return "********"

    def __repr__(self) -> str:
        return "Secret(********)"
