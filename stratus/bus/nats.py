"""JetStreamBus: the distributed-mode bus, on NATS JetStream (server 2.9 or later).

It owns one file-storage stream holding ``<prefix>.>`` with a duplicate window (publishes carry
``Nats-Msg-Id``) and a maximum message age (`max_age`, a week by default), and one durable pull
consumer per (group, subject pattern) with explicit acks, ``ack_wait`` and ``max_deliver``. Each
subscription runs a fetch loop that pulls a message only when it has a free handler slot, so a
busy member leaves work to its peers.

Only 2.9 features are used: no per-message TTL, no batch publish, no consumer "action" field.
A JetStream ack on 2.9 means "stored", not "fsynced".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from stratus.bus import (
    BusClosed,
    BusError,
    BusOptions,
    BusUnavailable,
    Delivery,
    Handler,
    PublishError,
    Subscription,
)
from stratus.bus.dispatch import Outcome, run_handler
from stratus.bus.subjects import check_pattern, check_publish

log = logging.getLogger("stratus.bus.nats")

MSG_ID_HEADER = "Nats-Msg-Id"
# Errors of a fetch that mean "the consumer is gone", e.g. the server lost its state.
_CONSUMER_GONE = (404, 409)
# Network and protocol failures that a fetch loop or an ack may meet while NATS reconnects.
_TRANSIENT = (nats.errors.Error, OSError)


def consumer_name(group: str, pattern: str) -> str:
    """A durable name for (group, pattern): readable, legal for NATS, and collision-free."""
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", f"{group}__{pattern}".replace(">", "all"))
    digest = hashlib.sha256(f"{group}\0{pattern}".encode()).hexdigest()[:10]
    return f"{readable[:80]}-{digest}"


def redact(url: str) -> str:
    """The server URL(s) without credentials, fit for an error message or a log line."""
    return ",".join(_redact_one(part.strip()) for part in url.split(","))


def _redact_one(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


class JetStreamBus:
    """The `Bus` of the distributed mode."""

    def __init__(
        self,
        url: str,
        stream: str = "STRATUS",
        options: BusOptions | None = None,
        *,
        timeout: float = 5.0,
        replicas: int = 1,
        max_age: float = 7 * 24 * 3600.0,
        **overrides: object,
    ) -> None:
        self.url = url
        self.stream = stream
        self.options = replace(options or BusOptions(), **overrides)
        self.timeout = timeout  # connect, stream/consumer set-up and each publish ack
        self.replicas = replicas  # used only when the stream is created
        # Messages older than this leave the stream (0: kept forever). Work is stale long
        # before (hypervisor jobs time out in minutes); heartbeats would otherwise pile up.
        self.max_age = max_age
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._members: set[_PullMember] = set()
        self._events = _ConnectionEvents()

    @property
    def connected(self) -> bool:
        """Whether the connection to NATS is up now (health checks)."""
        return self._nc is not None and self._nc.is_connected

    async def start(self) -> None:
        self._nc = await self._connect()
        self._js = self._nc.jetstream(timeout=self.timeout)
        try:
            await self._ensure_stream()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await asyncio.gather(*(member.stop() for member in list(self._members)))
        nc, self._nc, self._js = self._nc, None, None
        self._events.running = False
        if nc is not None and not nc.is_closed:
            # Flush first so the acks and naks of the stopped handlers reach the server.
            with contextlib.suppress(*_TRANSIENT):
                await nc.flush(timeout=1)
            await nc.close()

    async def publish(self, subject: str, payload: bytes, *, msg_id: str) -> None:
        js = self._require()
        check_publish(self.options.prefix, subject, msg_id)
        try:
            ack = await js.publish(
                subject,
                payload,
                timeout=self.timeout,
                stream=self.stream,
                headers={MSG_ID_HEADER: msg_id},
            )
        except nats.js.errors.NoStreamResponseError as exc:
            raise PublishError(f"no JetStream stream stores {subject!r} at {self._where}") from exc
        except _TRANSIENT as exc:
            raise PublishError(
                f"publish of {msg_id} to {subject!r} not acknowledged by {self._where}: {exc!r}"
            ) from exc
        if ack.duplicate:
            log.debug("duplicate %s on %s dropped by the stream", msg_id, subject)

    async def subscribe(
        self, subject: str, group: str, handler: Handler, *, concurrency: int | None = None
    ) -> Subscription:
        js = self._require()
        check_pattern(self.options.prefix, subject)
        slots = self.options.concurrency if concurrency is None else concurrency
        if slots < 1:
            raise ValueError("concurrency must be at least 1")
        name = consumer_name(group, subject)
        await self._ensure_consumer(name, subject)
        pull = await js.pull_subscribe_bind(durable=name, stream=self.stream)
        member = _PullMember(self, pull, _Consumer(name, subject), handler, slots)
        self._members.add(member)
        return member

    @property
    def _where(self) -> str:
        return f"NATS at {redact(self.url)}"

    def _require(self) -> JetStreamContext:
        if self._js is None:
            raise BusClosed(f"the bus to {self._where} is not started (or already closed)")
        return self._js

    async def _connect(self) -> Client:
        nc = Client()
        try:
            # Reconnect forever once connected, but give up on the first connection in time:
            # with unlimited attempts, nats-py would otherwise retry an absent server forever.
            await asyncio.wait_for(
                nc.connect(
                    servers=[part.strip() for part in self.url.split(",")],
                    name="stratus",
                    connect_timeout=self.timeout,
                    reconnect_time_wait=0.5,
                    max_reconnect_attempts=-1,
                    error_cb=self._events.on_error,
                    disconnected_cb=self._events.on_disconnected,
                    reconnected_cb=self._events.on_reconnected,
                ),
                self.timeout,
            )
        except (TimeoutError, *_TRANSIENT) as exc:
            with contextlib.suppress(*_TRANSIENT):
                await nc.close()
            cause = self._events.last_error or exc
            raise BusUnavailable(
                f"cannot connect to {self._where} within {self.timeout:g} s: {cause!r}"
            ) from exc
        self._events.running = True
        return nc

    async def _ensure_stream(self) -> None:
        js = self._require()
        subjects = [f"{self.options.prefix}.>"]
        window = self.options.duplicate_window
        with self._translated(f"setting up stream {self.stream}"):
            try:
                current = (await js.stream_info(self.stream)).config
            except nats.js.errors.NotFoundError:
                await js.add_stream(
                    StreamConfig(
                        name=self.stream,
                        subjects=subjects,
                        storage=StorageType.FILE,
                        duplicate_window=window,
                        num_replicas=self.replicas,
                        max_age=self.max_age,
                    )
                )
                return
            wanted = {"subjects": subjects, "duplicate_window": window}
            if not current.max_age and self.max_age:  # an unbounded stream of an older release
                wanted["max_age"] = self.max_age
            if any(getattr(current, key) != value for key, value in wanted.items()):
                # Evolve the existing config so that operator settings (replicas, limits) survive.
                await js.update_stream(current.evolve(**wanted))

    async def _ensure_consumer(self, name: str, pattern: str) -> None:
        js = self._require()
        config = ConsumerConfig(
            durable_name=name,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.options.ack_wait,
            max_deliver=self.options.max_deliver,
            filter_subject=pattern,
        )
        with self._translated(f"setting up consumer {name}"):
            # Creating an existing durable with new ack_wait/max_deliver updates it in place.
            await js.add_consumer(self.stream, config)

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """Turn client errors of a JetStream API call into one-line `BusError`s."""
        try:
            yield
        except nats.errors.NoRespondersError as exc:
            raise BusUnavailable(f"JetStream is not enabled on {self._where}") from exc
        except nats.js.errors.APIError as exc:
            raise BusError(f"{what} refused by {self._where}: {exc.description}") from exc
        except _TRANSIENT as exc:
            raise BusError(f"{what} failed on {self._where}: {exc!r}") from exc


@dataclass(frozen=True)
class _Consumer:
    name: str
    pattern: str


class _PullMember:
    """One subscription: a fetch loop feeding at most `slots` concurrent handlers."""

    def __init__(
        self,
        bus: JetStreamBus,
        pull: JetStreamContext.PullSubscription,
        consumer: _Consumer,
        handler: Handler,
        slots: int,
    ) -> None:
        self._bus = bus
        self._pull = pull
        self._name = consumer.name
        self._pattern = consumer.pattern
        self._handler = handler
        self._slots = asyncio.Semaphore(slots)
        self._tasks: set[asyncio.Task[None]] = set()
        self._puller = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        tasks = [self._puller, *self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._bus._members.discard(self)
        with contextlib.suppress(*_TRANSIENT):
            await self._pull.unsubscribe()

    async def _loop(self) -> None:
        while True:
            # A slot first, then a fetch: a busy member leaves the messages to its peers.
            await self._slots.acquire()
            msg = await self._fetch()
            if msg is None:
                self._slots.release()
                continue
            task = asyncio.create_task(self._handle(msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _fetch(self) -> Msg | None:
        try:
            # Short polls so that a pull request left behind by a stopped member expires soon.
            return (await self._pull.fetch(1, timeout=min(self._bus.options.ack_wait, 5.0)))[0]
        except TimeoutError:
            return None
        except nats.js.errors.APIError as exc:
            log.warning("fetch on consumer %s refused: %s; retrying", self._name, exc)
            await asyncio.sleep(0.5)
            if exc.code in _CONSUMER_GONE:
                # The server lost the durable (e.g. restarted without its store): recreate it.
                with contextlib.suppress(BusError, *_TRANSIENT):
                    await self._bus._ensure_consumer(self._name, self._pattern)
        except _TRANSIENT as exc:
            log.warning("fetch on consumer %s failed: %r; retrying", self._name, exc)
            await asyncio.sleep(0.5)
        return None

    async def _handle(self, msg: Msg) -> None:
        delivery = Delivery(
            subject=msg.subject,
            payload=msg.data,
            attempt=msg.metadata.num_delivered,
            msg_id=(msg.headers or {}).get(MSG_ID_HEADER, ""),
        )
        try:
            outcome = await run_handler(self._handler, delivery, self._bus.options.max_deliver)
        except asyncio.CancelledError:
            await _settle(msg.nak())  # give it back now rather than after ack_wait
            raise
        finally:
            self._slots.release()
        if outcome is Outcome.ACK:
            await _settle(msg.ack())
        elif outcome is Outcome.RETRY:
            await _settle(msg.nak(delay=self._bus.options.retry_delay))
        else:
            await _settle(msg.term())


async def _settle(settling: Awaitable[None]) -> None:
    """Ack, nak or term; if that is lost the server redelivers after ack_wait, which is safe."""
    try:
        await settling
    except _TRANSIENT as exc:
        log.warning("could not settle a delivery (%r); it returns after ack_wait", exc)


class _ConnectionEvents:
    """nats-py callbacks: quiet while connecting or closing, loud while running."""

    def __init__(self) -> None:
        self.last_error: Exception | None = None
        self.running = False
        self._outage_reported = False

    async def on_error(self, exc: Exception) -> None:
        self.last_error = exc
        # One warning per outage: reconnect attempts every half second would flood the log.
        if self.running and not self._outage_reported:
            log.warning("NATS connection error: %r", exc)
        else:
            log.debug("NATS connection error: %r", exc)

    async def on_disconnected(self) -> None:
        if self.running:
            log.warning("disconnected from NATS; reconnecting")
            self._outage_reported = True

    async def on_reconnected(self) -> None:
        self._outage_reported = False
        log.info("reconnected to NATS")
