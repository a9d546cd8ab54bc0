"""The bus: how work reaches hypervisor adapters and how their results come back.

This module owns the interface every bus implements (`Bus`, `Subscription`, `Delivery`), its
options and its errors. Two implementations keep the same contract: `memory.InProcessBus` for the
embedded mode and `nats.JetStreamBus` for the distributed mode; `factory.make_bus` picks one.

Subjects (see `subjects` for helpers that build them):

- ``stratus.work.<hypervisor>.<action>``: work for an adapter, published by the outbox relay
  with the event id as ``msg_id`` (e.g. ``stratus.work.kvm.start_vm``);
- ``stratus.results.<hypervisor>``: outcomes reported by adapters, consumed by the server;
- ``stratus.heartbeats.<hypervisor>``: adapter liveness.

Delivery contract, identical for both implementations:

- `publish` returns once the message is stored; a second publish with the same ``msg_id`` inside
  the duplicate window is dropped silently, so a relay that crashed before recording its
  position can publish again without doubling work.
- A group is durable and identified by ``(group, subject pattern)``: the first subscription of a
  group receives every retained message matching the pattern, including ones published before
  it existed; later subscriptions resume where the group left off. Members of one group share
  the messages (each goes to one member); different groups each receive every message.
- The handler returning acknowledges the message. Raising an exception asks for redelivery after
  ``retry_delay``, up to ``max_deliver`` deliveries in all, after which the message is dropped and
  logged. `Delivery.term` or raising `Definitive` drops it at once.
- A message whose handler neither returns nor raises within ``ack_wait`` (hung, or its process
  died) is delivered again, possibly to another member. A cancelled handler (its subscription was
  stopped, or the bus closed) releases its message for immediate redelivery.
- Handlers may therefore see a message more than once: they must be idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "Bus",
    "BusClosed",
    "BusError",
    "BusOptions",
    "BusUnavailable",
    "Definitive",
    "Delivery",
    "Handler",
    "PublishError",
    "Subscription",
]


class BusError(Exception):
    """Something went wrong on the bus; the message is meant for an operator."""


class BusUnavailable(BusError, ConnectionError):
    """The bus cannot be reached at start-up; the message names where we looked."""


class PublishError(BusError):
    """A publish was not acknowledged as stored; publish again with the same msg_id.

    The message may in fact have been stored (the acknowledgement was lost); de-duplication by
    msg_id makes publishing it again safe.
    """


class BusClosed(BusError):
    """The bus is not started, or already closed."""


class Definitive(Exception):
    """A handler failure that retrying cannot fix: the message is dropped, not redelivered."""


@dataclass
class Delivery:
    """One delivery of a message to a handler."""

    subject: str
    payload: bytes
    msg_id: str
    attempt: int
    terminated: bool = field(default=False, init=False)

    def term(self) -> None:
        """Do not redeliver this message, whatever the handler does next."""
        self.terminated = True


Handler = Callable[[Delivery], Awaitable[None]]


@dataclass(frozen=True)
class BusOptions:
    """Delivery settings shared by both implementations (times in seconds)."""

    ack_wait: float = 30.0
    max_deliver: int = 5
    duplicate_window: float = 120.0
    retry_delay: float = 1.0
    concurrency: int = 4
    prefix: str = "stratus"

    def __post_init__(self) -> None:
        if self.ack_wait <= 0 or self.duplicate_window <= 0 or self.retry_delay < 0:
            raise ValueError("ack_wait and duplicate_window must be > 0, retry_delay >= 0")
        if self.max_deliver < 1 or self.concurrency < 1:
            raise ValueError("max_deliver and concurrency must be at least 1")


class Subscription(Protocol):
    """A member of a durable queue group."""

    async def stop(self) -> None:
        """Stop receiving; unacknowledged messages go back to the group."""
        ...


class Bus(Protocol):
    """Durable, acknowledged, de-duplicated publish/subscribe with queue groups."""

    async def start(self) -> None:
        """Connect and prepare storage; raise `BusUnavailable` when that is impossible."""
        ...

    async def close(self) -> None:
        """Stop every subscription and disconnect."""
        ...

    async def publish(self, subject: str, payload: bytes, *, msg_id: str) -> None:
        """Store a message; return only once stored, raise `PublishError` otherwise."""
        ...

    async def subscribe(
        self, subject: str, group: str, handler: Handler, *, concurrency: int | None = None
    ) -> Subscription:
        """Join `group` on `subject` (wildcards allowed); run at most `concurrency` handlers."""
        ...
