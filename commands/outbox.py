"""Which events ask adapters for work, and the message each becomes (read by the outbox relay)."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic

from domain.host import Host
from stratus.messages import DEFAULT_PREFIX, WorkRequest, encode, seal_credentials
from stratus.outbox import Outgoing, Route


def routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """Routes keyed by event topic; `box` seals credentials for the adapter."""

    def connect(e: Any) -> Outgoing:
        host_id = str(e.originator_id)
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action="connect_host",
            target_id=host_id,
            params={"host_id": host_id},
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
        )
        return Outgoing(request.subject(prefix), encode(request))

    # The library creates Host.ConnectRequested from the decorated method: mypy cannot see it.
    return {get_topic(Host.ConnectRequested): connect}  # type: ignore[attr-defined]
