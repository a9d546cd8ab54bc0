"""Choosing a process's bus: in-process without a NATS URL, JetStream with one."""

from __future__ import annotations

from typing import Any

from stratus.bus import Bus
from stratus.bus.memory import InProcessBus


def make_bus(nats_url: str | None, **options: Any) -> Bus:
    """Build an unstarted bus; `options` are `BusOptions` fields plus implementation extras.

    Extras: ``retain`` for the in-process bus; ``stream``, ``timeout`` and ``replicas`` for
    JetStream. An option the chosen implementation does not know raises `TypeError`.
    """
    if nats_url is None:
        return InProcessBus(**options)
    # Imported here so that the embedded mode never loads the NATS client.
    from stratus.bus.nats import JetStreamBus

    return JetStreamBus(nats_url, **options)
