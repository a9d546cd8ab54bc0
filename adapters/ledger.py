"""The record of finished requests, so that a redelivered request is answered, not acted on again.

Every worker keeps a `MemoryLedger`. When the bus is NATS JetStream, workers also share a
`KvLedger` (a JetStream key-value bucket), so a request redelivered to ANOTHER worker after the
first one finished, but before its ack reached the server, is answered from the record too.
The shared ledger is a safeguard on top of drivers that are idempotent by desired state: when it
cannot be reached the worker logs that and acts, which those drivers make safe.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections import OrderedDict
from typing import Any, Protocol

from stratus.messages import WorkResult, decode_result, encode

log = logging.getLogger("adapters.ledger")


class Ledger(Protocol):
    """Finished requests by request id."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def get(self, request_id: str) -> WorkResult | None: ...

    async def put(self, result: WorkResult) -> None: ...


class MemoryLedger:
    """The last `capacity` results of one worker."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._results: OrderedDict[str, WorkResult] = OrderedDict()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def get(self, request_id: str) -> WorkResult | None:
        return self._results.get(request_id)

    async def put(self, result: WorkResult) -> None:
        self._results[result.request_id] = result
        self._results.move_to_end(result.request_id)
        while len(self._results) > self.capacity:
            self._results.popitem(last=False)


class KvLedger:
    """Results in a JetStream key-value bucket shared by every worker of a cloud."""

    def __init__(self, url: str, bucket: str, *, ttl: float = 86_400.0, timeout: float = 5.0):
        self.url = url
        self.bucket = bucket
        self.ttl = ttl  # longer than any redelivery or republish of one request can take
        self.timeout = timeout
        self._nc: Any = None
        self._kv: Any = None

    async def start(self) -> None:
        # Imported here so that the embedded mode never loads the NATS client.
        import nats
        from nats.js.api import KeyValueConfig

        self._nc = await nats.connect(
            servers=[part.strip() for part in self.url.split(",")],
            name="stratus-adapter-ledger",
            connect_timeout=self.timeout,
        )
        js = self._nc.jetstream(timeout=self.timeout)
        config = KeyValueConfig(bucket=self.bucket, history=1, ttl=self.ttl)
        try:
            self._kv = await js.create_key_value(config)
        except nats.js.errors.BadRequestError:
            # Made by another worker, perhaps with other settings: use it as it is.
            self._kv = await js.key_value(self.bucket)

    async def close(self) -> None:
        nc, self._nc, self._kv = self._nc, None, None
        if nc is not None and not nc.is_closed:
            await nc.close()

    async def get(self, request_id: str) -> WorkResult | None:
        import nats.js.errors

        if self._kv is None:
            return None
        try:
            entry = await self._kv.get(_key(request_id))
        except nats.js.errors.KeyNotFoundError:
            return None
        except Exception as exc:  # a safeguard only: see the module docstring
            log.warning("shared ledger %s unavailable for reading: %r", self.bucket, exc)
            return None
        return decode_result(entry.value) if entry.value else None

    async def put(self, result: WorkResult) -> None:
        if self._kv is None:
            return
        try:
            await self._kv.put(_key(result.request_id), encode(result))
        except Exception as exc:  # a safeguard only: see the module docstring
            log.warning("shared ledger %s unavailable for writing: %r", self.bucket, exc)


def shared_ledger_for(bus: object) -> KvLedger | None:
    """A KvLedger beside a JetStreamBus (bucket ``<stream>-requests``); None for other buses."""
    module = sys.modules.get("stratus.bus.nats")
    if module is None or not isinstance(bus, module.JetStreamBus):
        return None
    return KvLedger(bus.url, f"{bus.stream}-requests", timeout=bus.timeout)


def _key(request_id: str) -> str:
    # Request ids may hold characters KV keys refuse; a digest never does.
    return hashlib.sha256(request_id.encode()).hexdigest()
