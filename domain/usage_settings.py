"""Usage facts that are not usage: the aggregation settings and the names of owners."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.account import Account
from domain.configuration import GLOBAL, Configuration
from domain.domains import Domain
from domain.usage import facts_of
from domain.usage_ledger import Ledger

RANGE = "usage.stats.job.aggregation.range"
TIMEZONE = "usage.aggregation.timezone"

# Event classes made by @event exist only at run time, where mypy cannot see them.
_Configuration: Any = Configuration
_Account: Any = Account
_Domain: Any = Domain


@facts_of(_Configuration.ValueSet)
def setting_changed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    """The period length and zone apply from the instant they are set (see usage_periods)."""
    if e["scope"] == GLOBAL and e["name"] in (RANGE, TIMEZONE):
        ledger.setting(e["name"], e["value"], e["at"])


@facts_of(_Account.Created)
def account_created(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.label(e["originator_id"], e["name"])


@facts_of(_Domain.Created)
def domain_created(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.label(e["originator_id"], e["name"], e["path"])
