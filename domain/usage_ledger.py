"""The usage ledger: what each resource is using right now, folded from events in log order.

A *span* is one resource used under one set of terms (its *head*: type, resource, sub-resource,
owner, name and attributes) from `start` to `end` (epoch milliseconds; None while open). A
byte counter is a span of no length with an `amount`. The ledger keeps the open spans and the
identities of resources (so a later event that names only the resource finds its owner), and
hands every closed span to `on_closed`; a persisted ledger also lists what changed, so a
caller can write just that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# (usage_type, usage_id, sub, account_id, domain_id, zone_id, name, attrs)
Head = tuple[Any, ...]
Attrs = tuple[tuple[str, Any], ...]
SpanKey = tuple[int, str, str]


@dataclass(slots=True)
class Span:
    head: Head
    start: int
    end: int | None = None
    amount: int | None = None
    stored: bool = False  # held by a persisted ledger's table already

    @property
    def key(self) -> SpanKey:
        return (self.head[0], self.head[1], self.head[2])


def attrs_of(values: Mapping[str, Any]) -> Attrs:
    """Attributes in one canonical order, so equal terms make equal heads."""
    return tuple(sorted(values.items()))


class Ledger:
    """Open spans, resource identities and usage settings, changed by extractors."""

    def __init__(
        self,
        on_closed: Callable[[Span], None] | None = None,
        *,
        track: bool = False,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        self.on_closed = on_closed or (lambda span: None)
        self.track = track  # list what changed, for a caller that persists the ledger
        # Only these resources' usage is kept (a replay split into partitions); identities and
        # settings are kept for every resource, as a resource's usage may need another's.
        self.owns = owns
        # One object per distinct set of terms, shared by every head that has it: heads then
        # compare by identity there, and a replay's millions of heads stay small and in cache.
        self._terms: dict[Attrs, Attrs] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.open: dict[SpanKey, Span] = {}
        self._by_resource: dict[str, set[SpanKey]] = {}
        self.settings: list[tuple[int, str, str]] = []  # (at, name, value) in log order
        self.labels: dict[str, tuple[str, str]] = {}  # account/domain id: (name, domain path)
        self.first: int | None = None  # the earliest start of any span
        self.earliest: int | None = None  # the earliest instant touched since `mark()`
        self.opened: list[Span] = []
        self.closed: list[Span] = []
        self.touched: set[str] = set()
        self.settings_added: list[tuple[int, str, str]] = []

    # What extractors call -------------------------------------------------------------

    def remember(self, resource_id: str, **identity: Any) -> None:
        """Record (or update) who owns a resource and what it is called."""
        known = self.resources.setdefault(resource_id, {})
        known.update(identity)
        if self.track:
            self.touched.add(resource_id)

    def identity(self, resource_id: str) -> dict[str, Any] | None:
        return self.resources.get(resource_id)

    def begin(
        self,
        usage_type: int,
        resource_id: str,
        at: int,
        attrs: Attrs,
        sub: str = "",
        zone_id: str | None = None,
    ) -> None:
        """`resource_id` starts being used under `attrs` (whatever was open for it ends)."""
        who = self.resources.get(resource_id)
        if who is None or (self.owns is not None and not self.owns(resource_id)):
            return
        self.end(usage_type, resource_id, at, sub)
        head = (
            usage_type,
            resource_id,
            sub,
            who.get("account_id"),
            who.get("domain_id"),
            zone_id or who.get("zone_id"),
            who.get("name", ""),
            self._terms.setdefault(attrs, attrs),
        )
        span = Span(head, at)
        key = (usage_type, resource_id, sub)
        self.open[key] = span
        keys = self._by_resource.get(resource_id)
        if keys is None:
            keys = self._by_resource[resource_id] = set()
        keys.add(key)
        if self.track:
            self.opened.append(span)
        # The replay's inner loop: `_touch` and `first` written out.
        if self.earliest is None or at < self.earliest:
            self.earliest = at
        if self.first is None or at < self.first:
            self.first = at

    def end(self, usage_type: int, resource_id: str, at: int, sub: str = "") -> None:
        key = (usage_type, resource_id, sub)
        span = self.open.pop(key, None)
        if span is None:
            return
        keys = self._by_resource.get(resource_id)
        if keys is not None:
            keys.discard(key)
        start = span.start
        span.end = at if at > start else start
        if self.track:
            self.closed.append(span)
        if self.earliest is None or at < self.earliest:
            self.earliest = at
        if at > start:
            self.on_closed(span)

    def end_all(self, resource_id: str, at: int, types: tuple[int, ...] = ()) -> None:
        """End every open span of a resource (or only those of `types`)."""
        for usage_type, _, sub in list(self._by_resource.get(resource_id, ())):
            if not types or usage_type in types:
                self.end(usage_type, resource_id, at, sub)

    def reshape(self, resource_id: str, at: int, attrs: Attrs) -> None:
        """New terms for whatever is open: before `at` the old ones, after it the new."""
        for key in list(self._by_resource.get(resource_id, ())):
            span = self.open[key]
            self.begin(key[0], resource_id, at, attrs, key[2], span.head[5])

    def transfer(self, resource_id: str, at: int, **identity: Any) -> None:
        """A new owner from `at`: what is open ends for the old one and begins, on the same
        terms, for the new."""
        self.remember(resource_id, **identity)
        for key in list(self._by_resource.get(resource_id, ())):
            span = self.open[key]
            self.begin(key[0], resource_id, at, span.head[7], key[2], span.head[5])

    def open_types(self, resource_id: str) -> set[int]:
        return {key[0] for key in self._by_resource.get(resource_id, ())}

    def count(
        self, usage_type: int, resource_id: str, at: int, amount: int, attrs: Attrs, sub: str = ""
    ) -> None:
        """A measured amount (bytes) used at `at`."""
        who = self.resources.get(resource_id)
        if who is None or amount <= 0 or (self.owns is not None and not self.owns(resource_id)):
            return
        head = (
            usage_type,
            resource_id,
            sub,
            who.get("account_id"),
            who.get("domain_id"),
            who.get("zone_id"),
            who.get("name", ""),
            self._terms.setdefault(attrs, attrs),
        )
        span = Span(head, at, at, amount)
        if self.track:
            self.closed.append(span)
        self._touch(at)
        self.on_closed(span)

    def setting(self, name: str, value: str, at: int) -> None:
        self.settings.append((at, name, value))
        if self.track:
            self.settings_added.append((at, name, value))
        self._touch(at)

    def label(self, owner_id: str, name: str, path: str = "") -> None:
        self.labels[owner_id] = (name, path)

    # Bookkeeping for a persisted ledger ------------------------------------------------

    def _touch(self, at: int) -> None:
        if self.earliest is None or at < self.earliest:
            self.earliest = at

    def mark(self) -> None:
        """Forget what changed so far (it has been written)."""
        self.opened, self.closed, self.touched = [], [], set()
        self.settings_added = []
        self.earliest = None

    def restore_open(self, span: Span) -> None:
        """Put back a span that a stored ledger held open."""
        self.open[span.key] = span
        self._by_resource.setdefault(span.head[1], set()).add(span.key)
