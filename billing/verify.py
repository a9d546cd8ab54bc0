"""`stratus usage verify`: the stored usage records against a fresh replay of the same log.

The replay reads the log up to the billing run's position and charges the periods it has
closed, so an up-to-date billing run and the replay must agree record for record. Periods
older than the raw-usage horizon (removeRawUsageRecords) are left out: their spans are gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from billing.parallel import ReadOnlyLog, replay_log
from billing.replay import Progress
from domain.usage_ledger import Head
from domain.usage_periods import from_ms
from projections.usage import all_records, read_state

Key = tuple[int, Head]


@dataclass
class VerifyReport:
    stored: int = 0
    replayed: int = 0
    position: int = 0
    billed_until: int | None = None
    missing: list[Key] = field(default_factory=list)  # replayed, not stored
    extra: list[Key] = field(default_factory=list)  # stored, not replayed
    different: list[tuple[Key, Any, Any]] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.missing or self.extra or self.different)

    def text(self) -> str:
        until = "nothing billed yet"
        if self.billed_until is not None:
            until = f"billed until {from_ms(self.billed_until).isoformat()}"
        lines = [
            f"{self.stored} stored records, {self.replayed} replayed "
            f"(log position {self.position}, {until})"
        ]
        for key in self.missing[:20]:
            lines.append(f"missing: {_name(key)}")
        for key in self.extra[:20]:
            lines.append(f"not in the replay: {_name(key)}")
        for key, stored, fresh in self.different[:20]:
            lines.append(f"different: {_name(key)} stored {stored} replayed {fresh}")
        lines.append("usage records match the log" if self.equal else "usage records DIFFER")
        return "\n".join(lines)


def _name(key: Key) -> str:
    start, head = key
    return f"type {head[0]} {head[1]} {head[2] or ''} from {from_ms(start).isoformat()}".strip()


def verify(
    log: ReadOnlyLog, progress: Progress | None = None, workers: int | None = None
) -> VerifyReport:
    with log() as cursor:
        state = read_state(cursor)
        stored_rows = all_records(cursor)
    report = VerifyReport(position=state.position, billed_until=state.billed_until_ms)
    if state.billed_until_ms is None:
        report.stored = len(stored_rows)
        report.extra = [(p[0], head) for p, head, _ in stored_rows]
        return report
    horizon = state.raw_horizon_ms or 0
    result = replay_log(
        log, state.billed_until_ms, until=state.position, progress=progress, workers=workers
    )
    fresh = {(p[0], head): (p, used) for p, head, used in result.records() if p[0] >= horizon}
    stored = {(p[0], head): (p, used) for p, head, used in stored_rows if p[0] >= horizon}
    report.stored, report.replayed = len(stored), len(fresh)
    report.missing = sorted((k for k in fresh if k not in stored), key=repr)
    report.extra = sorted((k for k in stored if k not in fresh), key=repr)
    report.different = [
        (key, stored[key], fresh[key])
        for key in sorted(stored.keys() & fresh.keys(), key=repr)
        if stored[key] != fresh[key]
    ]
    return report
