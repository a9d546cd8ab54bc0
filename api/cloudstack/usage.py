"""Usage: listUsageRecords (replayed from the event log on each call) and listUsageTypes.

Records are computed, not stored: every call replays the log's VM events for the days asked,
so an answer always agrees with `stratus usage replay` over the same log. Only periods that
have ended are charged, as the usage server writes a period after it is over.
"""

from __future__ import annotations

from typing import Any

from api.access import Role, check_reach
from api.cloudstack.common import account_row, domain_row
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from domain.errors import InvalidParameter
from domain.usage import USAGE_TYPES, UsageRecord
from stratus.auditing.source import from_database
from stratus.usage.replay import LogFacts, domain_path, read_log, records_between, render

P = ParamType
DA = Role.DOMAIN_ADMIN


def _owner_filter(call: Call, args: dict[str, Any]) -> tuple[str | None, str | None, bool]:
    """(account id, domain path, whole subtree) that the caller asked for and may see."""
    if args["accountid"] is not None and args["projectid"] is not None:
        raise InvalidParameter("Either accountid or projectid may be specified, not both")
    if args["account"] and not args["domainid"]:
        raise InvalidParameter("Account name must be specified together with domainid")
    if args["domainid"] is not None:
        domain = domain_row(call, str(args["domainid"]))
        check_reach(call.caller, account_id=None, domain_path=domain["path"], what="that domain")
        if args["account"]:
            return str(account_row(call, args["account"], domain["id"])["id"]), None, False
        return None, domain["path"], False
    if args["accountid"] is not None:
        return _account_by_id(call, str(args["accountid"])), None, False
    if call.caller.role == Role.ROOT_ADMIN:
        return None, None, False
    return None, call.caller.domain_path, True


def _account_by_id(call: Call, account_id: str) -> str:
    with call.read() as cursor:
        row = cursor.execute("SELECT * FROM accounts WHERE id = %s", (account_id,)).fetchone()
    if row is None:
        raise InvalidParameter(f"Unable to find account by id {account_id}")
    check_reach(call.caller, account_id=row["id"], domain_path=row["domain_path"], what="account")
    return str(row["id"])


def _wanted(facts: LogFacts, args: dict[str, Any], owner: tuple[Any, ...]) -> Any:
    account_id, path, subtree = owner

    def wanted(record: UsageRecord) -> bool:
        if args["type"] is not None and record.usage_type != args["type"]:
            return False
        if account_id is not None and str(record.vm.account_id) != account_id:
            return False
        if path is None:
            return True
        owner_path = domain_path(facts, record.vm.domain_id)
        return owner_path.startswith(path) if subtree else owner_path == path

    return wanted


def list_usage_records(call: Call, args: dict[str, Any]) -> Listing:
    first, last = args["startdate"], args["enddate"]
    if first > last:
        raise InvalidParameter(
            f"Incorrect Date Range. Start date: {first} is after end date: {last}"
        )
    owner = _owner_filter(call, args)
    facts = read_log(from_database(call.runtime.db))
    wanted = _wanted(facts, args, owner)
    records = [r for r in records_between(facts, first, last, call.now()) if wanted(r)]
    records.sort(key=lambda r: r.period.start, reverse=True)  # stable: ties keep their order
    items = [render(record, facts) for record in records]
    if args["keyword"]:
        items = [item for item in items if args["keyword"] in item["description"]]
    return Listing(_page(items, args["paging"]), len(items))


def _page(items: list[dict[str, Any]], paging: Any) -> list[dict[str, Any]]:
    stop = None if paging.limit is None else paging.offset + paging.limit
    return items[paging.offset : stop]


def list_usage_types(call: Call, args: dict[str, Any]) -> Listing:
    items = [{"usagetypeid": kind, "description": text} for kind, text in USAGE_TYPES]
    return Listing(items, len(items))


COMMANDS = (
    ApiCommand(
        "listUsageRecords",
        list_usage_records,
        (
            Param("startdate", P.DATE, required=True),
            Param("enddate", P.DATE, required=True),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("accountid", P.UUID),
            Param("projectid", P.UUID),
            Param("type", P.LONG),
        ),
        role=DA,
        shape="list",
        item_key="usagerecord",
        description="Lists usage records for accounts",
        java_class="org.apache.cloudstack.api.command.admin.usage.GetUsageRecordsCmd",
    ),
    ApiCommand(
        "listUsageTypes",
        list_usage_types,
        role=DA,
        shape="list",
        item_key="usagetype",
        description="List Usage Types",
        java_class="org.apache.cloudstack.api.command.admin.usage.ListUsageTypesCmd",
    ),
)
