"""Replaying the event log into usage records, and printing them as CloudStack does.

The log holds everything usage needs: the VMs' lifecycle events (with their shapes and
times), the usage settings (`usage.stats.job.aggregation.range`, `usage.aggregation.timezone`)
and the names of accounts and domains. Nothing is cached: each replay reads the log again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from api.envelope import format_usage_date
from domain.account import Account
from domain.configuration import DEFINITIONS, GLOBAL, Configuration
from domain.domains import Domain
from domain.usage import (
    RUNNING_VM,
    VM_USAGE_EVENTS,
    UsageRecord,
    hours_text,
    periods,
    usage_records,
    vm_intervals,
)
from stratus.auditing.render import Decoder
from stratus.auditing.source import LogSource

# Event classes made by @event exist only at run time, where mypy cannot see them.
_Account: Any = Account
_Domain: Any = Domain
_Configuration: Any = Configuration

RANGE = "usage.stats.job.aggregation.range"
TIMEZONE = "usage.aggregation.timezone"
_TOPICS = tuple(
    get_topic(cls)
    for cls in (*VM_USAGE_EVENTS, _Configuration.ValueSet, _Account.Created, _Domain.Created)
)


@dataclass
class LogFacts:
    """What a replay gathered from the log: VM events, settings, and owners' names."""

    vm_events: list[Any] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    accounts: dict[UUID, str] = field(default_factory=dict)
    domains: dict[UUID, tuple[str, str]] = field(default_factory=dict)  # id: (name, path)
    events_read: int = 0

    @property
    def range_minutes(self) -> int:
        return int(self.settings.get(RANGE, DEFINITIONS[RANGE].default))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.get(TIMEZONE, DEFINITIONS[TIMEZONE].default))

    def first_day(self) -> date | None:
        if not self.vm_events:
            return None
        return min(e.timestamp for e in self.vm_events).astimezone(self.zone).date()

    def take(self, event: Any) -> None:
        self.events_read += 1
        if isinstance(event, _Configuration.ValueSet):
            if event.scope == GLOBAL and event.name in (RANGE, TIMEZONE):
                self.settings[event.name] = event.value
        elif isinstance(event, _Account.Created):
            self.accounts[event.originator_id] = event.name
        elif isinstance(event, _Domain.Created):
            self.domains[event.originator_id] = (event.name, event.path)
        else:
            self.vm_events.append(event)


def read_log(source: LogSource, progress: Callable[[int], None] | None = None) -> LogFacts:
    """The usage facts of the whole log, in log order."""
    decoder, facts = Decoder(), LogFacts()
    for raw in source.with_topics(_TOPICS):
        facts.take(decoder.event(raw))
        if progress is not None and facts.events_read % 10000 == 0:
            progress(facts.events_read)
    return facts


def records_between(facts: LogFacts, first: date, last: date, now: datetime) -> list[UsageRecord]:
    """Records of the periods from `first` to `last` (days in the usage zone) that have ended."""
    ended = [p for p in periods(first, last, facts.range_minutes, facts.zone) if p.end <= now]
    return usage_records(vm_intervals(facts.vm_events), ended, now)


def render(record: UsageRecord, facts: LogFacts) -> dict[str, Any]:
    """One record with CloudStack's field names and formats."""
    vm, shape, zone = record.vm, record.compute, facts.zone
    domain_name, _ = facts.domains.get(vm.domain_id, ("", ""))
    what = "running time" if record.usage_type == RUNNING_VM else "allocated"
    hours = hours_text(record.hours)
    item: dict[str, Any] = {
        "account": facts.accounts.get(vm.account_id, ""),
        "accountid": str(vm.account_id),
        "domainid": str(vm.domain_id),
        "domain": domain_name,
        "zoneid": str(vm.zone_id),
        "description": f"{vm.name} {what} (ServiceOffering: {shape.offering_id}) "
        f"(Template: {shape.template_id})",
        "usage": f"{hours} Hrs",
        "usagetype": record.usage_type,
        "rawusage": hours,
        "virtualmachineid": str(vm.vm_id),
        "name": vm.name,
        "offeringid": str(shape.offering_id),
        "templateid": str(shape.template_id),
        "usageid": str(vm.vm_id),
        "type": shape.hypervisor,
    }
    if shape.custom:
        item.update(cpunumber=shape.cpu_number, cpuspeed=shape.cpu_speed, memory=shape.memory)
    # The usage server writes a period's end as its last millisecond (…23:59:59.999).
    last_ms = record.period.end - timedelta(milliseconds=1)
    item["startdate"] = format_usage_date(record.period.start, zone)
    item["enddate"] = format_usage_date(last_ms, zone)
    return item


def domain_path(facts: LogFacts, domain_id: UUID) -> str:
    return facts.domains.get(domain_id, ("", ""))[1]


def rendered(records: Iterable[UsageRecord], facts: LogFacts) -> list[dict[str, Any]]:
    return [render(record, facts) for record in records]
