"""What a handler's result means for its message: one rule, shared by both implementations.

This is a worker-loop boundary: a handler's exception is caught and logged here, and becomes
a retry or a drop, so one bad message never stops a subscription.
"""

from __future__ import annotations

import enum
import logging

from stratus.bus import Definitive, Delivery, Handler

log = logging.getLogger("stratus.bus")


class Outcome(enum.Enum):
    """How a delivery is settled."""

    ACK = "ack"
    RETRY = "retry"
    DROP = "drop"


async def run_handler(handler: Handler, delivery: Delivery, max_deliver: int) -> Outcome:
    """Run `handler` once and decide the outcome; cancellation propagates to the caller."""
    try:
        await handler(delivery)
    except Definitive as exc:
        # Payloads are never logged: they may carry hypervisor credentials.
        log.warning("dropping %s: definitive failure: %s", _name(delivery), exc)
        return Outcome.DROP
    except Exception:
        if delivery.terminated:
            log.warning("dropping %s: terminated, then failed", _name(delivery), exc_info=True)
            return Outcome.DROP
        if delivery.attempt >= max_deliver:
            log.exception("dropping %s after %d deliveries", _name(delivery), delivery.attempt)
            return Outcome.DROP
        log.warning("handler failed on %s; will retry", _name(delivery), exc_info=True)
        return Outcome.RETRY
    if delivery.terminated:
        log.info("dropping %s: terminated by its handler", _name(delivery))
        return Outcome.DROP
    return Outcome.ACK


def log_exhausted(subject: str, msg_id: str, attempts: int) -> None:
    """Record a message given up on because it was never acknowledged in time."""
    log.error(
        "dropping %s (msg %s): not acknowledged after %d deliveries", subject, msg_id, attempts
    )


def _name(delivery: Delivery) -> str:
    return f"{delivery.subject} (msg {delivery.msg_id}, attempt {delivery.attempt})"
