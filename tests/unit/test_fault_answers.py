"""How the fault campaign sorts client answers: only the fault's own outage is excused."""

from __future__ import annotations

from tests.support.faults.load import Answer, FaultWindows, classify


def _windows(*spans: tuple[float, float]) -> FaultWindows:
    return FaultWindows(spans=list(spans))


def test_a_dropped_connection_during_the_fault_is_an_outage() -> None:
    answer = Answer("vm-1", sent=10.0, answered=10.5, status=None, text="ConnectError")
    assert classify(answer, _windows((10.2, 12.0))) == "outage"


def test_a_dropped_connection_when_no_fault_is_in_effect_counts_against_the_cloud() -> None:
    answer = Answer("vm-1", sent=20.0, answered=20.5, status=None, text="RemoteProtocolError")
    assert classify(answer, _windows((10.0, 12.0))) == "other"


def test_an_internal_error_counts_against_the_cloud_even_during_the_fault() -> None:
    answer = Answer("vm-1", sent=10.0, answered=10.5, status=530, cs_error_code=9999)
    assert classify(answer, _windows((9.0, 12.0))) == "other"


def test_refusals_and_service_unavailable_are_answers_a_client_can_act_on() -> None:
    no_room = Answer("vm-1", sent=1.0, answered=1.1, status=533, cs_error_code=4325)
    busy = Answer("vm-2", sent=1.0, answered=1.1, status=503)
    assert classify(no_room, _windows()) == "refused"
    assert classify(busy, _windows()) == "outage"
