"""Work in flight sent again when an embedded server starts.

The in-process bus keeps its messages in memory: a crash loses the work requests not yet
answered and the results not yet applied, while the relay's recorded position is already past
them. Before the adapters start, every request a pending hypervisor job still waits on, and
every template download in flight, is published again from the event that asked for it, under
the same message id. Adapters act on a request id once, and every action finds out what the
hypervisor already did (a VM already running is reported running, not started twice), so the
answer that was lost comes again and the job ends. On NATS nothing of this is needed: the
stream keeps unacknowledged requests and results.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from stratus.outbox import Route

log = logging.getLogger(__name__)


async def redeliver_in_flight(runtime: Any, bus: Any, routes: Mapping[str, Route]) -> int:
    """Publish every request still in flight again; returns how many went out."""
    events = await asyncio.to_thread(requests_in_flight, runtime)
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


def requests_in_flight(runtime: Any) -> list[Any]:
    """The events that asked for the work pending jobs and template downloads wait on."""
    from commands.stuck_jobs import in_flight, request_event
    from domain.job import Job
    from domain.template import Template
    from projections.jobs import pending_job_ids
    from projections.templates import downloads_in_flight

    store = runtime.store
    with runtime.db.read() as cursor:
        job_ids = pending_job_ids(cursor)
        downloads = downloads_in_flight(cursor, datetime.max.replace(tzinfo=UTC))
    events = []
    for job_id in job_ids:
        job = store.get(Job, UUID(job_id), what="job")
        flight = in_flight(store, job) if job.executor == "hypervisor" else None
        if flight is not None:
            events.append(flight.event)
    for template_id, zone_id in downloads:
        template = store.get(Template, UUID(template_id), what="template")
        request = template.request_in(UUID(zone_id))
        event = request_event(store, template.id, request) if request else None
        if event is not None:
            events.append(event)
    return events
