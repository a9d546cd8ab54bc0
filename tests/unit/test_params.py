"""Parameter specs: typed parsing, CloudStack's error texts, list paging, and the guarantee that
no input makes parse() raise anything but InvalidParameter."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.errors import BadRequestParameter, error_body
from api.params import (
    LIST_PARAMS,
    Paging,
    Param,
    ParamType,
    first_values,
    not_found,
    paging,
    parse,
)
from domain.errors import InvalidParameter, NotFound

T = ParamType
ZONE = "1B8CC2F4-7A47-4A1B-8F0C-64B4D8B3C0A1"


def one(spec: Param, value: str, **extra: str):
    """Parse a single parameter of a listHosts request."""
    return parse([spec], {"command": "listHosts", spec.name: value, **extra})[spec.name]


def rejected(spec: Param, value: str) -> InvalidParameter:
    with pytest.raises(InvalidParameter) as caught:
        one(spec, value)
    return caught.value


# --- presence ------------------------------------------------------------------------------


def test_missing_required_parameter_is_reported_with_cloudstacks_text():
    with pytest.raises(BadRequestParameter) as caught:
        parse([Param("zoneid", T.UUID, required=True)], {"command": "listHosts"})
    assert caught.value.message == (
        "Unable to execute API command listhosts due to missing parameter zoneid"
    )


def test_missing_required_parameter_answers_431():
    with pytest.raises(InvalidParameter) as caught:
        parse([Param("name", T.STRING, required=True)], {"command": "createZone"})
    status, body = error_body("createZone", caught.value)
    assert status == 431
    assert body["createzoneresponse"]["errorcode"] == 431


def test_absent_optional_parameters_take_their_default():
    specs = [Param("listall", T.BOOLEAN, default=False), Param("name", T.STRING)]
    assert parse(specs, {}) == {"listall": False, "name": None}


def test_unknown_parameters_are_ignored():
    assert parse([Param("name", T.STRING)], {"name": "a", "bogus": "\x00" * 10}) == {"name": "a"}


def test_a_name_spelled_in_camel_case_means_the_declared_lower_case_name():
    specs = [Param("diskofferingid", T.UUID), Param("zoneid", T.UUID)]
    given = {"diskOfferingId": ZONE, "zoneId": ZONE.lower()}
    assert parse(specs, given) == {"diskofferingid": ZONE.lower(), "zoneid": ZONE.lower()}
    both = {"zoneid": ZONE.lower(), "ZONEID": "not-an-id"}
    assert parse([Param("zoneid", T.UUID)], both) == {"zoneid": ZONE.lower()}
    signed = {"apiKey": "the caller's key", "signature": "x"}
    assert parse([Param("apikey", T.STRING)], signed) == {"apikey": None}


def test_empty_value_of_a_typed_parameter_counts_as_not_given():
    assert one(Param("zoneid", T.UUID), "") is None
    with pytest.raises(BadRequestParameter, match="missing parameter zoneid"):
        one(Param("zoneid", T.UUID, required=True), "")


def test_empty_value_of_an_optional_string_is_kept():
    assert one(Param("displaytext", T.STRING), "") == ""


def test_command_name_in_messages_may_be_given_explicitly():
    with pytest.raises(InvalidParameter, match="command deployvirtualmachine due"):
        parse([Param("zoneid", T.UUID, required=True)], {}, command="deployVirtualMachine")


# --- UUID ----------------------------------------------------------------------------------


def test_uuid_is_returned_in_lower_case():
    assert one(Param("zoneid", T.UUID), ZONE) == ZONE.lower()


@pytest.mark.parametrize(
    "value", ["1", "not-a-uuid", "{" + ZONE + "}", ZONE.replace("-", ""), ZONE + " ", "urn:uuid:x"]
)
def test_malformed_uuid_is_reported_with_cloudstacks_text(value):
    error = rejected(Param("zoneid", T.UUID), value)
    assert not isinstance(error, BadRequestParameter)  # InvalidParameterValueException, 4350
    assert error.message == (
        f"Invalid parameter zoneid value={value} due to incorrect long value format, or entity "
        "does not exist or due to incorrect parameter annotation for the field in api cmd class."
    )


def test_huge_rejected_value_is_not_echoed_whole():
    error = rejected(Param("zoneid", T.UUID), "x" * 100_000)
    assert len(error.message) < 400


def test_not_found_uses_the_same_text_and_names_the_id():
    error = not_found("zoneid", ZONE)
    assert isinstance(error, NotFound)
    assert error.message.startswith(f"Invalid parameter zoneid value={ZONE} due to")
    assert error.resource_ids == (ZONE,)


# --- STRING --------------------------------------------------------------------------------


def test_string_longer_than_its_limit_is_rejected():
    assert one(Param("name", T.STRING), "x" * 255) == "x" * 255
    assert "255" in rejected(Param("name", T.STRING), "x" * 256).message


def test_string_without_limit_takes_long_values():
    assert len(one(Param("userdata", T.STRING, max_length=None), "x" * 40_000)) == 40_000


@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_text_no_database_can_store_is_rejected(value):
    assert "name" in rejected(Param("name", T.STRING), value).message


# --- integers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (T.INTEGER, "42", 42),
        (T.INTEGER, "+7", 7),
        (T.INTEGER, "-2147483648", -(2**31)),
        (T.INTEGER, "2147483647", 2**31 - 1),
        (T.INTEGER, "0" * 50 + "1", 1),
        (T.LONG, "9223372036854775807", 2**63 - 1),
        (T.LONG, "-9223372036854775808", -(2**63)),
        (T.SHORT, "-32768", -32768),
    ],
)
def test_integers_within_their_java_range_are_accepted(kind, value, expected):
    assert one(Param("n", kind), value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (T.INTEGER, "2147483648"),
        (T.INTEGER, "-2147483649"),
        (T.LONG, "9223372036854775808"),
        (T.SHORT, "32768"),
        (T.INTEGER, "9" * 5000),
        (T.INTEGER, " 5"),
        (T.INTEGER, "5_000"),
        (T.INTEGER, "٣"),
        (T.INTEGER, "1e3"),
        (T.INTEGER, "0x10"),
        (T.INTEGER, "1.0"),
        (T.INTEGER, "-"),
        (T.INTEGER, "5\n"),
    ],
)
def test_malformed_or_overflowing_integers_are_rejected_naming_the_parameter(kind, value):
    error = rejected(Param("cpunumber", kind), value)
    assert isinstance(error, BadRequestParameter)
    assert "parameter cpunumber" in error.message


def test_integer_outside_its_declared_range_is_rejected():
    spec = Param("cpunumber", T.INTEGER, min_value=1, max_value=64)
    assert one(spec, "64") == 64
    assert rejected(spec, "0").message == "Parameter cpunumber must be at least 1 and at most 64"
    assert "at most 64" in rejected(spec, "65").message


# --- BOOLEAN -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("FALSE", False), ("True", True)])
def test_booleans_are_true_or_false_in_any_case(value, expected):
    assert one(Param("listall", T.BOOLEAN), value) is expected


@pytest.mark.parametrize("value", ["yes", "1", "t", " true", "truex"])
def test_other_boolean_spellings_are_rejected(value):
    assert "parameter listall" in rejected(Param("listall", T.BOOLEAN), value).message


# --- dates ---------------------------------------------------------------------------------


def test_date_is_parsed_as_a_day():
    assert one(Param("startdate", T.DATE), "2014-03-05") == date(2014, 3, 5)


def test_date_with_time_is_parsed_where_a_time_is_allowed():
    spec = Param("startdate", T.DATE, allow_time=True)
    assert one(spec, "2014-03-05 10:11:12") == datetime(2014, 3, 5, 10, 11, 12)
    assert one(spec, "2014-03-05") == date(2014, 3, 5)


def test_time_given_where_only_a_day_is_allowed_is_dropped_as_cloudstack_does():
    assert one(Param("startdate", T.DATE), "2014-03-05 10:11:12") == date(2014, 3, 5)


@pytest.mark.parametrize(
    "value", ["2014-02-30", "2014-3-5", "05/03/2014", "2014-03-05T10:11:12", "2014-03-05 25:00:00"]
)
def test_bad_dates_are_rejected_naming_the_parameter(value):
    error = rejected(Param("startdate", T.DATE, allow_time=True), value)
    assert "parameter startdate" in error.message
    assert "yyyy-MM-dd" in error.message


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("2014-03-05T10:11:12+0000", timedelta(0)),
        ("2014-03-05T10:11:12+00:00", timedelta(0)),
        ("2014-03-05T10:11:12Z", timedelta(0)),
        ("2014-03-05T10:11:12-0530", -timedelta(hours=5, minutes=30)),
    ],
)
def test_tzdate_keeps_its_offset(value, offset):
    parsed = one(Param("startdate", T.TZDATE), value)
    assert parsed == datetime(2014, 3, 5, 10, 11, 12, tzinfo=timezone(offset))


@pytest.mark.parametrize(
    "value", ["2014-03-05T10:11:12", "2014-03-05 10:11:12+0000", "2014-03-05T10:11:12+2400"]
)
def test_tzdate_without_a_valid_offset_is_rejected(value):
    assert "parameter startdate" in rejected(Param("startdate", T.TZDATE), value).message


# --- LIST ----------------------------------------------------------------------------------


def test_list_of_uuids_is_split_on_commas_and_checked_element_by_element():
    other = "2c9d5a4b-1111-4222-8333-944455556666"
    spec = Param("ids", T.LIST, element=T.UUID)
    assert one(spec, f"{ZONE}, {other},") == [ZONE.lower(), other]
    assert "value=nope" in rejected(spec, f"{ZONE},nope").message


def test_list_of_integers_applies_the_declared_range_to_each_element():
    spec = Param("sizes", T.LIST, element=T.INTEGER, min_value=1)
    assert one(spec, "1,2,3") == [1, 2, 3]
    rejected(spec, "1,0")


def test_list_spec_needs_an_element_type():
    with pytest.raises(ValueError):
        Param("ids", T.LIST)
    with pytest.raises(ValueError):
        Param("ids", T.LIST, element=T.MAP)


# --- MAP -----------------------------------------------------------------------------------


def test_map_groups_come_in_numeric_index_order_with_their_raw_keys():
    raw = {
        "details[10].key": "c",
        "details[2].key": "b",
        "details[2].value": "2",
        "details[0].cpuNumber": "4",
        "detailsother": "ignored",
    }
    assert parse([Param("details", T.MAP)], raw)["details"] == [
        {"cpuNumber": "4"},
        {"key": "b", "value": "2"},
        {"key": "c"},
    ]


@pytest.mark.parametrize(
    "key",
    ["details[x].key", "details[0]", "details[0]key", "details[].key", "details[9999999999].a"],
)
def test_malformed_map_parameter_is_rejected(key):
    with pytest.raises(BadRequestParameter, match="details"):
        parse([Param("details", T.MAP)], {key: "v"})


def test_required_map_without_any_group_is_missing():
    with pytest.raises(BadRequestParameter, match="missing parameter details"):
        parse([Param("details", T.MAP, required=True)], {"command": "x"})


def test_map_values_are_held_to_the_length_limit():
    with pytest.raises(InvalidParameter):
        parse([Param("tags", T.MAP, max_length=10)], {"tags[0].value": "x" * 11})


# --- first values --------------------------------------------------------------------------


def test_repeated_parameter_counts_with_its_first_value():
    assert first_values([("a", "1"), ("b", "2"), ("a", "3")]) == {"a": "1", "b": "2"}


# --- paging --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, Paging(0, 500)),
        ({"page": "1", "pagesize": "20"}, Paging(0, 20)),
        ({"page": "3", "pagesize": "20"}, Paging(40, 20)),
        ({"pagesize": "-1"}, Paging(0, None)),
        ({"page": "1", "pagesize": "500"}, Paging(0, 500)),
        ({"page": "", "pagesize": ""}, Paging(0, 500)),
    ],
)
def test_paging_follows_cloudstacks_list_rules(raw, expected):
    assert paging(raw) == expected


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ({"page": "1"}, '"pagesize" parameter is required'),
        ({"pagesize": "10"}, '"page" parameter is required'),
        ({"page": "1", "pagesize": "-1"}, "pagesize is -1"),
        ({"page": "1", "pagesize": "501"}, "can't exceed max allowed page size value: 500"),
        ({"page": "0", "pagesize": "10"}, "page must be at least 1"),
        ({"page": "1", "pagesize": "0"}, "pagesize must be at least 1"),
        ({"page": "x", "pagesize": "10"}, "parameter page"),
        ({"page": "1", "pagesize": "99999999999"}, "parameter pagesize"),
    ],
)
def test_paging_violations_answer_431(raw, text):
    with pytest.raises(InvalidParameter, match=text.replace("(", r"\(")) as caught:
        paging(raw)
    assert error_body("listHosts", caught.value)[0] == 431


def test_page_size_cap_comes_from_the_setting():
    assert paging({}, default_page_size=50) == Paging(0, 50)
    assert paging({}, default_page_size=-1) == Paging(0, None)
    assert paging({"page": "2", "pagesize": "5000"}, default_page_size=-1) == Paging(5000, 5000)
    with pytest.raises(InvalidParameter):
        paging({"page": "1", "pagesize": "51"}, default_page_size=50)


def test_list_params_include_keyword():
    assert parse(LIST_PARAMS, {"keyword": "web"})["keyword"] == "web"


# --- no input raises anything but InvalidParameter -----------------------------------------

hostile_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789+-:TZ ,.[]", max_size=40),
    st.integers().map(str),
    st.integers(min_value=0, max_value=12_000).map(lambda n: "9" * n),
    st.sampled_from(["", "\x00", "\ud800", "-1", "true", ZONE, "2014-03-05", "x" * 70_000]),
)

SPECS = (
    [
        Param("p", kind, required=required, element=T.UUID if kind is T.LIST else None)
        for kind in ParamType
        for required in (False, True)
    ]
    + [
        Param("p", T.LIST, element=element)
        for element in ParamType
        if element not in (T.LIST, T.MAP)
    ]
    + [Param("p", T.DATE, allow_time=True), Param("p", T.INTEGER, min_value=0, max_value=10)]
)


@settings(deadline=None, max_examples=300)
@given(st.sampled_from(SPECS), hostile_text, hostile_text)
def test_parse_raises_only_invalid_parameter(spec, value, command):
    raw = {"command": command, "p": value, f"p[0].{value}": value, f"p[{value}]": value}
    with contextlib.suppress(InvalidParameter):
        parse([spec], raw)


@settings(deadline=None)
@given(st.dictionaries(hostile_text, hostile_text, max_size=6), st.integers(-1, 10**6))
def test_paging_raises_only_invalid_parameter(raw, default_page_size):
    with contextlib.suppress(InvalidParameter):
        paging(raw, default_page_size=default_page_size)


# From year 1000: strftime pads no earlier year on glibc, so clients cannot send one anyway.
@given(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
def test_tzdate_round_trips_what_clients_send(moment):
    moment = moment.replace(microsecond=0)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S%z")
    assert one(Param("startdate", T.TZDATE), text) == moment


def test_a_parameter_of_an_unbuilt_feature_is_refused_naming_the_feature() -> None:
    keypair = Param("keypair", T.STRING, unsupported="SSH key pairs are not built yet")
    error = rejected(keypair, "mine")
    assert str(error) == "Parameter keypair is not supported: SSH key pairs are not built yet"
    status, body = error_body("deployVirtualMachine", error)
    assert (status, body["deployvirtualmachineresponse"]["cserrorcode"]) == (431, 4350)
    assert parse([keypair], {"command": "deployVirtualMachine"}) == {"keypair": None}


def test_an_unbuilt_parameter_given_its_default_asks_for_nothing_and_passes() -> None:
    shown = Param("fordisplay", T.BOOLEAN, default=True, unsupported="hiding is not built yet")
    assert one(shown, "true") is True
    assert "hiding is not built yet" in str(rejected(shown, "false"))


def test_a_map_parameter_is_found_whatever_the_case_of_its_name() -> None:
    providers = Param("serviceproviderlist", T.MAP)
    raw = {
        "command": "createNetworkOffering",
        "serviceProviderList[0].service": "Dns",
        "serviceProviderList[0].provider": "VirtualRouter",
    }
    assert parse([providers], raw)["serviceproviderlist"] == [
        {"service": "Dns", "provider": "VirtualRouter"}
    ]
