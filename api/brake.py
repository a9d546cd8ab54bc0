"""The failure brake: slows down whoever keeps failing to authenticate, never the one they name.

Failures are remembered per (source address, principal), per source across principals and per
principal across sources, for a sliding window. A request is refused only when its own source
has failed: ten times for that principal, fifty times for any principals (spraying), or once
for a principal that a hundred failures from anywhere are aimed at (a distributed guess). So
nobody can lock a principal out from another address, and a principal's own correct requests
from an address that has not failed always pass. Memory is bounded: each table keeps a fixed
number of keys (digests, never the attacker's text), forgetting the least recently failed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from api.errors import RateLimited


@dataclass(frozen=True)
class BrakeLimits:
    """Failures within `window` seconds that refuse a source; `capacity` keys per table."""

    per_pair: int = 10
    per_source: int = 50
    per_principal: int = 100
    window: float = 60.0
    capacity: int = 10_000


class _RecentFailures:
    """Failure times per key, for at most `capacity` keys; the least recently failed go first."""

    def __init__(self, limit: int, capacity: int) -> None:
        self.limit, self.capacity = limit, capacity
        self._times: OrderedDict[bytes, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._times)

    def count(self, key: bytes, since: float) -> int:
        times = self._times.get(key)
        if times is None:
            return 0
        while times and times[0] < since:
            times.popleft()
        if not times:
            del self._times[key]
        return len(times)

    def add(self, key: bytes, moment: float) -> None:
        # Only the last `limit` times can matter, so a key costs a fixed amount of memory.
        times = self._times.pop(key, None) or deque(maxlen=self.limit)
        times.append(moment)
        self._times[key] = times
        while len(self._times) > self.capacity:
            self._times.popitem(last=False)


class FailureBrake:
    """Refuses a source that keeps failing (429), as described in the module docstring."""

    def __init__(
        self, limits: BrakeLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits, self.clock = limits or BrakeLimits(), clock
        size = self.limits.capacity
        self._pairs = _RecentFailures(self.limits.per_pair, size)
        self._sources = _RecentFailures(self.limits.per_source, size)
        self._principals = _RecentFailures(self.limits.per_principal, size)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Keys remembered in all tables (bounded by three times the capacity)."""
        return len(self._pairs) + len(self._sources) + len(self._principals)

    def check(self, source: str, principal: str) -> None:
        """Raise RateLimited if `source` may not try `principal` now."""
        pair, where, who = _keys(source, principal)
        since = self.clock() - self.limits.window
        with self._lock:
            failed_here = self._pairs.count(pair, since)
            refused = (
                failed_here >= self.limits.per_pair
                or self._sources.count(where, since) >= self.limits.per_source
                or (failed_here and self._principals.count(who, since) >= self.limits.per_principal)
            )
        if refused:
            raise RateLimited(f"too many failures from {source}")

    def failed(self, source: str, principal: str) -> None:
        pair, where, who = _keys(source, principal)
        moment = self.clock()
        with self._lock:
            self._pairs.add(pair, moment)
            self._sources.add(where, moment)
            self._principals.add(who, moment)


def source_of(address: str) -> str:
    """The unit a source is counted in: an IPv4 address, or an IPv6 /64 (one subscriber's)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _keys(source: str, principal: str) -> tuple[bytes, bytes, bytes]:
    where = source_of(source)
    return _digest("pair", where, principal), _digest("source", where), _digest("who", principal)


def _digest(*parts: str) -> bytes:
    text = "\0".join(parts).encode("utf-8", "replace")
    return hashlib.blake2b(text, digest_size=16).digest()
