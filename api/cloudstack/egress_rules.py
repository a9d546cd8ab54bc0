"""Egress firewall rules (create/delete/listEgressFirewallRules): what the guests of an isolated
network may send out (or, under an offering whose egress default is allow, may not), applied
by the network's router with the rest of its rule set (commands/network_rules.py).

As in 4.3 a rule names the network, not an address; its source CIDRs are guest addresses
(within the network's CIDR, which is the default), its ports and protocol those of the
destination.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any
from uuid import UUID

from api import display
from api.access import check_reach
from api.cloudstack.network_rules import (
    FIREWALL_PARAMS,
    LIST_OWNER,
    delete_rule,
    firewall_object,
    job_spec,
    listed,
    render_firewall,
    submitted,
    write,
)
from api.cloudstack.networks import network_row
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType
from commands import network_rules as cmd
from domain.errors import InvalidParameter
from domain.network_rule_checks import (
    ANY_CIDR,
    Rule,
    RuleKind,
    cidr_list,
    icmp_values,
    port_range,
    protocol,
)

P = ParamType
FIREWALL_PKG = "org.apache.cloudstack.api.command.user.firewall"


def _network(call: Call, network_id: str) -> dict[str, Any]:
    """An isolated network of the caller's reach whose offering has the Firewall service."""
    row = network_row(call, network_id, "networkid")
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"] or "",
        what="the network",
    )
    if row["guest_type"] != "Isolated":
        raise InvalidParameter(
            f"Egress firewall rules are not supported for {row['guest_type']} networks"
        )
    if "Firewall" not in row["services"]:
        raise InvalidParameter(f"The network {row['name']} does not offer the Firewall service")
    return row


def _sources(text: Any, network: dict[str, Any]) -> tuple[str, ...]:
    """Guest CIDRs the rule applies to: within the network's CIDR; none given means it all."""
    if not text:
        return (str(network["cidr"]),)
    guests = ipaddress.IPv4Network(network["cidr"], strict=False)
    cidrs = cidr_list(text)
    for cidr in cidrs:
        if cidr != ANY_CIDR and not ipaddress.IPv4Network(cidr).subnet_of(guests):
            raise InvalidParameter(f"cidr {cidr} is not within the guest cidr {guests}")
    return cidrs


def _ports(proto: str, args: dict[str, Any]) -> tuple[int | None, int | None]:
    if proto in ("icmp", "all"):
        if args["startport"] is not None or args["endport"] is not None:
            raise InvalidParameter(f"Can't specify start/end port when protocol is {proto}")
        return None, None
    if args["startport"] is not None:
        return port_range(args["startport"], args["endport"], "")
    if args["endport"] is not None:
        raise InvalidParameter("Specify startport with endport")
    return None, None


def create_egress_firewall_rule(call: Call, args: dict[str, Any]) -> Submitted:
    network = _network(call, args["networkid"])
    proto = protocol(RuleKind.EGRESS, args["protocol"])
    kind, code = icmp_values(proto, args["icmptype"], args["icmpcode"])
    ports = _ports(proto, args)
    rule = Rule(
        id=uuid.uuid4(),
        kind=RuleKind.EGRESS,
        public_ip_id=None,
        address="",
        account_id=UUID(network["account_id"]),
        domain_id=UUID(network["domain_id"]),
        zone_id=UUID(network["zone_id"]),
        protocol=proto,
        start_port=ports[0],
        end_port=ports[1],
        cidrs=_sources(args["cidrlist"], network),
        icmp_type=kind,
        icmp_code=code,
    )
    spec = job_spec(
        call, call.command.java_class, "NET.FIREWALLEGRESSOPEN", f"Creating egress rule {rule.id}"
    )
    command = cmd.AddEgressRule(UUID(network["id"]), rule, spec)
    display.hide_new(call, args, "FirewallRule", rule.id)
    return submitted(call, write(call, cmd.add_egress_rule, command), creates=True)


def list_egress_firewall_rules(call: Call, args: dict[str, Any]) -> Listing:
    if args.get("ipaddressid"):
        return Listing([], 0)  # egress rules name no address
    rows, count = listed(
        call, args, RuleKind.EGRESS, (("id", "r.id"), ("networkid", "r.network_id"))
    )
    return Listing([render_firewall(r) for r in rows], count)


COMMANDS = (
    ApiCommand(
        "createEgressFirewallRule",
        create_egress_firewall_rule,
        (
            Param("networkid", P.UUID, required=True),
            *FIREWALL_PARAMS,
        ),
        shape="async",
        is_async=True,
        item_key="firewallrule",
        render=firewall_object,
        java_class=f"{FIREWALL_PKG}.CreateEgressFirewallRuleCmd",
        description="Creates a egress firewall rule for a given network",
    ),
    ApiCommand(
        "deleteEgressFirewallRule",
        lambda call, args: delete_rule(call, args, RuleKind.EGRESS, "NET.FIREWALLEGRESSCLOSE"),
        (Param("id", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{FIREWALL_PKG}.DeleteEgressFirewallRuleCmd",
        description="Deletes an egress firewall rule",
    ),
    ApiCommand(
        "listEgressFirewallRules",
        list_egress_firewall_rules,
        LIST_OWNER,
        shape="list",
        item_key="firewallrule",
        java_class=f"{FIREWALL_PKG}.ListEgressFirewallRulesCmd",
        description="Lists all egress firewall rules for network id.",
    ),
)
