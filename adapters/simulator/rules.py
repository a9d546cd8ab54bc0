"""The rule sets simulated routers hold, and the report a test in another process reads.

Each router keeps the newest generation it was given; an older one is ignored. When
``STRATUS_SIMULATOR_RULES`` names a file, every change rewrites it (whole, then renamed into
place) as ``{"<instance name>": {"generation": N, "rules": [...], "haproxy": "...",
"certificates": {"<id>": "<sha256 of the bundle>"}}}``, so a test driving a server in another
process can see what each router applied. A certificate's key is never written: only a digest
of its bundle.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from adapters.haproxy import BalancerConfig

REPORT_VARIABLE = "STRATUS_SIMULATOR_RULES"
ACL_REPORT_VARIABLE = "STRATUS_SIMULATOR_ACLS"  # the same report of VPC routers' ACL sets
# The same report of VPC routers' site-to-site connections, one set per `<router>/<connection>`
# (its ends and a digest of the pre-shared key; empty once dropped).
SITE_VPN_REPORT_VARIABLE = "STRATUS_SIMULATOR_SITE_VPNS"


class RuleSets:
    """Per router (instance name): the generation and the rules it holds; a set of rules with
    load balancers (`balanced`) reports the haproxy configuration and certificates too."""

    def __init__(
        self,
        report_file: str | None = None,
        variable: str = REPORT_VARIABLE,
        *,
        balanced: bool = True,
    ) -> None:
        self._balanced = balanced
        self._lock = threading.Lock()
        self._held: dict[str, tuple[int, tuple[dict[str, Any], ...]]] = {}
        self._balancers: dict[str, tuple[str, dict[str, str]]] = {}
        self._report = report_file
        self._variable = variable

    def apply(
        self,
        name: str,
        generation: int,
        rules: tuple[dict[str, Any], ...],
        balancer: BalancerConfig | None = None,
    ) -> bool:
        """Hold `rules` unless a newer generation is held already; True when it changed."""
        with self._lock:
            held = self._held.get(name)
            if held is not None and held[0] >= generation:
                return False
            self._held[name] = (generation, tuple(dict(r) for r in rules))
            if balancer is not None:
                self._balancers[name] = (balancer.text, balancer.digests())
            self._write()
            return True

    def balancer(self, name: str) -> tuple[str, dict[str, str]]:
        """The haproxy configuration the router runs and its certificates' bundle digests."""
        with self._lock:
            return self._balancers.get(name, ("", {}))

    def held(self, name: str) -> tuple[int, tuple[dict[str, Any], ...]]:
        with self._lock:
            return self._held.get(name, (0, ()))

    def generation(self, name: str) -> int:
        return self.held(name)[0]

    def everything(self) -> dict[str, tuple[int, tuple[dict[str, Any], ...]]]:
        """Every set held, by name (a copy)."""
        with self._lock:
            return dict(self._held)

    def _write(self) -> None:
        path = self._report or os.environ.get(self._variable)
        if not path:
            return
        report: dict[str, dict[str, Any]] = {
            name: {"generation": generation, "rules": list(rules)}
            for name, (generation, rules) in self._held.items()
        }
        if self._balanced:
            for name, held in report.items():
                held["haproxy"], held["certificates"] = self._balancers.get(name, ("", {}))
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps(report, sort_keys=True), encoding="utf-8")
        partial.replace(target)
