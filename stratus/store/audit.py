"""Who and why: the acting context recorded with every stored event."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

_acting: ContextVar[Mapping[str, Any] | None] = ContextVar("stratus_acting", default=None)
_process_name = {"name": "stratus"}
# The context last stored, keyed by the acting block's own dict and the process name: every
# event saved in one block shares it, instead of copying the context once per event.
_last_meta: tuple[Mapping[str, Any] | None, str, dict[str, Any]] = (None, "", {})

META_KEY = "_meta_"


def set_process_name(name: str) -> None:
    """Name the process, so changes it makes on its own are attributed to it."""
    _process_name["name"] = name


@contextmanager
def acting(**context: Any) -> Iterator[None]:
    """Attribute every event saved inside the block to this actor, command and request."""
    current = dict(_acting.get() or {})
    current.update({key: value for key, value in context.items() if value is not None})
    token = _acting.set(current)
    try:
        yield
    finally:
        _acting.reset(token)


def current_context() -> dict[str, Any]:
    """The acting context events saved now are stored with (a copy the caller may change)."""
    return dict(_stored_context())


def _stored_context() -> dict[str, Any]:
    # Read-only by contract: the mapper only encodes it. A block's dict is never changed after
    # ``acting`` sets it, so the identity of the dict stands for its content.
    global _last_meta
    block, process = _acting.get(), _process_name["name"]
    cached_block, cached_process, meta = _last_meta
    if block is cached_block and process == cached_process:
        return meta
    meta = dict(block or {})
    meta.setdefault("process", process)
    _last_meta = (block, process, meta)
    return meta


class AuditingMapper(Mapper):
    """A mapper that stores the acting context beside each event's own state."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = domain_event.__dict__.copy()
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        if META_KEY not in state:
            state[META_KEY] = _stored_context()
        payload = self.transcoder.encode(state)
        if self.compressor:
            payload = self.compressor.compress(payload)
        if self.cipher:
            payload = self.cipher.encrypt(payload)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=payload,
        )


def meta_of(domain_event: Any) -> dict[str, Any]:
    """The acting context stored with an event (empty for events stored without one)."""
    return dict(getattr(domain_event, META_KEY, None) or {})
