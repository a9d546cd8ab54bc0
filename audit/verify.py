"""Checking the hash chain against the stored events: what changed, appeared or vanished, where.

The events and the chain are walked together in id order. Each event's link is recomputed
from the previous stored link and the event's stored bytes, so one edited row is reported
alone, not every row after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from stratus.store.chain import GENESIS, leaf_hash, link_hash
from stratus.store.readonly import LogSource, RawEvent


@dataclass(frozen=True)
class Finding:
    """One place where the log and its chain disagree."""

    notification_id: int
    kind: str  # "changed", "inserted", "removed", "checkpoint"
    detail: str

    def __str__(self) -> str:
        return f"event #{self.notification_id} was {self.kind}: {self.detail}"


@dataclass
class Report:
    checked: int = 0
    head_id: int = 0
    head_link: bytes = GENESIS
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify(source: LogSource, *, page: int = 5000, max_findings: int = 20) -> Report:
    """Walk the whole log; stop after ``max_findings`` findings (the first names the culprit)."""
    report = Report()
    checkpoints = source.checkpoint_links()
    events, links = source.scan(page=page), _links(source, page)
    event, link = next(events, None), next(links, None)
    previous = GENESIS
    while (event or link) and len(report.findings) < max_findings:
        if link is None or (event is not None and event.id < link[0]):
            assert event is not None
            report.findings.append(Finding(event.id, "inserted", f"{_name(event)} has no link"))
            event = next(events, None)
            continue
        link_id, stored = link
        if event is None or link_id < event.id:
            report.findings.append(
                Finding(link_id, "removed", "the chain links it but the log no longer holds it")
            )
        else:
            expected = link_hash(previous, event.id, _leaf(event))
            if expected != stored:
                report.findings.append(
                    Finding(event.id, "changed", f"{_name(event)} no longer matches its link")
                )
            report.checked += 1
            event = next(events, None)
        if link_id in checkpoints and checkpoints[link_id] != stored:
            report.findings.append(
                Finding(link_id, "checkpoint", "its link differs from the checkpoint recorded")
            )
        previous, report.head_id, report.head_link = stored, link_id, stored
        link = next(links, None)
    return report


def _links(source: LogSource, page: int) -> Iterator[tuple[int, bytes]]:
    after = 0
    while True:
        batch = source.links_after(after, page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1][0]


def _leaf(event: RawEvent) -> bytes:
    return leaf_hash(event.originator_id, event.version, event.topic, event.state)


def _name(event: RawEvent) -> str:
    return f"{event.topic} of {event.originator_id} v{event.version}"
