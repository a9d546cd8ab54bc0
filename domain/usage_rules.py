"""Load balancer (11) and port forwarding (12) usage, from network rule events.

A rule is charged to its account from its creation (`RuleAdded`) to its removal
(`RuleRemoved`: deleted and confirmed by the router, failed to apply, or gone with its
network), as CloudStack's usage server counts from LB.CREATE / NET.RULEADD to LB.DELETE /
NET.RULEDELETE. The record's usage id is the rule; firewall and static NAT rules are not
charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.network_rule_checks import RuleKind
from domain.network_rules import NetworkRules
from domain.usage import LOAD_BALANCER_POLICY, PORT_FORWARDING_RULE, facts_of
from domain.usage_ledger import Ledger

_Rules: Any = NetworkRules
USAGE_TYPES = {
    RuleKind.LOAD_BALANCING: LOAD_BALANCER_POLICY,
    RuleKind.PORT_FORWARDING: PORT_FORWARDING_RULE,
}


@facts_of(_Rules.RuleAdded, produces=(LOAD_BALANCER_POLICY, PORT_FORWARDING_RULE))
def rule_added(ledger: Ledger, e: Mapping[str, Any]) -> None:
    rule = e["rule"]
    usage_type = USAGE_TYPES.get(rule["kind"])
    if usage_type is None:
        return
    rule_id = str(rule["id"])
    ledger.remember(
        rule_id,
        account_id=str(rule["account_id"]),
        domain_id=str(rule["domain_id"]),
        zone_id=str(rule["zone_id"]),
    )
    ledger.begin(usage_type, rule_id, e["at"], ())


@facts_of(_Rules.RuleRemoved)
def rule_removed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    usage_type = USAGE_TYPES.get(e["kind"])
    if usage_type is not None:
        ledger.end(usage_type, str(e["rule_id"]), e["at"])
