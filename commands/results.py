"""Every handler of adapter results, by action: what the server's result consumer dispatches to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands import hosts, routers, system_vms, templates, vms


def result_handlers() -> dict[str, Callable[[Any, Any], Any]]:
    """Handlers from every command family; an action claimed twice is a programming error."""
    merged: dict[str, Callable[[Any, Any], Any]] = {}
    for table in (
        hosts.RESULT_HANDLERS,
        vms.RESULT_HANDLERS,
        templates.RESULT_HANDLERS,
        system_vms.RESULT_HANDLERS,
        routers.RESULT_HANDLERS,
    ):
        for action, handler in table.items():
            if action in merged:
                raise RuntimeError(f"two handlers claim {action} results")
            merged[action] = handler
    return merged
