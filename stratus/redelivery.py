"""Work in flight sent again when an embedded server starts.

The in-process bus keeps its messages in memory: a crash loses the work requests not yet
answered and the results not yet applied, while the relay's recorded position is already past
them. Before the adapters start, the events that asked for work still awaited (the entry point
finds them: `commands.stuck_jobs.requests_in_flight`) are routed and published again, under
their original message ids. Adapters act on a request id once, and every action finds out what
the hypervisor already did (a VM already running is reported running, not started twice), so
the answer that was lost comes again and the job ends. On NATS nothing of this is needed: the
stream keeps unacknowledged requests and results.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from eventsourcing.utils import get_topic

from stratus.outbox import Route

log = logging.getLogger(__name__)


async def redeliver(bus: Any, routes: Mapping[str, Route], events: Iterable[Any]) -> int:
    """Publish again the request each event asked for; returns how many went out."""
    sent = 0
    for event in events:
        route = routes.get(get_topic(type(event)))
        outgoing = route(event) if route is not None else None
        if outgoing is None:
            continue
        msg_id = f"{event.originator_id}:{event.originator_version}"
        await bus.publish(outgoing.subject, outgoing.payload, msg_id=msg_id)
        sent += 1
    if sent:
        log.info("sent %d request(s) in flight again after a restart", sent)
    return sent
