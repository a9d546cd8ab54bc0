"""The simulator's system VM images and daemons, and the knobs a test turns on them.

A simulated appliance reports the release of the image (template) it booted: the release a
test gave that template, else `DEFAULT_RELEASE`. Its daemons run until a test kills one; a
check restarts a killed daemon it may restart, unless the test broke that daemon for good.

Knobs are methods here for tests in the adapter's process. A test in another process writes
the same knobs as JSON to the file named by ``STRATUS_SIMULATOR_CONTROL``, re-read whenever it
changes::

    {"releases": {"<template>": "4.2.0" | null},
     "broken": {"<instance name>": ["dnsmasq"]},
     "kills": {"<instance name>": {"dnsmasq": 1}},
     "delays": {"<action>": 2.5},
     "slow_hosts": {"<host name>": 4.0},
     "failures": {"<action>": 1}}

A delay holds every such action (``stop_vm``, ``start_vm``, ...) for that many seconds, so a
test in another process can look at the cloud while the action is in flight; a slow host holds
every action on that host (added to the action's own delay). A failure count
makes that many more of the next such actions fail (``attach_volume``, say), once per new number.

A kill is applied once per new number, so rewriting the file does not kill again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

DEFAULT_RELEASE = "4.3.0"
CONTROL_VARIABLE = "STRATUS_SIMULATOR_CONTROL"


class ApplianceKnobs:
    """Releases per image, daemons killed and daemons broken, per appliance instance name."""

    def __init__(self, control_file: str | None = None) -> None:
        self._lock = threading.Lock()
        self._releases: dict[str, str | None] = {}
        self._stopped: dict[str, set[str]] = {}
        self._broken: dict[str, set[str]] = {}
        self._kills_seen: dict[tuple[str, str], int] = {}
        self._delays: dict[str, float] = {}
        self._slow_hosts: dict[str, float] = {}
        self._failures: dict[str, int] = {}  # the next so many calls of an action fail
        self._failures_seen: dict[str, int] = {}
        self._control = control_file
        self._control_stamp: float | None = None

    # Knobs -------------------------------------------------------------------------------

    def set_release(self, template: str, release: str | None) -> None:
        """Appliances booting `template` report `release` (None: they report nothing)."""
        with self._lock:
            self._releases[template] = release

    def kill(self, name: str, service: str) -> None:
        """The daemon stops, as if its process died; a check may restart it."""
        with self._lock:
            self._stopped.setdefault(name, set()).add(service)

    def break_service(self, name: str, service: str, broken: bool = True) -> None:
        """A broken daemon is stopped and does not come back until it is mended."""
        with self._lock:
            if broken:
                self._broken.setdefault(name, set()).add(service)
                self._stopped.setdefault(name, set()).add(service)
            else:
                self._broken.get(name, set()).discard(service)

    # Used by the driver ------------------------------------------------------------------

    def delay(self, action: str) -> float:
        """Seconds the control file asks every `action` to take (0 when it asks nothing)."""
        self._read_control()
        with self._lock:
            return self._delays.get(action, 0.0)

    def host_delay(self, host_name: str) -> float:
        """Seconds the control file asks every action on `host_name` to take longer."""
        self._read_control()
        with self._lock:
            return self._slow_hosts.get(host_name, 0.0)

    def take_failure(self, action: str) -> bool:
        """Whether this call of `action` is one the control file asked to fail."""
        self._read_control()
        with self._lock:
            left = self._failures.get(action, 0)
            if left > 0:
                self._failures[action] = left - 1
            return left > 0

    def release(self, template: str) -> str | None:
        self._read_control()
        with self._lock:
            return self._releases.get(template, DEFAULT_RELEASE)

    def check(
        self, name: str, services: tuple[str, ...], restart: tuple[str, ...]
    ) -> dict[str, str]:
        """Each service's state after restarting the stopped ones that may be restarted."""
        self._read_control()
        found = {}
        with self._lock:
            stopped = self._stopped.setdefault(name, set())
            broken = self._broken.get(name, set())
            for service in services:
                if service not in stopped:
                    found[service] = "running"
                elif service in restart and service not in broken:
                    stopped.discard(service)
                    found[service] = "restarted"
                else:
                    found[service] = "failed"
        return found

    def _read_control(self) -> None:
        path = self._control or os.environ.get(CONTROL_VARIABLE)
        if not path:
            return
        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError:
            return
        if stamp == self._control_stamp:
            return
        try:
            with open(path, encoding="utf-8") as handle:
                control = json.load(handle)
        except (OSError, ValueError):
            return  # being written: the next read sees it whole
        self._control_stamp = stamp
        self._apply(control)

    def _apply(self, control: Mapping[str, Any]) -> None:
        delays = {str(a): float(s) for a, s in dict(control.get("delays", {})).items()}
        slow = {str(h): float(s) for h, s in dict(control.get("slow_hosts", {})).items()}
        with self._lock:
            self._delays = {action: seconds for action, seconds in delays.items() if seconds > 0}
            self._slow_hosts = {host: seconds for host, seconds in slow.items() if seconds > 0}
            for action, number in dict(control.get("failures", {})).items():
                name, wanted = str(action), int(number)
                seen = self._failures_seen.get(name, 0)
                if wanted > seen:
                    self._failures_seen[name] = wanted
                    self._failures[name] = self._failures.get(name, 0) + wanted - seen
        for template, release in dict(control.get("releases", {})).items():
            self.set_release(str(template), None if release is None else str(release))
        for name, services in dict(control.get("broken", {})).items():
            for service in services:
                self.break_service(str(name), str(service))
        for name, kills in dict(control.get("kills", {})).items():
            for service, number in dict(kills).items():
                key = (str(name), str(service))
                if int(number) > self._kills_seen.get(key, 0):
                    self._kills_seen[key] = int(number)
                    self.kill(*key)
