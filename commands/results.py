"""Every handler of adapter results, by action: what the server's result consumer dispatches to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands import families


def result_handlers() -> dict[str, Callable[[Any, Any], Any]]:
    """Handlers from every command family's `RESULT_HANDLERS`, each then followed by the work
    its families' `FOLLOW_UPS` react with; an action claimed twice is a programming error."""
    modules = families()
    merged: dict[str, Callable[[Any, Any], Any]] = {}
    for module in modules:
        for action, handler in getattr(module, "RESULT_HANDLERS", {}).items():
            if action in merged:
                raise RuntimeError(f"two handlers claim {action} results")
            merged[action] = handler
    for module in modules:
        for action, follow_up in getattr(module, "FOLLOW_UPS", {}).items():
            merged[action] = _followed(merged[action], follow_up)
    return merged


def _followed(
    handler: Callable[[Any, Any], Any], follow_up: Callable[[Any, Any], None]
) -> Callable[[Any, Any], Any]:
    """`handler`, then work reacting to what it recorded (a router that booted gets its
    networks' rules again)."""

    def handle(store: Any, result: Any) -> Any:
        outcome = handler(store, result)
        follow_up(store, result)
        return outcome

    return handle
