"""API limits: an account's count of requests in the current throttling window."""

from __future__ import annotations

from typing import Any

from api.access import Role
from api.dispatch import ApiCommand, Call
from api.params import Param, ParamType
from api.throttle import reset, window
from domain.errors import NotFound

P = ParamType


def _render(call: Call, account_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT name FROM accounts WHERE id = %s AND removed = 0", (account_id,)
        ).fetchone()
    if row is None:
        raise NotFound(f"Unable to find account by id {account_id}", resource_ids=(account_id,))
    counted = window(call.runtime.db, account_id)
    return {
        "account": row["name"],
        "accountid": account_id,
        "apiIssued": counted.issued,
        "apiAllowed": counted.allowed,
        "expireAfter": counted.expires_in_ms,
    }


def get_api_limit(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return _render(call, call.caller.account_id)


def reset_api_limit(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    account_id = None if args["account"] is None else str(args["account"])
    if account_id is not None:
        _render(call, account_id)  # an unknown account is refused before anything is reset
    reset(call.runtime.db, account_id)
    return _render(call, account_id or call.caller.account_id)


COMMANDS = (
    ApiCommand(
        "getApiLimit",
        get_api_limit,
        (),
        item_key="apilimit",
        description="Get API limit count for the caller",
    ),
    ApiCommand(
        "resetApiLimit",
        reset_api_limit,
        (Param("account", P.UUID),),
        role=Role.ROOT_ADMIN,
        item_key="apilimit",
        description="Reset api count",
    ),
)
