"""markDefaultZoneForAccount: the zone an account's users start in (4.3, root admins)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import account_row, domain_row
from api.cloudstack.identity import _account_object
from api.cloudstack.infrastructure import _row as zone_row
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param, ParamType
from commands import change
from domain.account import Account

P = ParamType


def mark_default_zone(call: Call, args: dict[str, Any]) -> Submitted:
    zone = zone_row(call, "zones", str(args["zoneid"]), "zone")
    account = account_row(call, args["account"], domain_row(call, str(args["domainid"]))["id"])
    zone_id = UUID(zone["id"])

    def work() -> dict[str, Any]:
        change(
            call.store,
            Account,
            UUID(account["id"]),
            lambda a: a.mark_default_zone(zone_id),
            what="account",
        )
        return {"object": "account", "id": account["id"]}

    return run_async(
        call,
        instance_type="Account",
        instance_id=UUID(account["id"]),
        event_type="ACCOUNT.MARK.DEFAULT.ZONE",
        description=f"Marking zone {zone['name']} default for account {account['name']}",
        work=work,
    )


COMMANDS = (
    ApiCommand(
        "markDefaultZoneForAccount",
        mark_default_zone,
        (
            Param("account", P.STRING, required=True),
            Param("domainid", P.UUID, required=True),
            Param("zoneid", P.UUID, required=True),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key="account",
        render=_account_object,
        java_class="org.apache.cloudstack.api.command.admin.account.MarkDefaultZoneForAccountCmd",
        description="Marks a default zone for this account",
    ),
)
