"""Usage: listUsageRecords (the stored records), generateUsageRecords, removeRawUsageRecords,
listUsageTypes.

Records are made by the billing run (billing/billing.py) as periods end and stored in
`usage_records`; listing reads that table. generateUsageRecords runs billing now, up to the
end of the day given (never past the clock): records already made are never made again.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from api.access import Role, check_reach
from api.cloudstack.common import account_row, domain_row
from api.cloudstack.usage_records import record_fields
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from billing.billing import BillingRun, store_alert
from domain.configuration import DEFINITIONS
from domain.errors import InvalidParameter
from domain.usage import USAGE_TYPES
from domain.usage_periods import to_ms
from domain.usage_settings import TIMEZONE
from projections.configuration import global_value
from projections.usage import RecordQuery, attrs_from, find_records

P = ParamType
DA, RA = Role.DOMAIN_ADMIN, Role.ROOT_ADMIN


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


def _zone(call: Call) -> ZoneInfo:
    with call.read() as cursor:
        return ZoneInfo(global_value(cursor, TIMEZONE, DEFINITIONS[TIMEZONE].default))


def _days(call: Call, args: dict[str, Any]) -> tuple[int, int]:
    """The dates widened to whole days in the usage zone: [first 00:00, last 23:59:59.999]."""
    first, last = args["startdate"], args["enddate"]
    if first > last:
        raise InvalidParameter(
            f"Incorrect Date Range. Start date: {first} is after end date: {last}"
        )
    zone = _zone(call)
    return _midnight(first, zone), _midnight(last + timedelta(days=1), zone) - 1


def _midnight(day: date, zone: ZoneInfo) -> int:
    return to_ms(datetime.combine(day, time(), tzinfo=zone))


def list_usage_records(call: Call, args: dict[str, Any]) -> Listing:
    first, last = _days(call, args)
    account_id, path, subtree = _owner_filter(call, args)
    paging = args["paging"]
    query = RecordQuery(
        first, last, args["type"], account_id, path, subtree, paging.offset, paging.limit
    )
    with call.read() as cursor:
        rows, total = find_records(cursor, query)
    return Listing([_item(row) for row in rows], total)


def _item(row: dict[str, Any]) -> dict[str, Any]:
    head = (
        int(row["usage_type"]),
        row["usage_id"],
        row["sub"],
        row["account_id"],
        row["domain_id"],
        row["zone_id"],
        row["name"],
        attrs_from(row["attrs"]),
    )
    labels = {
        row["account_id"]: (row["account_name"] or "", ""),
        row["domain_id"]: (row["domain_name"] or "", ""),
    }
    period = (int(row["start_ms"]), int(row["end_ms"]), row["timezone"])
    return record_fields(period, head, int(row["quantity"]), labels)


def billing(call: Call) -> BillingRun:
    """The billing run this process drives, or one made for this call."""
    if call.services.billing is not None:
        return call.services.billing
    return BillingRun(call.runtime.db, alert=store_alert(call.store))


def generate_usage_records(call: Call, args: dict[str, Any]) -> None:
    _, last = _days(call, args)
    if args["domainid"] is not None:
        domain_row(call, str(args["domainid"]))
    billing(call).run_once(until=datetime.fromtimestamp((last + 1) / 1000, ZoneInfo("UTC")))


def remove_raw_usage_records(call: Call, args: dict[str, Any]) -> None:
    if args["interval"] <= 0:
        raise InvalidParameter("Interval should be greater than 0")
    billing(call).remove_raw(args["interval"])


def list_usage_types(call: Call, args: dict[str, Any]) -> Listing:
    items = [{"usagetypeid": kind, "description": text} for kind, text in USAGE_TYPES]
    return Listing(items, len(items))


ADMIN_USAGE = "org.apache.cloudstack.api.command.admin.usage"

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
        java_class=f"{ADMIN_USAGE}.GetUsageRecordsCmd",
    ),
    ApiCommand(
        "generateUsageRecords",
        generate_usage_records,
        (
            Param("startdate", P.DATE, required=True),
            Param("enddate", P.DATE, required=True),
            Param("domainid", P.UUID),
        ),
        role=RA,
        shape="success",
        description="Closes every usage period that has ended, up to the end of enddate",
        java_class=f"{ADMIN_USAGE}.GenerateUsageRecordsCmd",
    ),
    ApiCommand(
        "removeRawUsageRecords",
        remove_raw_usage_records,
        (Param("interval", P.INTEGER, required=True),),
        role=RA,
        shape="success",
        description="Prunes raw usage older than interval days that no open period needs",
        extension="prunes raw usage records, as CloudStack 4.4 does",
        java_class=f"{ADMIN_USAGE}.RemoveRawUsageRecordsCmd",
    ),
    ApiCommand(
        "listUsageTypes",
        list_usage_types,
        role=DA,
        role_extension="domain admins list their domain's usage records and read the types' names",
        shape="list",
        paged=False,
        item_key="usagetype",
        description="List Usage Types",
        java_class=f"{ADMIN_USAGE}.ListUsageTypesCmd",
    ),
)
