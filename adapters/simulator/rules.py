"""The rule sets simulated routers hold, and the report a test in another process reads.

Each router keeps the newest generation it was given; an older one is ignored. When
``STRATUS_SIMULATOR_RULES`` names a file, every change rewrites it (whole, then renamed into
place) as ``{"<instance name>": {"generation": N, "rules": [...]}}``, so a test driving a
server in another process can see what each router applied.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

REPORT_VARIABLE = "STRATUS_SIMULATOR_RULES"
ACL_REPORT_VARIABLE = "STRATUS_SIMULATOR_ACLS"  # the same report of VPC routers' ACL sets


class RuleSets:
    """Per router (instance name): the generation and the rules it holds."""

    def __init__(self, report_file: str | None = None, variable: str = REPORT_VARIABLE) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[int, tuple[dict[str, Any], ...]]] = {}
        self._report = report_file
        self._variable = variable

    def apply(self, name: str, generation: int, rules: tuple[dict[str, Any], ...]) -> bool:
        """Hold `rules` unless a newer generation is held already; True when it changed."""
        with self._lock:
            held = self._held.get(name)
            if held is not None and held[0] >= generation:
                return False
            self._held[name] = (generation, tuple(dict(r) for r in rules))
            self._write()
            return True

    def held(self, name: str) -> tuple[int, tuple[dict[str, Any], ...]]:
        with self._lock:
            return self._held.get(name, (0, ()))

    def generation(self, name: str) -> int:
        return self.held(name)[0]

    def _write(self) -> None:
        path = self._report or os.environ.get(self._variable)
        if not path:
            return
        report = {
            name: {"generation": generation, "rules": list(rules)}
            for name, (generation, rules) in self._held.items()
        }
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps(report, sort_keys=True), encoding="utf-8")
        partial.replace(target)
