"""Load balancer rules on public addresses: createLoadBalancerRule, updateLoadBalancerRule,
deleteLoadBalancerRule, listLoadBalancerRules, assignToLoadBalancerRule,
removeFromLoadBalancerRule and listLoadBalancerRuleInstances. Checked at once, applied by the
network's router under a job (see api/cloudstack/network_rules.py)."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address
from typing import Any
from uuid import UUID

from api.cloudstack.common import LIST_PROJECT_AND_TAGS, OWNER_PARAMS
from api.cloudstack.network_rules import (
    SELECT,
    address_for,
    delete_rule,
    job_spec,
    listed,
    opened_firewall,
    rule_base,
    rule_for,
    submitted,
    vpc_tier,
    write,
)
from api.custom_ids import CUSTOM_ID
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.display import FOR_DISPLAY, FOR_DISPLAY_CHANGE, change, hide_new, shown
from api.params import Param, ParamType, not_found
from commands import network_rules as cmd
from domain.errors import InvalidParameter
from domain.network_rule_checks import RuleKind, algorithm, port, protocol
from projections.network_rules import members_of

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.loadbalancer"
LB = RuleKind.LOAD_BALANCING
# Internal load balancers (scheme Internal, api/cloudstack/internal_lb.py) have no public
# address; the public rule commands list only the others.
PUBLIC_SCHEME = "r.public_ip_id <> ''"


def render_balancer(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row.get("description") or row["name"],
        "publicipid": row["public_ip_id"],
        "publicip": row["address"],
        "publicport": str(row["start_port"]),
        "privateport": str(row["private_start"]),
        "algorithm": row["algorithm"],
        "protocol": row["protocol"],
        "networkid": row["network_id"],
        "zoneid": row["zone_id"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "state": row["state"],
        "cidrlist": "",
        "fordisplay": shown(row),
        "tags": [],
    }


def _one(call: Call, rule_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(SELECT + " WHERE r.id = %s", (rule_id,)).fetchone()
    if row is None:
        raise not_found("id", rule_id)
    return render_balancer(dict(row))


def create_load_balancer_rule(call: Call, args: dict[str, Any]) -> Submitted:
    if not args["publicipid"]:
        raise InvalidParameter("Please specify publicipid of the load balancer rule")
    row = address_for(call, args["publicipid"], LB, "publicipid", tier=args["networkid"])
    opened = opened_firewall(row, args)  # 4.3: true unless false, refused on a VPC's address
    if not (args["name"] or "").strip():
        raise InvalidParameter("A load balancer rule needs a name")
    public = port(args["publicport"], "publicport")
    private = port(args["privateport"], "privateport")
    rule = replace(
        rule_base(row, LB, protocol(LB, args["protocol"])),
        name=args["name"].strip(),
        description=args["description"] or "",
        algorithm=algorithm(args["algorithm"]),
        start_port=public,
        end_port=public,
        private_start=private,
        private_end=private,
    )
    spec = job_spec(
        call, call.command.java_class, "LB.CREATE", f"Creating load balancer rule {rule.name}"
    )
    command = cmd.AddRule(rule, spec, network_id=vpc_tier(row, args), open_firewall=opened)
    hide_new(call, args, "LoadBalancer", rule.id)
    return submitted(call, write(call, cmd.add_rule, command), creates=True)


def update_load_balancer_rule(call: Call, args: dict[str, Any]) -> Submitted:
    """A new name, description or algorithm; the router applies the algorithm, and a failure
    puts the old values back (4.3 does the same)."""
    row = rule_for(call, args["id"], LB)
    if not row["public_ip_id"]:
        raise InvalidParameter(
            f"Load balancer {row['name']} balances inside its network (scheme Internal): "
            "only public load balancers are changed here"
        )
    name = args["name"]
    if name is not None and not name.strip():
        raise InvalidParameter("A load balancer rule needs a name")
    chosen = None if args["algorithm"] is None else algorithm(args["algorithm"])
    spec = job_spec(
        call, call.command.java_class, "LB.UPDATE", f"Updating load balancer rule {row['name']}"
    )
    command = cmd.ChangeBalancer(
        UUID(row["network_id"]),
        UUID(row["id"]),
        None if name is None else name.strip(),
        args["description"],
        chosen,
        spec,
    )
    change(call, args, "LoadBalancer", row["id"])
    return submitted(call, write(call, cmd.change_balancer, command), creates=False)


def _vm_id(text: Any, name: str) -> UUID:
    try:
        return UUID(str(text))
    except ValueError:
        raise not_found(name, str(text)) from None


def _vm_ip_map(args: dict[str, Any]) -> tuple[tuple[UUID, str], ...]:
    """`vmidipmap[i].vmid=…&vmidipmap[i].vmip=…`: a VM by one of its addresses."""
    found = []
    for group in args["vmidipmap"] or ():
        vm_text, vm_ip = group.get("vmid"), str(group.get("vmip") or "").strip()
        if not vm_text or not vm_ip:
            raise InvalidParameter("vmidipmap needs vmid and vmip in each entry")
        try:
            ip_address(vm_ip)
        except ValueError:
            raise InvalidParameter(f"Invalid ip address {vm_ip} in vmidipmap") from None
        found.append((_vm_id(vm_text, "vmidipmap"), vm_ip))
    return tuple(dict.fromkeys(found))


def _targets(args: dict[str, Any]) -> tuple[tuple[UUID, ...], tuple[tuple[UUID, str], ...]]:
    """The VMs named alone (by their NIC's own address) and those named with an address;
    a VM in both is there by the addresses the map gives, as 4.3 reads them."""
    pairs = _vm_ip_map(args)
    mapped = {vm_id for vm_id, _ in pairs}
    alone = [_vm_id(text, "virtualmachineids") for text in args["virtualmachineids"] or ()]
    vm_ids = tuple(vm_id for vm_id in dict.fromkeys(alone) if vm_id not in mapped)
    if not vm_ids and not pairs:
        raise InvalidParameter(
            "Please specify the virtual machines (virtualmachineids or vmidipmap)"
        )
    return vm_ids, pairs


def _members(call: Call, args: dict[str, Any], assign: bool) -> Submitted:
    row = rule_for(call, args["id"], LB)
    event_type = "LB.ASSIGN.TO.RULE" if assign else "LB.REMOVE.FROM.RULE"
    verb = "Assigning virtual machines to" if assign else "Removing virtual machines from"
    spec = job_spec(call, call.command.java_class, event_type, f"{verb} {row['name']}")
    internal = "" if row["public_ip_id"] else row["address"]  # its own set, by address
    vm_ids, pairs = _targets(args)
    command = cmd.ChangeMembers(
        UUID(row["network_id"]), UUID(row["id"]), vm_ids, assign, spec, internal, pairs
    )
    return submitted(call, write(call, cmd.change_members, command), creates=False)


def list_load_balancer_rules(call: Call, args: dict[str, Any]) -> Listing:
    filters = (
        ("id", "r.id"),
        ("publicipid", "r.public_ip_id"),
        ("zoneid", "r.zone_id"),
        ("name", "r.name"),
        ("networkid", "r.network_id"),
    )
    rows, count = listed(call, args, LB, filters, PUBLIC_SCHEME)
    if args["virtualmachineid"]:
        with call.read() as cursor:
            members = members_of(cursor, [r["id"] for r in rows])
        wanted = args["virtualmachineid"]
        rows = [r for r in rows if any(m["vm_id"] == wanted for m in members[r["id"]])]
        count = len(rows)
    return Listing([render_balancer(r) for r in rows], count)


def list_instances(call: Call, args: dict[str, Any]) -> Listing:
    """The VMs behind the rule: applied ones (default), or those not yet or no longer; with
    `lbvmips` each VM once, with the addresses it is there by (4.3's `lbrulevmidip`)."""
    row = rule_for(call, args["id"], LB)
    with call.read() as cursor:
        members = members_of(cursor, [row["id"]])[row["id"]]
        names = {
            r["id"]: dict(r)
            for r in cursor.execute(
                "SELECT id, name, display_name, state, zone_id FROM virtual_machines "
                "WHERE id IN (SELECT vm_id FROM load_balancer_members WHERE rule_id = %s)",
                (row["id"],),
            ).fetchall()
        }
    applied = args["applied"] is not False
    items: dict[str, dict[str, Any]] = {}
    addresses: dict[str, list[str]] = {}
    for member in members:
        if (member["state"] == "Active") != applied:
            continue
        vm = names.get(member["vm_id"], {})
        addresses.setdefault(member["vm_id"], []).append(member["vm_ip"])
        items.setdefault(
            member["vm_id"],
            {
                "id": member["vm_id"],
                "name": vm.get("name", ""),
                "displayname": vm.get("display_name", ""),
                "state": vm.get("state", ""),
                "zoneid": vm.get("zone_id", ""),
                "ipaddress": member["vm_ip"],
                "account": row["account_name"],
                "domainid": row["domain_id"],
                "domain": row["domain_name"],
            },
        )
    if not args["lbvmips"]:
        return Listing(list(items.values()), len(items))
    mapped = [
        {"loadbalancerruleinstance": vm, "lbvmipaddresses": addresses[vm_id]}
        for vm_id, vm in items.items()
    ]
    return Listing(mapped, len(mapped), item_key="lbrulevmidip")


ID = Param("id", P.UUID, required=True)
# 4.3 names the members by `virtualmachineids` or by `vmidipmap` (a VM and one of its
# addresses); without either the request is refused (`_targets`).
MEMBERS = (
    ID,
    Param("virtualmachineids", P.LIST, element=P.UUID),
    Param("vmidipmap", P.MAP),
)

COMMANDS = (
    ApiCommand(
        "createLoadBalancerRule",
        create_load_balancer_rule,
        (
            Param("algorithm", P.STRING, required=True),
            Param("name", P.STRING, required=True),
            Param("privateport", P.INTEGER, required=True),
            Param("publicport", P.INTEGER, required=True),
            Param("publicipid", P.UUID),
            Param("description", P.STRING, max_length=4096),
            Param("networkid", P.UUID),
            Param("zoneid", P.UUID),
            Param("cidrlist", P.LIST, element=P.STRING),
            Param("openfirewall", P.BOOLEAN),
            Param("protocol", P.STRING),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            FOR_DISPLAY,
        ),
        shape="async",
        is_async=True,
        item_key="loadbalancer",
        render=_one,
        java_class=f"{PKG}.CreateLoadBalancerRuleCmd",
        description="Creates a load balancer rule",
    ),
    ApiCommand(
        "updateLoadBalancerRule",
        update_load_balancer_rule,
        (
            ID,
            Param("name", P.STRING),
            Param("description", P.STRING, max_length=4096),
            Param("algorithm", P.STRING),
            CUSTOM_ID,
            FOR_DISPLAY_CHANGE,
        ),
        shape="async",
        is_async=True,
        item_key="loadbalancer",
        render=_one,
        java_class=f"{PKG}.UpdateLoadBalancerRuleCmd",
        description="Updates load balancer",
    ),
    ApiCommand(
        "deleteLoadBalancerRule",
        lambda call, args: delete_rule(call, args, LB, "LB.DELETE"),
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteLoadBalancerRuleCmd",
        description="Deletes a load balancer rule",
    ),
    ApiCommand(
        "assignToLoadBalancerRule",
        lambda call, args: _members(call, args, True),
        MEMBERS,
        shape="async",
        is_async=True,
        java_class=f"{PKG}.AssignToLoadBalancerRuleCmd",
        description="Assigns virtual machine or a list of virtual machines to a load balancer rule",
    ),
    ApiCommand(
        "removeFromLoadBalancerRule",
        lambda call, args: _members(call, args, False),
        MEMBERS,
        shape="async",
        is_async=True,
        java_class=f"{PKG}.RemoveFromLoadBalancerRuleCmd",
        description="Removes a virtual machine or a list of virtual machines from a load "
        "balancer rule",
    ),
    ApiCommand(
        "listLoadBalancerRules",
        list_load_balancer_rules,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("publicipid", P.UUID),
            Param("virtualmachineid", P.UUID),
            Param("zoneid", P.UUID),
            Param("networkid", P.UUID),
            FOR_DISPLAY_CHANGE,
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="loadbalancerrule",
        java_class=f"{PKG}.ListLoadBalancerRulesCmd",
        description="Lists load balancer rules",
    ),
    ApiCommand(
        "listLoadBalancerRuleInstances",
        list_instances,
        (
            ID,
            Param("applied", P.BOOLEAN),
            Param("lbvmips", P.BOOLEAN, default=False),
        ),
        shape="list",
        item_key="loadbalancerruleinstance",
        java_class=f"{PKG}.ListLoadBalancerRuleInstancesCmd",
        description="List all virtual machine instances that are assigned to a load balancer rule",
    ),
)
