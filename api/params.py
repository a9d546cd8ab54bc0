"""Declarative CloudStack parameter specs and the validation run on them before any command.

`parse()` turns the raw request strings into typed values or raises an InvalidParameter (431)
with CloudStack's wording; `paging()` applies the list conventions (page, pagesize).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any
from urllib.parse import unquote_to_bytes

from api.errors import BadRequestParameter
from domain.errors import InvalidParameter, NotFound

DEFAULT_PAGE_SIZE = 500  # CloudStack's default.page.size
UNLIMITED = -1  # pagesize meaning "every row"
SHOWN_VALUE_LIMIT = 64  # echo at most this much of a rejected value back to the client


class ParamType(Enum):
    """CloudStack's CommandType values that Stratus accepts."""

    UUID = "uuid"
    STRING = "string"
    INTEGER = "integer"
    LONG = "long"
    SHORT = "short"
    BOOLEAN = "boolean"
    DATE = "date"
    TZDATE = "tzdate"
    LIST = "list"
    MAP = "map"


_INT_BOUNDS = {
    ParamType.SHORT: (-(2**15), 2**15 - 1),
    ParamType.INTEGER: (-(2**31), 2**31 - 1),
    ParamType.LONG: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class Param:
    """One parameter of a command, as CloudStack's @Parameter annotation declares it."""

    name: str
    type: ParamType
    required: bool = False
    max_length: int | None = 255  # STRING values, list elements and map values; None = no limit
    min_value: int | None = None
    max_value: int | None = None
    element: ParamType | None = None  # the element type of a LIST
    allow_time: bool = False  # a DATE may also be `yyyy-MM-dd HH:mm:ss` (events, alerts)
    minus_one: bool = False  # a UUID may also be 4.3's `-1`, "every one" (`projectid=-1`)
    default: Any = None
    # Departures from the 4.3 reference, each with its reason (checked by the catalogue test):
    extension: str = ""  # why the parameter is not 4.3's, or why its required flag differs
    # The feature not built yet: the parameter is refused when given, unless with its default
    # (which asks for nothing unbuilt, as `fordisplay=true` where everything is displayed).
    unsupported: str = ""

    def __post_init__(self) -> None:
        if (self.type is ParamType.LIST) != (self.element is not None):
            raise ValueError(f"{self.name}: `element` is required for LIST and only for LIST")
        if self.element in (ParamType.LIST, ParamType.MAP):
            raise ValueError(f"{self.name}: a LIST holds scalar elements")


def describe_param(spec: Param) -> str:
    """What listApis and the command reference say of a parameter beyond its name and type."""
    if spec.unsupported:
        return f"Not supported yet: {spec.unsupported}"
    if spec.extension:
        return f"Stratus extension: {spec.extension}"
    if spec.type is ParamType.LIST:
        return f"a comma-separated list of {spec.element.value if spec.element else 'values'}"
    if spec.type is ParamType.MAP:
        return f"a map, sent as {spec.name}[0].key=value"
    return ""


@dataclass(frozen=True)
class Paging:
    """Which rows of a list to return; `limit` None means all of them."""

    offset: int
    limit: int | None


def first_values(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """One value per name, the first one sent, as CloudStack reads repeated parameters.

    (Starlette's multi-dicts answer `[name]` with the last value, so pass `.multi_items()`.)
    """
    values: dict[str, str] = {}
    for name, value in items:
        values.setdefault(name, value)
    return values


def parse(
    specs: Iterable[Param], raw: Mapping[str, str], *, command: str | None = None
) -> dict[str, Any]:
    """Typed values for every spec (its default when absent); unknown parameters are ignored.

    Raises InvalidParameter (or its subclass BadRequestParameter) and nothing else, whatever
    the input. The command name for messages comes from `command` or the `command` parameter.
    """
    cmd = shown((command or raw.get("command") or "").lower())
    raw = _names_in_lower_case(raw)
    values: dict[str, Any] = {}
    for spec in specs:
        value = _value(spec, raw, cmd)
        if spec.unsupported and value is not None and value != spec.default:
            raise InvalidParameter(f"Parameter {spec.name} is not supported: {spec.unsupported}")
        if value is None:
            if spec.required:
                raise BadRequestParameter(
                    f"Unable to execute API command {cmd} due to missing parameter {spec.name}"
                )
            value = spec.default
        values[spec.name] = value
    return values


# What every request carries beside its command's parameters (the signing's `apiKey` above
# all): never taken for a parameter of the same name in lower case (getUser's `apikey`).
REQUEST_NAMES = frozenset(
    {"apikey", "signature", "signatureversion", "expires", "command", "response", "sessionkey"}
)


def _names_in_lower_case(raw: Mapping[str, str]) -> Mapping[str, str]:
    """`raw` with each name that has capitals also under its lower-case spelling, unless that
    spelling was given too (it wins). Some clients spell names in camel case (`diskOfferingId`,
    `zoneId`) where 4.3 declares them in lower case; the signature is over the lower-cased
    query anyway, so the name means the same either way."""
    folded = {
        name.lower(): value
        for name, value in raw.items()
        if not name.islower()
        and "[" not in name
        and name.lower() not in raw
        and name.lower() not in REQUEST_NAMES
    }
    return {**raw, **folded} if folded else raw


def _value(spec: Param, raw: Mapping[str, str], cmd: str) -> Any:
    """The typed value of `spec` in `raw`, or None when it was not given."""
    if spec.type is ParamType.MAP:
        return _map_groups(spec, raw) or None
    text = _present(spec, raw.get(spec.name))
    return None if text is None else _convert(spec, spec.type, text, cmd)


def _present(spec: Param, value: str | None) -> str | None:
    """The raw value, or None when it counts as not given.

    An empty value means "not given" for every type but an optional STRING, where it is a real
    value (clearing a description, say); clients send `name=` for unset fields.
    """
    if value is None or value != "":
        return value
    if spec.type is ParamType.STRING and not spec.required:
        return value
    return None


def _convert(spec: Param, kind: ParamType, text: str, cmd: str) -> Any:
    _check_characters(spec.name, text)
    if kind is ParamType.UUID:
        return text if spec.minus_one and text == "-1" else _uuid(spec.name, text)
    if kind is ParamType.STRING:
        _check_length(spec, text)
        return text
    if kind in _INT_BOUNDS:
        return _bounded(spec, _integer(spec, kind, text, cmd))
    if kind is ParamType.BOOLEAN:
        return _boolean(spec.name, text, cmd)
    if kind is ParamType.DATE:
        return _date(spec, text, cmd)
    if kind is ParamType.TZDATE:
        return _tzdate(spec.name, text, cmd)
    assert spec.element is not None  # LIST, guaranteed by Param.__post_init__
    return [_convert(spec, spec.element, item, cmd) for item in _split(text)]


def _split(text: str) -> list[str]:
    # Empty items are skipped as CloudStack's StringTokenizer does; blanks around commas are
    # trimmed because people type `ids=a, b`.
    return [item.strip() for item in text.split(",") if item.strip()]


def shown(value: str) -> str:
    """`value` fit to echo in an error text: bounded, and always encodable as UTF-8."""
    if len(value) > SHOWN_VALUE_LIMIT:
        value = value[:SHOWN_VALUE_LIMIT] + "..."
    return value.encode("utf-8", "replace").decode("utf-8")


# Control characters (C0, DEL and C1, ESC among them) are refused in every parameter: stored in
# a name they rewrite a terminal or a log line when shown. Free text may hold line breaks and
# tabs, which mean something there; `userdata` is Base64, whose readers skip them.
# PEM texts (uploadSslCert's certificate, key and chain) are lines too.
FREE_TEXT = frozenset(
    {"description", "displaytext", "userdata", "certificate", "privatekey", "certchain"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _check_characters(name: str, text: str) -> None:
    # Lone surrogates pass HTTP parsing but no database or JSON encoder accepts them.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameter(f"Parameter {name} is not valid UTF-8 text") from None
    found = (_CONTROL_BUT_LAYOUT if name in FREE_TEXT else _CONTROL).search(text)
    if found is not None:
        raise BadRequestParameter(
            f"Invalid parameter {name}: it holds the control character U+{ord(found.group()):04X}"
        )


def decode_form(data: bytes) -> list[tuple[str, str]]:
    """URL-encoded `name=value&...` as text pairs, refusing bytes that are not UTF-8.

    Decoders commonly put U+FFFD in place of such bytes, which would store a name other than
    the one sent; the refusal names the parameter instead.
    """
    pairs = []
    for field in data.split(b"&"):
        if not field:
            continue
        name, _, value = field.partition(b"=")
        name_text = _form_text(name, None)
        pairs.append((name_text, _form_text(value, name_text)))
    return pairs


def _form_text(part: bytes, name: str | None) -> str:
    raw = unquote_to_bytes(part.replace(b"+", b" "))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        shown_name = name if name is not None else shown(raw.decode("utf-8", "replace"))
        raise BadRequestParameter(f"Parameter {shown_name} is not valid UTF-8 text") from None


def _check_length(spec: Param, text: str) -> None:
    if spec.max_length is not None and len(text) > spec.max_length:
        raise InvalidParameter(
            f"Value of parameter {spec.name} is longer than the {spec.max_length} "
            "characters allowed"
        )


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def invalid_uuid_text(name: str, value: str) -> str:
    """CloudStack's text for an id that is malformed or names nothing."""
    return (
        f"Invalid parameter {name} value={shown(value)} due to incorrect long value format, "
        "or entity does not exist or due to incorrect parameter annotation for the field in "
        "api cmd class."
    )


def not_found(name: str, value: str) -> NotFound:
    """The error for a well-formed id that names nothing, worded as CloudStack words it."""
    return NotFound(invalid_uuid_text(name, value), resource_ids=(value,))


def _uuid(name: str, text: str) -> str:
    # Only the canonical 8-4-4-4-12 form; uuid.UUID alone would also take braces and urn: forms.
    if not _UUID.fullmatch(text):
        raise InvalidParameter(invalid_uuid_text(name, text))
    return str(uuid.UUID(text))


def _invalid_value(name: str, text: str, cmd: str, expected: str) -> BadRequestParameter:
    return BadRequestParameter(
        f"Unable to execute API command {cmd} due to invalid value {shown(text)} "
        f"for parameter {name}: expected {expected}"
    )


_INTEGER = re.compile(r"[+-]?[0-9]+")


def _integer(spec: Param, kind: ParamType, text: str, cmd: str) -> int:
    low, high = _INT_BOUNDS[kind]
    expected = f"{kind.value} between {low} and {high}"
    # Check the shape before int(): int() also takes spaces, underscores and non-ASCII digits,
    # and refuses (with a different error) strings of more than 4300 digits.
    if not _INTEGER.fullmatch(text) or len(text.lstrip("+-").lstrip("0")) > 19:
        raise _invalid_value(spec.name, text, cmd, expected)
    number = int(text)
    if not low <= number <= high:
        raise _invalid_value(spec.name, text, cmd, expected)
    return number


def _bounded(spec: Param, number: int) -> int:
    too_low = spec.min_value is not None and number < spec.min_value
    too_high = spec.max_value is not None and number > spec.max_value
    if too_low or too_high:
        low = "" if spec.min_value is None else f" at least {spec.min_value}"
        high = "" if spec.max_value is None else f" at most {spec.max_value}"
        joint = " and" if low and high else ""
        raise InvalidParameter(f"Parameter {spec.name} must be{low}{joint}{high}")
    return number


def _boolean(name: str, text: str, cmd: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise _invalid_value(name, text, cmd, "true or false")
    return lowered == "true"


_DAY = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
_CLOCK = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_DATE = re.compile(_DAY + r"(?: " + _CLOCK + r")?")
_TZDATE = re.compile(_DAY + "T" + _CLOCK + r"(Z|[+-][0-9]{2}:?[0-9]{2})")


def _date(spec: Param, text: str, cmd: str) -> date:
    """A `yyyy-MM-dd` date, or a naive datetime when a time is given and allowed.

    Where no time is allowed CloudStack's parser ignores a trailing time, and so do we.
    """
    expected = "yyyy-MM-dd" + (" or yyyy-MM-dd HH:mm:ss" if spec.allow_time else "")
    match = _DATE.fullmatch(text)
    if match is None:
        raise _invalid_value(spec.name, text, cmd, expected)
    fields = [int(part) for part in match.groups() if part is not None]
    try:
        if spec.allow_time and len(fields) == 6:
            return datetime(*fields)
        return date(*fields[:3])
    except ValueError:
        raise _invalid_value(spec.name, text, cmd, expected) from None


def parse_tz_datetime(text: str) -> datetime:
    """A `yyyy-MM-dd'T'HH:mm:ssZ` timestamp (also `+HH:MM` and `Z` offsets) as an aware datetime.

    Raises ValueError when `text` is not one.
    """
    match = _TZDATE.fullmatch(text)
    if match is None:
        raise ValueError("not a yyyy-MM-dd'T'HH:mm:ssZ timestamp")
    offset = match.group(7)
    zone = UTC
    if offset != "Z":
        hours, minutes = int(offset[1:3]), int(offset[-2:])
        if minutes >= 60:
            raise ValueError("offset minutes out of range")
        delta = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-delta if offset[0] == "-" else delta)  # ValueError beyond 24 h
    return datetime(*(int(part) for part in match.groups()[:6]), tzinfo=zone)


def _tzdate(name: str, text: str, cmd: str) -> datetime:
    try:
        return parse_tz_datetime(text)
    except ValueError:
        raise _invalid_value(name, text, cmd, "yyyy-MM-dd'T'HH:mm:ssZ") from None


def _map_groups(spec: Param, raw: Mapping[str, str]) -> list[dict[str, str]]:
    """`name[i].key=value` parameters as one dict per index, in index order.

    The raw keys of each group are kept (`key`/`value` pairs or `cpuNumber`-style names alike);
    what they mean is the command's business. The name itself matches in any case: clients send
    CloudStack's camel-case spellings (`serviceProviderList`) of the names 4.3 lists in lower case.
    """
    prefix = spec.name.lower() + "["
    shape = re.compile(re.escape(prefix) + r"([0-9]{1,9})\]\.(.+)", re.DOTALL)
    groups: dict[int, dict[str, str]] = {}
    for key, value in raw.items():
        if not key.lower().startswith(prefix):
            continue
        match = shape.fullmatch(prefix + key[len(prefix) :])
        if match is None:
            raise BadRequestParameter(
                f"Unable to decode parameter {shown(key)}; a map parameter is sent as "
                f"{spec.name}[<number>].<key>=<value>"
            )
        _check_characters(spec.name, match.group(2))
        _check_characters(spec.name, value)
        _check_length(spec, value)
        groups.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [groups[index] for index in sorted(groups)]


LIST_PARAMS = (
    Param("keyword", ParamType.STRING),
    Param("page", ParamType.INTEGER),
    Param("pagesize", ParamType.INTEGER),
)


def paging(
    raw: Mapping[str, str],
    *,
    default_page_size: int = DEFAULT_PAGE_SIZE,
    command: str | None = None,
) -> Paging:
    """The page a list command asked for, under CloudStack's page/pagesize rules.

    With neither given the first `default_page_size` rows are returned, as CloudStack does;
    a `default_page_size` of -1 means no cap at all.
    """
    values = parse(LIST_PARAMS[1:], raw, command=command)
    page, size = values["page"], values["pagesize"]
    if page is not None and size is None:
        raise BadRequestParameter('"pagesize" parameter is required when "page" is specified')
    if size == UNLIMITED:
        if page is not None:
            raise InvalidParameter("Can't specify page parameter when pagesize is -1 (Unlimited)")
        return Paging(0, None)
    if size is None:
        return Paging(0, None if default_page_size == UNLIMITED else default_page_size)
    if page is None:
        raise BadRequestParameter('"page" parameter is required when "pagesize" is specified')
    _check_page_size(size, default_page_size)
    if page < 1:
        raise InvalidParameter("Parameter page must be at least 1")
    return Paging(size * (page - 1), size)


def _check_page_size(size: int, default_page_size: int) -> None:
    if size < 1:
        raise InvalidParameter("Parameter pagesize must be at least 1, or -1 for every row")
    if default_page_size != UNLIMITED and size > default_page_size:
        raise InvalidParameter(
            f"Page size can't exceed max allowed page size value: {default_page_size}"
        )
