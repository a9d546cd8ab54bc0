"""What the gateway records of each request: its latency and status for `/metrics`, and one log
line when the process logs JSON. Only names are recorded (the command, the caller's account),
never a parameter's value: keys, signatures, passwords and session keys stay out of the log."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stratus.telemetry import Telemetry

log = logging.getLogger("stratus.requests")


@dataclass
class Seen:
    """What one request turned out to be, filled in as it is served."""

    request_id: str
    command: str | None = None  # a known command's name; never what the client sent
    account: str | None = None  # the authenticated caller's account


class RequestObserver:
    """Measures every answer; logs one line per request when asked to."""

    def __init__(self, telemetry: Telemetry, *, log_requests: bool) -> None:
        self.telemetry = telemetry
        self.log_requests = log_requests

    def answered(self, seen: Seen, status: int, seconds: float) -> None:
        self.telemetry.answered(seen.command, status, seconds)
        if self.log_requests:
            log.info(
                "request",
                extra={
                    "request_id": seen.request_id,
                    "command": seen.command,
                    "account": seen.account,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )
