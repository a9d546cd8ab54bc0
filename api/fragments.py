"""Items kept as rendered JSON with slots: rendered once with markers where the values go that
change without the item (other rows' names, what depends on the caller), then completed per
answer by %-formatting and spliced into the answer as `orjson.Fragment`s."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Iterable
from functools import cached_property, lru_cache
from pathlib import Path
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


class Kept:
    """How one kind of row keeps its JSON: the fill that stores it, and a stamp of the code that
    renders it. Kept text carries the stamp; text another release kept (which may render
    otherwise) is not used, and is kept again by this one."""

    def __init__(self, module: str, fill: Callable[[Any, list[tuple[str, str, int]]], None]):
        self._module, self._fill = module, fill

    @cached_property
    def _stamp(self) -> str:
        digest = hashlib.sha256()
        for name in (self._module, "api.envelope", __name__):
            digest.update(Path(str(sys.modules[name].__file__)).read_bytes())
        return digest.hexdigest()[:12] + ":"

    def text(self, listed: str | None) -> str | None:
        """The kept text, if this code kept it."""
        stamp = self._stamp
        return listed[len(stamp) :] if listed and listed.startswith(stamp) else None

    def keep(
        self, db: Any, rows: Iterable[dict[str, Any]], keepable: Callable[[dict[str, Any]], Any]
    ) -> dict[str, str]:
        """The kept JSON of these full rows (by id), stored for the revision each row was read
        at; a row `keepable` cannot keep has none."""
        kept = {row["id"]: (keepable(row), row["revision"]) for row in rows}
        stored = [(self._stamp + text, key, rev) for key, (text, rev) in kept.items() if text]
        if stored:
            with db.transaction(durable=False) as cursor:
                self._fill(cursor, stored)
        return {key: text for key, (text, _) in kept.items() if text}
