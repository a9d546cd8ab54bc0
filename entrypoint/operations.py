"""The operations listener (`serve --health-port`, `STRATUS_HEALTH_PORT`): `/health/live`,
`/health/ready` and `/metrics` on a port of their own, in every role. The `projections` and
`relay` roles have no other HTTP server; on `all` and `api` it keeps `/metrics` off the API's
port (the API's port answers the health checks too, for load balancers)."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn

from api.health import Health
from api.operations import create_operations_app

log = logging.getLogger(__name__)


async def serve_operations(health: Health, listener: socket.socket, stop: asyncio.Event) -> None:
    host, bound = listener.getsockname()[:2]
    log.info("operations listener (health, metrics) on http://%s:%d", host, bound)
    server = uvicorn.Server(
        uvicorn.Config(
            create_operations_app(health),
            host=host,
            port=bound,
            lifespan="off",
            access_log=False,
            **uvicorn_logging(health.runtime.settings.log_format),
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stop.set()
    await serving


def uvicorn_logging(log_format: str) -> dict[str, Any]:
    """uvicorn's own log set-up, or none when logging JSON (its lines then go through ours)."""
    return (
        {"log_level": "info", "log_config": None} if log_format == "json" else {"log_level": "info"}
    )
