"""Waiting on a condition instead of for a fixed time: poll until it holds or a deadline passes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    check: Callable[[], T], timeout: float = 30, what: str = "the condition", interval: float = 0.05
) -> T:
    """The first truthy answer of `check`; fails naming `what` if none comes within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {answer!r})")
        time.sleep(interval)  # a poll interval, not a wait for the condition


async def eventually(
    check: Callable[[], T], timeout: float = 10, what: str = "the condition", interval: float = 0.01
) -> T:
    """`wait_until` for a coroutine: the event loop keeps running while the condition is polled."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {answer!r})")
        await asyncio.sleep(interval)  # a poll interval, not a wait for the condition
