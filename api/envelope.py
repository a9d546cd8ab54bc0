"""CloudStack's response shapes: the `<cmd>response` envelope, list/object/success/async bodies,
the two date formats CloudStack prints, and the JSON encoding of a body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

import orjson

# Commands whose response is named after another command (BaseCmd.getCommandName overrides).
RESPONSE_NAME_QUIRKS: Mapping[str, str] = {
    "scalesystemvm": "changeserviceforsystemvm",
    "ldapcreateaccount": "createaccount",
    "importldapusers": "ldapuser",
    "addldapconfiguration": "ldapconfiguration",
}


def response_key(command: str) -> str:
    """The top-level JSON key for `command`: its name lower-cased plus ``response``."""
    name = command.lower()
    return RESPONSE_NAME_QUIRKS.get(name, name) + "response"


def list_response(
    command: str, item_key: str, items: Sequence[Mapping[str, Any]], count: int
) -> dict:
    """A list answer; `count` is the total number of matches, not the length of this page.

    No matches at all is ``{}`` with neither key, as CloudStack writes it (clients rely on
    that); a page past the end keeps the count but has no item key, as CloudStack's serializer
    writes the items only when there are some.
    """
    if not items and not count:
        return {response_key(command): {}}
    body: dict[str, Any] = {"count": count}
    if items:
        body[item_key] = list(items)
    return {response_key(command): body}


def object_response(command: str, item_key: str, obj: Mapping[str, Any]) -> dict:
    """A single object, e.g. ``{"createzoneresponse": {"zone": {...}}}``."""
    return {response_key(command): {item_key: obj}}


def success_response(command: str, displaytext: str | None = None) -> dict:
    """CloudStack's SuccessResponse; `displaytext` only when there is something to say."""
    body: dict[str, Any] = {"success": True}
    if displaytext is not None:
        body["displaytext"] = displaytext
    return {response_key(command): body}


def async_response(command: str, job_id: str, resource_id: str | None = None) -> dict:
    """The immediate answer to an async command; create-style commands also carry the new id."""
    body: dict[str, Any] = {}
    if resource_id is not None:
        body["id"] = resource_id
    body["jobid"] = job_id
    return {response_key(command): body}


def _offset(moment: datetime) -> tuple[str, int, int]:
    """Sign, hours and minutes of `moment`'s UTC offset; seconds are dropped, as Java does
    (historic zone offsets such as +00:09:21 exist)."""
    delta = moment.utcoffset()
    if delta is None:
        raise ValueError("a wire date needs a timezone; naive datetimes are ambiguous")
    seconds = int(delta.total_seconds())
    minutes = abs(seconds) // 60  # truncates towards zero, like Java's int division
    sign = "-" if seconds < 0 and minutes else "+"
    hours, mins = divmod(minutes, 60)
    return sign, hours, mins


def _localised(moment: datetime, tz: tzinfo | None) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError("a wire date needs a timezone; naive datetimes are ambiguous")
    return moment.astimezone(tz) if tz is not None else moment


# Built by hand rather than with strftime, whose %Y does not pad years before 1000 on glibc.
def _day(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


def _clock(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"


def format_date(moment: datetime, tz: tzinfo | None = None) -> str:
    """A date as CloudStack's Gson prints it: ``2014-03-05T10:11:12+0000``.

    Printed in `moment`'s own offset, or converted to `tz` first when given.
    """
    moment = _localised(moment, tz)
    sign, hours, mins = _offset(moment)
    return f"{_day(moment)}T{_clock(moment)}{sign}{hours:02d}{mins:02d}"


def format_usage_date(moment: datetime, tz: tzinfo | None = None) -> str:
    """A usage record date as the usage server writes it: ``2014-03-05'T'00:00:00+00:00``.

    The apostrophes around T are really in the output (a quirk clients parse), and the offset
    has a colon; pass the usage timezone as `tz`.
    """
    moment = _localised(moment, tz)
    sign, hours, mins = _offset(moment)
    return f"{_day(moment)}'T'{_clock(moment)}{sign}{hours:02d}:{mins:02d}"


def _default(value: Any) -> Any:
    # A datetime that reaches the encoder unformatted gets CloudStack's format, not RFC 3339.
    if isinstance(value, datetime):
        return format_date(value)
    raise TypeError(f"cannot encode {type(value).__name__} in a response")


def render(body: Mapping[str, Any]) -> bytes:
    """The body as UTF-8 JSON bytes."""
    return orjson.dumps(body, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def format_stored_date(text: str) -> str:
    """A date stored by a read model (ISO 8601, as events carry it) printed as CloudStack does.

    Read models store UTC; that common case is a slice, which matters on pages of 500 rows.
    """
    if len(text) >= 25 and text.endswith("+00:00") and text[10] == "T":
        return text[:19] + "+0000"
    return format_date(datetime.fromisoformat(text))
