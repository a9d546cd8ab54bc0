"""`/health/live` and `/health/ready`: whether this process answers, and whether it can serve.

Ready means what the process's role depends on is there: the event store answers (every
role), the bus is connected (roles that relay work: `all`, `relay`), and every read model is
within `STRATUS_READY_MAX_LAG` events of the log and not failing (roles that read or keep them:
`all`, `api`, `projections`). Unauthenticated; the answers name checks, read models and
counts, never a tenant's data or a connection's address.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stratus.runtime import Runtime

JSON = "application/json"
CHECK_TIMEOUT = 2.0  # seconds a check may take before it counts as failed
NEEDS_BUS = frozenset({"all", "relay"})
NEEDS_READ_MODELS = frozenset({"all", "api", "projections"})


@dataclass
class Health:
    """The checks of one process playing `role`; `bus` is its bus when it has one."""

    runtime: Runtime
    role: str
    bus: Any = None

    async def live(self, request: Request) -> Response:
        return _json(200, {"status": "live", "role": self.role})

    async def ready(self, request: Request) -> Response:
        checks = {"store": await self._timed(self._store)}
        if self.role in NEEDS_BUS:
            checks["bus"] = self._bus()
        if self.role in NEEDS_READ_MODELS:
            checks["read_models"] = await self._timed(self._read_models)
        ready = all(check["ok"] for check in checks.values())
        body = {"status": "ready" if ready else "not ready", "role": self.role, "checks": checks}
        return _json(200 if ready else 503, body)

    async def _timed(self, check: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = await asyncio.wait_for(asyncio.to_thread(check), CHECK_TIMEOUT)
        except TimeoutError:
            return {"ok": False, "reason": f"no answer within {CHECK_TIMEOUT:g} s"}
        except Exception as error:  # the check's own boundary: an outage is an answer
            return {"ok": False, "reason": f"unreachable ({type(error).__name__})"}
        return result

    def _store(self) -> dict[str, Any]:
        return {"ok": True, "head": self.runtime.store.head()}

    def _bus(self) -> dict[str, Any]:
        if self.bus is not None and getattr(self.bus, "connected", False):
            return {"ok": True}
        return {"ok": False, "reason": "not connected"}

    def _read_models(self) -> dict[str, Any]:
        bound = self.runtime.settings.ready_max_lag
        runner = self.runtime.runner
        statuses = runner.status()
        lagging = {s.name: s.lag for s in statuses if s.lag > bound}
        failing = sorted(runner.failures)
        check: dict[str, Any] = {
            "ok": not lagging and not failing,
            "max_lag": max((s.lag for s in statuses), default=0),
            "bound": bound,
        }
        if lagging:
            check["lagging"] = lagging
        if failing:
            check["failing"] = failing
        return check


def health_routes(health: Health) -> list[Route]:
    return [
        Route("/health/live", health.live, methods=["GET", "HEAD"]),
        Route("/health/ready", health.ready, methods=["GET", "HEAD"]),
    ]


def _json(status: int, body: dict[str, Any]) -> Response:
    headers = {"Cache-Control": "no-store"}
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)
