"""InProcessBus: the embedded-mode bus, inside one asyncio event loop.

It keeps the JetStream contract described in `stratus.bus` (durable groups keyed by group and
pattern, de-duplication by msg_id, retries, ack-wait redelivery, max deliveries) so that code
tested against it behaves the same on NATS. Where it differs, by design:

- Storage is memory. Messages, group positions and the de-duplication window die with the
  process; after a restart the embedded server must re-drive unfinished work itself.
- Retention is the last `retain` messages (JetStream: until its limits). A group created later
  than that many messages misses the older ones.
- A hung handler keeps its concurrency slot, as on NATS; when it finally returns, its result
  is ignored because the message was already given to someone else after ``ack_wait``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, replace

from stratus.bus import BusClosed, BusOptions, Delivery, Handler, Subscription
from stratus.bus.dispatch import Outcome, log_exhausted, run_handler
from stratus.bus.subjects import check_pattern, check_publish, matches


@dataclass(frozen=True)
class _Message:
    seq: int
    subject: str
    payload: bytes
    msg_id: str


class _Group:
    """One durable consumer: its backlog, delivery counts and live leases."""

    def __init__(self, options: BusOptions) -> None:
        self.options = options
        self.ready: asyncio.Queue[_Message] = asyncio.Queue()
        self._attempts: dict[int, int] = {}
        self._leases: dict[int, tuple[int, asyncio.TimerHandle]] = {}
        self._tokens = itertools.count(1)

    def lease(self, message: _Message) -> tuple[Delivery, int]:
        """Hand `message` out for at most ack_wait; the token identifies this delivery."""
        attempt = self._attempts.get(message.seq, 0) + 1
        self._attempts[message.seq] = attempt
        token = next(self._tokens)
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.options.ack_wait, self._expire, message, token)
        self._leases[message.seq] = (token, timer)
        delivery = Delivery(message.subject, message.payload, message.msg_id, attempt)
        return delivery, token

    def settle(self, message: _Message, token: int, outcome: Outcome) -> None:
        if not self._release(message, token):
            return  # too late: ack_wait passed and the message went out again
        if outcome is Outcome.RETRY:
            self._redeliver(message, self.options.retry_delay)
        else:
            del self._attempts[message.seq]

    def abandon(self, message: _Message, token: int) -> None:
        """The handler was cancelled: give the message back at once instead of after ack_wait."""
        if self._release(message, token):
            self._redeliver(message, 0.0)

    def _expire(self, message: _Message, token: int) -> None:
        if self._release(message, token):
            self._redeliver(message, 0.0)

    def _release(self, message: _Message, token: int) -> bool:
        lease = self._leases.get(message.seq)
        if lease is None or lease[0] != token:
            return False
        del self._leases[message.seq]
        lease[1].cancel()
        return True

    def _redeliver(self, message: _Message, delay: float) -> None:
        attempts = self._attempts[message.seq]
        if attempts >= self.options.max_deliver:
            del self._attempts[message.seq]
            log_exhausted(message.subject, message.msg_id, attempts)
        elif delay > 0:
            asyncio.get_running_loop().call_later(delay, self.ready.put_nowait, message)
        else:
            self.ready.put_nowait(message)


class _Member:
    """One subscription: pulls from its group's backlog, runs handlers within its slots."""

    def __init__(self, bus: InProcessBus, group: _Group, handler: Handler, slots: int) -> None:
        self._bus = bus
        self._group = group
        self._handler = handler
        self._slots = asyncio.Semaphore(slots)
        self._tasks: set[asyncio.Task[None]] = set()
        self._puller = asyncio.create_task(self._pull())

    async def stop(self) -> None:
        tasks = [self._puller, *self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._bus._members.discard(self)

    async def _pull(self) -> None:
        while True:
            # A slot first, then a message: a busy member leaves the backlog to its peers.
            await self._slots.acquire()
            message = await self._group.ready.get()
            delivery, token = self._group.lease(message)
            task = asyncio.create_task(self._handle(message, delivery, token))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(self, message: _Message, delivery: Delivery, token: int) -> None:
        try:
            outcome = await run_handler(self._handler, delivery, self._group.options.max_deliver)
        except asyncio.CancelledError:
            self._group.abandon(message, token)
            raise
        finally:
            self._slots.release()
        self._group.settle(message, token, outcome)


class InProcessBus:
    """The `Bus` of the embedded mode; see the module docstring for where it differs."""

    def __init__(
        self, options: BusOptions | None = None, *, retain: int = 10_000, **overrides: object
    ) -> None:
        self.options = replace(options or BusOptions(), **overrides)
        self._log: deque[_Message] = deque(maxlen=retain)
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._groups: dict[tuple[str, str], _Group] = {}
        self._members: set[_Member] = set()
        self._seq = itertools.count(1)
        self._open = False

    @property
    def connected(self) -> bool:
        """Whether the bus takes messages now (health checks)."""
        return self._open

    async def start(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False
        await asyncio.gather(*(member.stop() for member in list(self._members)))

    async def publish(self, subject: str, payload: bytes, *, msg_id: str) -> None:
        self._check_open()
        check_publish(self.options.prefix, subject, msg_id)
        if self._is_duplicate(msg_id):
            return
        message = _Message(next(self._seq), subject, bytes(payload), msg_id)
        self._log.append(message)
        for (_, pattern), group in self._groups.items():
            if matches(pattern, subject):
                group.ready.put_nowait(message)

    async def subscribe(
        self, subject: str, group: str, handler: Handler, *, concurrency: int | None = None
    ) -> Subscription:
        self._check_open()
        check_pattern(self.options.prefix, subject)
        member = _Member(self, self._group(group, subject), handler, self._slots(concurrency))
        self._members.add(member)
        return member

    def _group(self, name: str, pattern: str) -> _Group:
        key = (name, pattern)
        if key not in self._groups:
            # A new durable group starts from the oldest retained message, as JetStream's does.
            self._groups[key] = group = _Group(self.options)
            for message in self._log:
                if matches(pattern, message.subject):
                    group.ready.put_nowait(message)
        return self._groups[key]

    def _is_duplicate(self, msg_id: str) -> bool:
        now = time.monotonic()
        horizon = now - self.options.duplicate_window
        while self._seen and next(iter(self._seen.values())) <= horizon:
            self._seen.popitem(last=False)
        if msg_id in self._seen:
            return True
        self._seen[msg_id] = now  # a duplicate does not extend the window, as in JetStream
        return False

    def _slots(self, concurrency: int | None) -> int:
        slots = self.options.concurrency if concurrency is None else concurrency
        if slots < 1:
            raise ValueError("concurrency must be at least 1")
        return slots

    def _check_open(self) -> None:
        if not self._open:
            raise BusClosed("the in-process bus is not started (or already closed)")
