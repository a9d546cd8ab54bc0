"""Pages of long lists read in index order: where a page sits in the index, and whether a
list's filter needs the owners' accounts joined."""

from __future__ import annotations

import re

from api.cloudstack.common import limit_sql
from api.params import Paging

_NEEDS_ACCOUNTS = re.compile(r"\ba\.")


def needs_accounts(where: str) -> bool:
    """Whether a WHERE clause reads the accounts (`a.`): the keys are then read with them."""
    return bool(_NEEDS_ACCOUNTS.search(where))


def window(paging: Paging, count: int) -> tuple[bool, str]:
    """The page's place in the index order: whether to read the keys in reverse, and the LIMIT
    and OFFSET. A page in the back half is counted from the end (the same rows, read in
    reverse): an OFFSET walks every index entry it skips, so the last page of 100,000 rows
    otherwise walks all of them (about 11 ms on PostgreSQL). Like any OFFSET page, it is as of
    its own statement: a row added since the count shifts it by one, as a row removed before a
    page shifts every page after it."""
    offset = int(paging.offset or 0)
    if paging.limit is None or offset <= count // 2 or offset >= count:
        return False, limit_sql(paging)
    size = max(min(int(paging.limit), count - offset), 0)
    return True, f" LIMIT {size} OFFSET {count - offset - size}"


def ordered(columns: tuple[str, ...], paging: Paging, count: int) -> str:
    """`ORDER BY` the index's columns, with the page's window."""
    reverse, limit = window(paging, count)
    direction = " DESC" if reverse else ""
    return " ORDER BY " + ", ".join(column + direction for column in columns) + limit
