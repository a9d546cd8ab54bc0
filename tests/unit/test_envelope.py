"""Response shapes and dates exactly as CloudStack clients expect them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson
import pytest

from api.envelope import (
    async_response,
    format_date,
    format_usage_date,
    list_response,
    object_response,
    render,
    response_key,
    success_response,
)

MOMENT = datetime(2014, 3, 5, 10, 11, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ("listRouters", "listroutersresponse"),
        ("deployVirtualMachine", "deployvirtualmachineresponse"),
        ("scaleSystemVm", "changeserviceforsystemvmresponse"),
        ("ldapCreateAccount", "createaccountresponse"),
        ("importLdapUsers", "ldapuserresponse"),
        ("addLdapConfiguration", "ldapconfigurationresponse"),
    ],
)
def test_response_key_is_the_lower_cased_command_name(command, key):
    assert response_key(command) == key


def test_empty_list_has_neither_count_nor_item_key():
    assert list_response("listRouters", "router", [], 0) == {"listroutersresponse": {}}


def test_list_count_is_the_total_not_the_page_length():
    body = list_response("listHosts", "host", [{"id": "a"}, {"id": "b"}], 57)
    assert body == {"listhostsresponse": {"count": 57, "host": [{"id": "a"}, {"id": "b"}]}}


def test_page_past_the_end_keeps_the_count_without_items():
    assert list_response("listHosts", "host", [], 57) == {"listhostsresponse": {"count": 57}}


def test_list_accepts_any_sequence_of_items():
    body = list_response("listZones", "zone", ({"id": "z"},), 1)
    assert body["listzonesresponse"]["zone"] == [{"id": "z"}]


def test_single_object_is_wrapped_in_its_item_key():
    assert object_response("createZone", "zone", {"id": "z"}) == {
        "createzoneresponse": {"zone": {"id": "z"}}
    }


def test_success_response():
    assert success_response("generateAlert") == {"generatealertresponse": {"success": True}}
    assert success_response("archiveEvents", "done") == {
        "archiveeventsresponse": {"success": True, "displaytext": "done"}
    }


def test_async_response_carries_the_job_and_for_create_commands_the_new_id():
    assert async_response("stopVirtualMachine", "j1") == {
        "stopvirtualmachineresponse": {"jobid": "j1"}
    }
    assert async_response("deployVirtualMachine", "j1", "vm1") == {
        "deployvirtualmachineresponse": {"id": "vm1", "jobid": "j1"}
    }


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (MOMENT, "2014-03-05T10:11:12+0000"),
        (MOMENT.astimezone(timezone(timedelta(hours=5, minutes=30))), "2014-03-05T15:41:12+0530"),
        (MOMENT.astimezone(timezone(-timedelta(hours=8))), "2014-03-05T02:11:12-0800"),
        (datetime(99, 1, 2, 3, 4, 5, tzinfo=UTC), "0099-01-02T03:04:05+0000"),
        (MOMENT.replace(microsecond=999_999), "2014-03-05T10:11:12+0000"),
    ],
)
def test_dates_are_printed_as_cloudstack_prints_them(moment, text):
    assert format_date(moment) == text


def test_date_can_be_printed_in_a_given_timezone():
    assert format_date(MOMENT, ZoneInfo("America/New_York")) == "2014-03-05T05:11:12-0500"


def test_offset_seconds_are_dropped_as_java_drops_them():
    amsterdam_1900 = datetime(1900, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))  # +00:19:32
    assert format_date(amsterdam_1900).endswith("+0019")


def test_naive_datetime_cannot_be_printed():
    with pytest.raises(ValueError):
        format_date(datetime(2014, 3, 5))
    with pytest.raises(ValueError):
        format_usage_date(datetime(2014, 3, 5))


def test_usage_dates_have_literal_apostrophes_and_a_colon_in_the_offset():
    start = datetime(2014, 3, 5, tzinfo=UTC)
    assert format_usage_date(start) == "2014-03-05'T'00:00:00+00:00"


def test_usage_dates_are_printed_in_the_usage_timezone():
    text = format_usage_date(datetime(2014, 3, 5, tzinfo=UTC), ZoneInfo("Asia/Kolkata"))
    assert text == "2014-03-05'T'05:30:00+05:30"


def test_render_is_utf8_json():
    body = object_response("createDomain", "domain", {"name": "Zürich-東京", "n": 1, "ok": True})
    raw = render(body)
    assert isinstance(raw, bytes)
    assert "Zürich-東京".encode() in raw
    assert orjson.loads(raw) == body


def test_render_prints_stray_datetimes_in_cloudstacks_format():
    raw = render(object_response("listEvents", "event", {"created": MOMENT}))
    assert orjson.loads(raw)["listeventsresponse"]["event"]["created"] == (
        "2014-03-05T10:11:12+0000"
    )


def test_render_refuses_values_it_cannot_print_faithfully():
    with pytest.raises(TypeError):
        render({"x": {"created": datetime(2014, 3, 5)}})
    with pytest.raises(TypeError):
        render({"x": {1, 2}})


def test_stored_dates_print_as_cloudstack_prints_them() -> None:
    from api.envelope import format_stored_date

    assert format_stored_date("2026-11-25T20:59:26.123456+00:00") == "2026-11-25T20:59:26+0000"
    assert format_stored_date("2026-11-25T20:59:26+00:00") == "2026-11-25T20:59:26+0000"
    assert format_stored_date("2026-11-25T22:59:26+02:00") == "2026-11-25T22:59:26+0200"
