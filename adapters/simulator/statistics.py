"""The simulator's traffic and disk counters, and the knobs a test turns on them.

A simulated router's byte counters and a VM's disk counters start from zero at each boot and
grow by a fixed step at every reading (as if the guest were busy between two readings), so
the same actions always give the same counters. A test sets exact counters instead, and they
stay as set until the next boot or the next setting: to model a reset, set lower ones.

Knobs are methods for tests in the adapter's process; a test in another process writes them
as JSON to the file named by ``STRATUS_SIMULATOR_CONTROL`` (the file `ApplianceKnobs` reads
too), re-read whenever it changes::

    {"network_counters": {"<instance name>": {"sent": 1000, "received": 5000}},
     "disk_counters": {"<instance name>": {"0": [io_read, io_write, bytes_read, bytes_write]}}}

A setting applies once per new value, so rewriting the file with the same values changes
nothing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from adapters.simulator.appliances import CONTROL_VARIABLE

NETWORK_STEP = (4096, 16384)  # bytes sent and received between two readings
DISK_STEP = (8, 4, 32768, 16384)  # I/O reads, I/O writes, bytes read, bytes written


class StatisticsKnobs:
    """Counters per VM run: set by a test, else growing a step per reading."""

    def __init__(self, control_file: str | None = None) -> None:
        self._lock = threading.Lock()
        self._network: dict[str, list[int]] = {}  # by instance name, for its current boot
        self._disks: dict[str, dict[int, list[int]]] = {}
        self._fixed: set[tuple[str, str]] = set()  # (kind, name) whose counters a test set
        self._seen: dict[tuple[str, str], Any] = {}
        self._boots: dict[str, int] = {}
        self._control = control_file
        self._stamp: float | None = None

    # Knobs -------------------------------------------------------------------------------

    def set_network(self, name: str, sent: int, received: int) -> None:
        """The router reports these counters until it boots again or a test sets others."""
        with self._lock:
            self._boots.pop(name, None)  # they are the counters of the run it is in now
            self._network[name] = [int(sent), int(received)]
            self._fixed.add(("network", name))

    def set_disk(self, name: str, device_id: int, counters: list[int]) -> None:
        with self._lock:
            self._boots.pop(name, None)
            self._disks.setdefault(name, {})[int(device_id)] = [int(c) for c in counters]
            self._fixed.add(("disk", name))

    # Used by the driver ------------------------------------------------------------------

    def network(self, name: str, boots: int) -> tuple[int, int]:
        self._read_control()
        with self._lock:
            self._boot(name, boots)
            counters = self._network.setdefault(name, [0, 0])
            if ("network", name) not in self._fixed:
                counters[:] = [c + s for c, s in zip(counters, NETWORK_STEP, strict=True)]
            return counters[0], counters[1]

    def disks(self, name: str, boots: int, device_ids: tuple[int, ...]) -> dict[int, list[int]]:
        self._read_control()
        with self._lock:
            self._boot(name, boots)
            disks = self._disks.setdefault(name, {})
            grow = ("disk", name) not in self._fixed
            for device_id in device_ids:
                counters = disks.setdefault(device_id, [0, 0, 0, 0])
                if grow:
                    counters[:] = [c + s for c, s in zip(counters, DISK_STEP, strict=True)]
            return {device_id: list(disks[device_id]) for device_id in device_ids}

    def _boot(self, name: str, boots: int) -> None:
        """A new boot starts from zero and forgets what a test set for the previous one."""
        if self._boots.get(name, boots) != boots:
            self._fixed -= {("network", name), ("disk", name)}
            self._network.pop(name, None)
            self._disks.pop(name, None)
        self._boots[name] = boots

    def _read_control(self) -> None:
        path = self._control or os.environ.get(CONTROL_VARIABLE)
        if not path:
            return
        try:
            stamp = os.stat(path).st_mtime_ns
            if stamp == self._stamp:
                return
            with open(path, encoding="utf-8") as handle:
                control = json.load(handle)
        except (OSError, ValueError):
            return  # absent, or being written: the next read sees it whole
        self._stamp = stamp
        self._apply(control)

    def _apply(self, control: Mapping[str, Any]) -> None:
        for name, values in dict(control.get("network_counters", {})).items():
            if self._new(("network", str(name)), values):
                self.set_network(str(name), int(values["sent"]), int(values["received"]))
        for name, disks in dict(control.get("disk_counters", {})).items():
            if self._new(("disk", str(name)), disks):
                for device_id, counters in dict(disks).items():
                    self.set_disk(str(name), int(device_id), list(counters))

    def _new(self, key: tuple[str, str], values: Any) -> bool:
        with self._lock:
            if self._seen.get(key) == values:
                return False
            self._seen[key] = values
            return True
