"""The hand-off of committed notifications: only a gap-free run after a reader's position."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.persistence import Notification

from stratus.handoff import Handoff


def _notes(*ids: int) -> list[Notification]:
    return [
        Notification(id=i, originator_id=uuid4(), originator_version=1, topic="t", state=b"")
        for i in ids
    ]


def test_a_run_is_taken_in_order_without_gaps_and_bounded() -> None:
    handoff = Handoff()
    handoff.offer(_notes(13))  # a commit that finished before an earlier one called back
    handoff.offer(_notes(11, 12))
    assert [n.id for n in handoff.take(10, limit=500)] == [11, 12, 13]
    assert [n.id for n in handoff.take(10, limit=2)] == [11, 12]


def test_a_gap_means_nothing_is_taken_and_passed_ones_are_forgotten() -> None:
    handoff = Handoff()
    handoff.offer(_notes(5, 6, 8))
    assert handoff.take(4, limit=10) != [] and handoff.take(6, limit=10) == []  # 7 is missing
    handoff.offer(_notes(7))
    assert [n.id for n in handoff.take(6, limit=10)] == [7, 8]
    assert handoff.take(8, limit=10) == [] and handoff.take(4, limit=10) == []


def test_a_reader_that_stops_taking_cannot_make_it_grow() -> None:
    handoff = Handoff(capacity=4)
    handoff.offer(_notes(1, 2, 3))
    handoff.offer(_notes(4, 5))  # over capacity: what was kept is dropped (and read instead)
    assert handoff.take(0, limit=10) == []
    assert [n.id for n in handoff.take(3, limit=10)] == [4, 5]
