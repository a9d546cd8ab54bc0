"""4.3's display flag as its users meet it: what a root administrator hid is left out of its
owner's list, listed to the administrator who asks for hidden ones, and the flag is refused to
anyone else (531)."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException


def refused_flag(call: Any, **params: Any) -> None:
    """A display flag from anyone but a root administrator is refused, as 4.3 refuses it."""
    with pytest.raises(CloudStackApiException) as error:
        call(**params)
    assert error.value.error["errorcode"] == 531, error.value.error
    assert "can only be specified by a Root Admin" in error.value.error["errortext"]


def listed_ids(client: CloudStack, command: str, key: str, **filters: Any) -> list[str]:
    return [item["id"] for item in getattr(client, command)(**filters).get(key, [])]


def assert_hidden(
    admin: CloudStack,
    owner: CloudStack,
    command: str,
    key: str,
    resource_id: str,
    flag: str = "fordisplay",
    **filters: Any,
) -> None:
    """The resource is hidden: its owner's list leaves it out (and may not filter by the flag);
    a root administrator lists it with the flag false, answered false, and not with it true."""
    assert resource_id not in listed_ids(owner, command, key, **filters)
    refused_flag(getattr(owner, command), **{flag: "false"}, **filters)
    every = {"listall": "true", **filters}
    hidden = getattr(admin, command)(**every, **{flag: "false"}).get(key, [])
    assert [item[flag] for item in hidden if item["id"] == resource_id] == [False]
    assert resource_id not in listed_ids(admin, command, key, **every, **{flag: "true"})


def assert_shown(
    owner: CloudStack,
    command: str,
    key: str,
    resource_id: str,
    flag: str = "fordisplay",
    **filters: Any,
) -> None:
    """The resource is in its owner's list, answered as shown."""
    found = getattr(owner, command)(**filters).get(key, [])
    assert [item[flag] for item in found if item["id"] == resource_id] == [True]
