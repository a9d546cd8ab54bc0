"""Items kept as rendered JSON with slots: rendered once with markers where the values go that
change without the item (other rows' names, what depends on the caller), then completed per
answer by %-formatting and spliced into the answer as `orjson.Fragment`s."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import orjson

from api.envelope import render

# orjson escapes every control character, so a raw one never occurs in what it writes.
_MARK = "\x1f"
# A value's marker ("\u001fname" in JSON), or a key's (",\"\u001fname\":0"): a slot for a
# whole run of fields, present or not by caller.
_MARKED = re.compile(r',"\\u001f(\w+)":0|"\\u001f(\w+)"')


def marker(name: str) -> str:
    """What a renderer is given in place of the value (or key) of the slot `name`."""
    return _MARK + name


def template(body: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """`body`, rendered with markers, as a %-format text and the names of its slots in order."""
    names: list[str] = []

    def slot(found: re.Match[str]) -> str:
        names.append(found.group(1) or found.group(2))
        return "%s"

    text = render(body).decode().replace("%", "%%")
    return _MARKED.sub(slot, text), tuple(names)


@lru_cache(maxsize=8192)
def quoted(value: str | None) -> str:
    """A value as JSON, as orjson writes it (names repeat from row to row: kept)."""
    return orjson.dumps(value).decode()


def dumped(value: Any) -> str:
    """A nested value as the whole answer's encoding writes it."""
    return render(value).decode()


def keep(
    db: Any,
    rows: Iterable[dict[str, Any]],
    keepable: Callable[[dict[str, Any]], str | None],
    fill: Callable[[Any, list[tuple[str, str, int]]], None],
) -> dict[str, str]:
    """The kept JSON of these full rows (by id), stored by `fill` for the revision each row was
    read at; a row `keepable` cannot keep has none."""
    kept = {row["id"]: (keepable(row), row["revision"]) for row in rows}
    rendered = [(text, row_id, revision) for row_id, (text, revision) in kept.items() if text]
    if rendered:
        with db.transaction(durable=False) as cursor:
            fill(cursor, rendered)
    return {row_id: text for row_id, (text, _) in kept.items() if text}
