"""The operations listener's app (`serve --health-port`): health checks and `/metrics`."""

from __future__ import annotations

from starlette.applications import Starlette

from api.health import Health, health_routes
from api.metrics import Exporter


def create_operations_app(health: Health) -> Starlette:
    exporter = Exporter(health.runtime)
    return Starlette(routes=[*health_routes(health), *exporter.routes()])
