"""Running totals for hypervisors that report I/O only as rates (per second), as XenServer's
VIF and VBD metrics and vSphere's performance counters do.

Each reading adds the rates just reported times the seconds since the previous reading of
the same counters; the first reading of a VM adds nothing (there is no interval yet). It is
an estimate: what moved between two readings at other rates than the last one is not seen.
The totals live in the driver's memory, so a new driver starts from zero in a new epoch.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence


class RateTotals:
    """Totals per key (a VM's network, one of its disks) integrated from rates."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.epoch = f"totals-{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, list[float]]] = {}

    def add(self, key: str, rates: Sequence[float]) -> list[int]:
        """The totals of `key` after adding `rates` (per second) over the time since the last."""
        now = self.clock()
        with self._lock:
            last = self._seen.get(key)
            if last is None or len(last[1]) != len(rates):
                totals = [0.0] * len(rates)
            else:
                elapsed = max(now - last[0], 0.0)
                totals = [
                    t + max(float(r), 0.0) * elapsed for t, r in zip(last[1], rates, strict=True)
                ]
            self._seen[key] = (now, totals)
        return [int(total) for total in totals]
