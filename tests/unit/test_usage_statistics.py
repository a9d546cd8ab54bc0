"""Network and disk byte usage from statistics readings: counter arithmetic, resets, restarts,
stale readings and the records they give."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from api.cloudstack.usage_records import record_fields
from billing.decode import plain
from billing.replay import Replay
from domain.errors import InvalidParameter
from domain.statistics import DiskStatistics, NetworkStatistics, counter_delta, statistics_id
from domain.usage import NETWORK_BYTES_SENT, PRODUCED, VM_DISK_BYTES_WRITE, load_extractors
from domain.usage_periods import Calendar, to_ms
from tests.support.statistics_scenario import (
    APP,
    APP_ROOT,
    BYTES_EXPECTED,
    NETWORK,
    ROUTER,
    observed_bytes,
    statistics_scenario,
)
from tests.support.usage_scenario import berlin

LATER = berlin("2026-01-13 00:00")


def records(events: list[Any], now: datetime = LATER) -> list[dict[str, Any]]:
    """Fold the events as a replay does and print every record of the periods ended by `now`."""
    extractors = load_extractors()
    facts = [(get_topic(type(e)), plain(e)) for e in events]
    settings = [(f["at"], f["name"], f["value"]) for t, f in facts if t.endswith(".ValueSet")]
    result = Replay(Calendar(settings), to_ms(now))
    for topic, fields in facts:
        if topic in extractors:
            extractors[topic](result.ledger, fields)
    result.finish()
    return [record_fields(p, h, used, result.ledger.labels) for p, h, used in result.records()]


def test_a_counter_counts_its_growth_and_all_of_itself_after_a_reset() -> None:
    assert counter_delta(None, 700) == 700  # the first reading of a run
    assert counter_delta(1000, 3000) == 2000
    assert counter_delta(3000, 3000) == 0
    assert counter_delta(3000, 500) == 500  # lower than before: reset, all of it is new


def test_a_reading_is_recorded_only_when_a_counter_moved_and_it_is_newer() -> None:
    stats = NetworkStatistics(id=statistics_id(ROUTER), router_id=ROUTER)
    assert stats.record(NETWORK, "a", 10, 20, 1000)
    assert not stats.record(NETWORK, "a", 10, 20, 2000)  # nothing changed
    assert not stats.record(NETWORK, "a", 50, 60, 1000)  # not newer than the last (redelivered)
    assert stats.record(NETWORK, "a", 50, 60, 3000)
    assert stats.record(NETWORK, "b", 50, 60, 4000)  # the same counters of a new run
    with pytest.raises(InvalidParameter):
        stats.record(NETWORK, "b", -1, 0, 5000)
    reads = [e for e in stats.collect_events() if isinstance(e, NetworkStatistics.Read)]
    assert [(e.epoch, e.sent, e.received, e.read_at_ms) for e in reads] == [
        ("a", 10, 20, 1000),
        ("a", 50, 60, 3000),
        ("b", 50, 60, 4000),
    ]


def test_a_disk_reading_holds_only_the_volumes_that_moved() -> None:
    stats = DiskStatistics(id=statistics_id(APP), vm_id=APP)
    assert stats.record({"a": [1, 1, 10, 10], "b": [2, 2, 20, 20]}, "x", 1000)
    assert stats.record({"a": [1, 1, 10, 10], "b": [3, 2, 30, 20]}, "x", 2000)
    assert not stats.record({"a": [1, 1, 10, 10], "b": [3, 2, 30, 20]}, "x", 3000)
    assert stats.record({"a": [1, 1, 10, 10], "b": [3, 2, 30, 20]}, "y", 4000)  # a new run
    with pytest.raises(InvalidParameter):
        stats.record({"a": [1, 2, 3]}, "y", 5000)
    reads = [e for e in stats.collect_events() if isinstance(e, DiskStatistics.Read)]
    assert [sorted(e.volumes) for e in reads] == [["a", "b"], ["b"], ["a", "b"]]


def test_bytes_per_day_equal_the_hand_computed_deltas() -> None:
    assert observed_bytes(records(statistics_scenario())) == BYTES_EXPECTED


def test_byte_records_print_as_cloudstack_names_them() -> None:
    items = records(statistics_scenario())
    sent = next(i for i in items if i["usagetype"] == NETWORK_BYTES_SENT)
    written = next(i for i in items if i["usagetype"] == VM_DISK_BYTES_WRITE)
    assert sent["usageid"] == str(ROUTER)
    assert sent["networkid"] == str(NETWORK)
    assert sent["type"] == "DomainRouter"
    assert sent["usage"] == sent["rawusage"] == "3500"
    assert written["usageid"] == str(APP_ROOT)
    assert written["virtualmachineid"] == str(APP)
    assert {4, 5, 21, 22, 23, 24} <= PRODUCED


def test_a_reading_counts_in_the_period_of_its_reading_time_not_of_its_recording() -> None:
    # The disks' evening reading of the 11th is recorded the next morning: it still counts
    # on the 11th, the day it was read.
    late = [
        replace(e, timestamp=berlin("2026-01-12 05:00"))
        if isinstance(e, DiskStatistics.Read) and e.read_at_ms == to_ms(berlin("2026-01-11 20:00"))
        else e
        for e in statistics_scenario()
    ]
    assert observed_bytes(records(sorted(late, key=lambda e: e.timestamp))) == BYTES_EXPECTED
