"""The event feed on NATS JetStream: one stream of public entries, one subject per event type.

Entries go to ``<subject prefix>.<event type>`` (``stratus-events.VM.CREATE``) in a file-storage
stream of their own, kept apart from the bus's work stream (its own retention; NATS forbids two
streams sharing subjects). Each message carries the log sequence as ``Nats-Msg-Id`` (the stream
drops a repeat inside its duplicate window) and as ``Stratus-Sequence``. Entries are stored in
log order, so the stream's last message says where the publisher stopped: a restart resumes
after it, however long it was down, and publishes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig

from stratus.bus import BusError, BusUnavailable
from stratus.bus.nats import MSG_ID_HEADER, redact
from stratus.feed import Entry

SEQUENCE_HEADER = "Stratus-Sequence"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_TRANSIENT = (nats.errors.Error, OSError)


@dataclass(frozen=True)
class StreamSettings:
    """Where the feed lives on NATS (times in seconds; `max_age` 0 keeps entries forever)."""

    url: str
    stream: str
    subject_prefix: str
    max_age: float = 0.0
    duplicate_window: float = 120.0
    timeout: float = 5.0
    replicas: int = 1


def subject_of(prefix: str, event_type: str) -> str:
    """The subject of an event type: its dotted words become subject tokens."""
    tokens = [_UNSAFE.sub("_", token) or "_" for token in event_type.split(".")]
    return ".".join([prefix, *tokens])


class JetStreamFeed:
    """The `Sink` publishing entries to the feed's stream."""

    name = "nats"

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None

    @property
    def _where(self) -> str:
        return f"NATS at {redact(self.settings.url)}"

    async def start(self) -> None:
        nc = Client()
        try:
            await asyncio.wait_for(
                nc.connect(
                    servers=[part.strip() for part in self.settings.url.split(",")],
                    name="stratus-events",
                    connect_timeout=self.settings.timeout,
                    reconnect_time_wait=0.5,
                    max_reconnect_attempts=-1,
                ),
                self.settings.timeout,
            )
        except (TimeoutError, *_TRANSIENT) as exc:
            with contextlib.suppress(*_TRANSIENT):
                await nc.close()
            raise BusUnavailable(f"cannot connect to {self._where}: {exc!r}") from None
        self._nc, self._js = nc, nc.jetstream(timeout=self.settings.timeout)
        try:
            await self._ensure_stream()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(*_TRANSIENT):
                await nc.flush(timeout=1)
            await nc.close()

    def _require(self) -> JetStreamContext:
        if self._js is None:
            raise BusError(f"the event feed to {self._where} is not started")
        return self._js

    async def _ensure_stream(self) -> None:
        js = self._require()
        s = self.settings
        subjects = [f"{s.subject_prefix}.>"]
        try:
            try:
                current = (await js.stream_info(s.stream)).config
            except nats.js.errors.NotFoundError:
                await js.add_stream(
                    StreamConfig(
                        name=s.stream,
                        subjects=subjects,
                        storage=StorageType.FILE,
                        duplicate_window=s.duplicate_window,
                        num_replicas=s.replicas,
                        max_age=s.max_age,
                    )
                )
                return
            if current.subjects != subjects:
                await js.update_stream(current.evolve(subjects=subjects))
        except nats.errors.NoRespondersError:
            raise BusUnavailable(f"JetStream is not enabled on {self._where}") from None
        except nats.js.errors.APIError as exc:
            raise BusError(
                f"setting up the event stream {s.stream} refused by {self._where}: "
                f"{exc.description}"
            ) from None

    async def resume_after(self) -> int:
        """The sequence of the stream's last entry: published, whatever the record says."""
        js = self._require()
        state = (await js.stream_info(self.settings.stream)).state
        if not state.messages:
            return 0
        try:
            last = await js.get_msg(self.settings.stream, state.last_seq)
        except nats.js.errors.NotFoundError:
            return 0  # expired or removed meanwhile: the recorded position stands
        return int((last.headers or {}).get(SEQUENCE_HEADER, 0))

    def wants(self, entry: Entry) -> bool:
        return True

    async def deliver(self, entry: Entry, body: bytes) -> None:
        js = self._require()
        sequence = str(entry["sequence"])
        await js.publish(
            subject_of(self.settings.subject_prefix, entry["type"]),
            body,
            timeout=self.settings.timeout,
            stream=self.settings.stream,
            headers={MSG_ID_HEADER: sequence, SEQUENCE_HEADER: sequence},
        )


async def first_stream_sequence_after(
    js: JetStreamContext, stream: str, subject_prefix: str, sequence: int
) -> int:
    """The stream sequence of the first entry past log `sequence` (a consumer resuming from
    its own record); past the stream's end when there is none yet. Entries are in log order,
    so a binary search over the stream finds it in a few reads."""
    state = (await js.stream_info(stream)).state
    low, high = state.first_seq, state.last_seq + 1
    while low < high:
        middle = (low + high) // 2
        try:
            message = await js.get_msg(stream, middle, subject=f"{subject_prefix}.>", next=True)
        except nats.js.errors.NotFoundError:
            high = middle
            continue
        found = int((message.headers or {}).get(SEQUENCE_HEADER, 0))
        if found <= sequence:
            low = (message.seq or middle) + 1
        else:
            high = middle
    return low
