"""Rules on public addresses: port forwarding (create/delete/listPortForwardingRules), firewall
(create/delete/listFirewallRules), static NAT (enableStaticNat, disableStaticNat) and the IP
forwarding rules of a static NAT address (create/delete/listIpForwardingRules); the helpers the
load balancer commands (api/cloudstack/load_balancers.py) share.

A change is checked at once (bad values, conflicts, someone else's address answer before any
job exists, as CloudStack's create step does); it is then applied by the network's router
under an async job, which the router's answer finishes.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any
from uuid import UUID

from api import display
from api.access import check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    limit_sql,
    resolve_owner_filters,
)
from api.cloudstack.networks import network_row
from api.cloudstack.public_ips import _public_row
from api.cloudstack.vm_listing import vm_row
from api.custom_ids import CUSTOM_ID
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.display import FOR_DISPLAY, FOR_DISPLAY_CHANGE
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import network_rules as cmd
from domain.errors import InvalidParameter, PermissionDenied, ResourceUnavailable
from domain.network_rule_checks import (
    Rule,
    RuleKind,
    cidr_list,
    icmp_values,
    port,
    port_range,
    protocol,
)
from domain.network_rules import static_nat_rule_id
from projections.gslb import holding
from projections.jobs import get_job
from projections.network_rules import rule_row

P = ParamType
FIREWALL_PKG = "org.apache.cloudstack.api.command.user.firewall"
NAT_PKG = "org.apache.cloudstack.api.command.user.nat"
SERVICES = {
    RuleKind.PORT_FORWARDING: "PortForwarding",
    RuleKind.FIREWALL: "Firewall",
    RuleKind.LOAD_BALANCING: "Lb",
    RuleKind.STATIC_NAT: "StaticNat",
    RuleKind.IP_FORWARDING: "StaticNat",
}
STATIC_NAT_WAIT = 30.0  # seconds enableStaticNat waits for the router (it answers at once)

SELECT = (
    "SELECT r.*, a.name AS account_name, a.domain_path AS domain_path, "
    "a.domain_name AS domain_name, v.name AS vm_name, v.display_name AS vm_display_name, "
    f"{display.shown_column('r.id')} "
    "FROM network_rules AS r JOIN accounts AS a ON a.id = r.account_id "
    "LEFT JOIN virtual_machines AS v ON v.id = r.vm_id"
)


# Shared with the load balancer commands ---------------------------------------------------------


def address_for(
    call: Call,
    public_id: str,
    kind: str,
    name: str,
    moving_to: str | None = None,
    *,
    tier: str | None = None,
) -> dict[str, Any]:
    """An allocated address the caller may act on, whose network (or `moving_to`, where a
    portable address is to move, or `tier`, the VPC tier a VPC's address is to serve) offers
    the rule's service."""
    row = _public_row(call, public_id)
    if row["state"] != "Allocated":
        raise not_found(name, public_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"] or "",
        what="the ip address",
    )
    if row.get("vpc_id") and SERVICES[kind] == "Firewall":
        raise InvalidParameter(
            "The Firewall service is not supported in a VPC: its network ACLs stand in for it"
        )
    if row.get("vpc_id") and tier:
        moving_to = tier
    if moving_to and moving_to != row["network_id"]:
        network = network_row(call, moving_to, "networkid")
    elif not row["network_id"] and row.get("vpc_id"):
        raise InvalidParameter(
            f"Ip address {row['address']} belongs to a VPC and serves no tier yet: name the "
            "tier with networkid"
        )
    elif not row["network_id"]:
        raise InvalidParameter(
            f"Ip address {row['address']} is not associated with any network; associate it "
            "with a network first"
        )
    else:
        network = network_row(call, row["network_id"], "networkid")
    if SERVICES[kind] not in network["services"]:
        raise InvalidParameter(
            f"The network {network['name']} does not offer the {SERVICES[kind]} service"
        )
    return row


def vpc_tier(row: dict[str, Any], args: dict[str, Any]) -> UUID | None:
    """The tier a rule on a VPC's address names (`networkid`); None for other addresses,
    whose rules are on the address's own network whatever `networkid` says (as in 4.3)."""
    return UUID(args["networkid"]) if row.get("vpc_id") and args["networkid"] else None


def opened_firewall(row: dict[str, Any], args: dict[str, Any]) -> tuple[str, ...] | None:
    """The CIDRs a rule's `openfirewall` admits (None: no firewall rule). A VPC has no
    firewall (its ACLs stand in for it): there it is refused when asked for, as in 4.3."""
    if row.get("vpc_id"):
        if args["openfirewall"]:
            raise InvalidParameter("Can't have openFirewall=true when IP address belongs to VPC")
        return None
    return cidr_list(args["cidrlist"]) if args["openfirewall"] is not False else None


def rule_for(call: Call, rule_id: str, kind: str, name: str = "id") -> dict[str, Any]:
    """A rule of that kind the caller may act on."""
    with call.read() as cursor:
        row = rule_row(cursor, rule_id, kind)
    if row is None:
        raise not_found(name, rule_id)
    check_reach(
        call.caller, account_id=row["account_id"], domain_path=row["domain_path"], what="the rule"
    )
    return row


def job_spec(call: Call, java_class: str, event_type: str, description: str) -> cmd.JobSpec:
    return cmd.JobSpec(
        java_class,
        UUID(call.caller.account_id),
        UUID(call.caller.user_id),
        "FirewallRule",
        event_type,
        description,
    )


def submitted(call: Call, applying: cmd.Applying, *, creates: bool) -> Submitted:
    call.accepted(applying.position)
    call.runtime.runner.wake()
    return Submitted(str(applying.job_id), str(applying.rule_id) if creates else None)


def write(call: Call, handler: Any, command: Any) -> cmd.Applying:
    with call.acting():
        applying: cmd.Applying = handler(call.store, command)
    return applying


def rule_base(row: dict[str, Any], kind: str, proto: str) -> Rule:
    """A rule on the address `row`; the command fills in owner and zone from the address."""
    return Rule(
        id=uuid.uuid4(),
        kind=kind,
        public_ip_id=UUID(row["id"]),
        address=row["address"],
        account_id=UUID(row["account_id"]),
        domain_id=UUID(row["domain_id"]),
        zone_id=UUID(row["zone_id"]),
        protocol=proto,
    )


def delete_rule(call: Call, args: dict[str, Any], kind: str, event_type: str) -> Submitted:
    row = rule_for(call, args["id"], kind)
    spec = job_spec(call, call.command.java_class, event_type, f"Deleting rule {row['id']}")
    # A load balancer with no public address is an internal one, in its address's own set.
    internal = row["address"] if kind == RuleKind.LOAD_BALANCING and not row["public_ip_id"] else ""
    gslb_ids: tuple[UUID, ...] = ()
    if kind == RuleKind.LOAD_BALANCING:  # it leaves the global rules it is behind
        with call.read() as cursor:
            gslb_ids = tuple(UUID(g) for g in holding(cursor, row["id"]))
    command = cmd.RevokeRule(
        UUID(row["network_id"]), UUID(row["id"]), kind, spec, internal, gslb_ids
    )
    return submitted(call, write(call, cmd.revoke_rule, command), creates=False)


# The 4.3 resource type whose tags a rule of each kind carries.
TAGGED_KINDS = {
    RuleKind.PORT_FORWARDING: "PortForwardingRule",
    RuleKind.FIREWALL: "FirewallRule",
    RuleKind.LOAD_BALANCING: "LoadBalancer",
    RuleKind.EGRESS: "FirewallRule",
}


def listed(
    call: Call,
    args: dict[str, Any],
    kind: str,
    filters: tuple[tuple[str, str], ...],
    *conditions: str,
) -> tuple[list[dict[str, Any]], int]:
    """Rules of one kind within the caller's scope (and `conditions`), oldest first."""
    owner = resolve_owner_filters(call, args)
    scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
    where, params = ["r.kind = %s", scope.clause, *conditions], [kind, *scope.params]
    for key, column in filters:
        if args.get(key):
            where.append(f"{column} = %s")
            params.append(args[key])
    if kind in TAGGED_KINDS:
        narrow(args, TAGGED_KINDS[kind], "r.id", where, params)
    display.narrow(call, args, "r.id", where)
    sql = SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY r.created, r.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return [dict(r) for r in rows], int(count)


def _owner(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
    }


def one_rule(call: Call, rule_id: str) -> dict[str, Any]:
    """A rule (any kind) with its owner and VM names, as lists render it."""
    with call.read() as cursor:
        row = cursor.execute(SELECT + " WHERE r.id = %s", (rule_id,)).fetchone()
    if row is None:
        raise not_found("id", rule_id)
    return dict(row)


# Port forwarding ---------------------------------------------------------------------------------


def render_forwarding(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "privateport": str(row["private_start"]),
        "privateendport": str(row["private_end"]),
        "protocol": row["protocol"],
        "publicport": str(row["start_port"]),
        "publicendport": str(row["end_port"]),
        "virtualmachineid": row["vm_id"],
        "virtualmachinename": row["vm_name"] or "",
        "virtualmachinedisplayname": row["vm_display_name"] or "",
        "vmguestip": row["vm_ip"],
        "ipaddressid": row["public_ip_id"],
        "ipaddress": row["address"],
        "networkid": row["network_id"],
        "state": row["state"],
        "cidrlist": "",
        "fordisplay": display.shown(row),
        "tags": [],
    }


def create_port_forwarding_rule(call: Call, args: dict[str, Any]) -> Submitted:
    row = address_for(
        call,
        args["ipaddressid"],
        RuleKind.PORT_FORWARDING,
        "ipaddressid",
        tier=args["networkid"],
    )
    public = port_range(args["publicport"], args["publicendport"], "public")
    private = port_range(args["privateport"], args["privateendport"], "private")
    if public[1] - public[0] != private[1] - private[0]:
        raise InvalidParameter("Private port range and public port range must be of equal size")
    proto = protocol(RuleKind.PORT_FORWARDING, args["protocol"])
    rule = replace(
        rule_base(row, RuleKind.PORT_FORWARDING, proto),
        start_port=public[0],
        end_port=public[1],
        private_start=private[0],
        private_end=private[1],
    )
    opened = opened_firewall(row, args)
    spec = job_spec(
        call,
        call.command.java_class,
        "NET.RULEADD",
        f"Applying port forwarding rule for ip {row['address']}",
    )
    command = cmd.AddRule(
        rule,
        spec,
        UUID(args["virtualmachineid"]),
        opened,
        args["vmguestip"] or None,
        vpc_tier(row, args),
    )
    display.hide_new(call, args, "PortForwardingRule", rule.id)
    return submitted(call, write(call, cmd.add_rule, command), creates=True)


def list_port_forwarding_rules(call: Call, args: dict[str, Any]) -> Listing:
    rows, count = listed(
        call,
        args,
        RuleKind.PORT_FORWARDING,
        (("id", "r.id"), ("ipaddressid", "r.public_ip_id"), ("networkid", "r.network_id")),
    )
    return Listing([render_forwarding(r) for r in rows], count)


def update_port_forwarding_rule(call: Call, args: dict[str, Any]) -> Submitted:
    """As in 4.3, only the private port and the VM change (a private range keeps its size);
    the address, protocol and public port stay, and naming other ones is refused."""
    row = rule_for(call, args["id"], RuleKind.PORT_FORWARDING)
    fixed = (
        ("ipaddressid", row["public_ip_id"]),
        ("protocol", row["protocol"]),
        ("publicport", row["start_port"]),
    )
    for name, value in fixed:
        given = args[name]
        if given is not None and str(given).lower() != str(value).lower():
            raise InvalidParameter(f"The {name} of a port forwarding rule can't be changed")
    private = None if args["privateport"] is None else port(args["privateport"], "privateport")
    vm_id = args["virtualmachineid"]
    if vm_id is not None:
        vm = vm_row(call, vm_id)
        if vm["account_id"] != row["account_id"]:
            raise PermissionDenied(
                f"Virtual machine {vm['name']} and the rule's ip address belong to different "
                "accounts"
            )
    spec = job_spec(
        call,
        call.command.java_class,
        "NET.RULEMODIFY",
        f"Updating port forwarding rule {row['id']}",
    )
    command = cmd.ChangeForwarding(
        UUID(row["network_id"]),
        UUID(row["id"]),
        private,
        UUID(vm_id) if vm_id else None,
        args["privateip"] or None,
        spec,
    )
    display.change(call, args, "PortForwardingRule", row["id"])
    return submitted(call, write(call, cmd.change_forwarding, command), creates=True)


def _forwarding_object(call: Call, rule_id: str) -> dict[str, Any]:
    return render_forwarding(one_rule(call, rule_id))


# Firewall ----------------------------------------------------------------------------------------


def render_firewall(row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row["id"],
        "protocol": row["protocol"],
        "ipaddressid": row["public_ip_id"],
        "ipaddress": row["address"],
        "networkid": row["network_id"],
        "state": row["state"],
        "cidrlist": row["cidrs"],
        "fordisplay": display.shown(row),
        "tags": [],
    }
    if not row["public_ip_id"]:  # an egress rule names its network, no address
        del body["ipaddressid"], body["ipaddress"]
    if row["protocol"] == "icmp":
        body.update(icmptype=row["icmp_type"], icmpcode=row["icmp_code"])
    elif row["start_port"] is not None:
        body.update(startport=str(row["start_port"]), endport=str(row["end_port"]))
    return body


def create_firewall_rule(call: Call, args: dict[str, Any]) -> Submitted:
    row = address_for(call, args["ipaddressid"], RuleKind.FIREWALL, "ipaddressid")
    proto = protocol(RuleKind.FIREWALL, args["protocol"])
    kind, code = icmp_values(proto, args["icmptype"], args["icmpcode"])
    ports: tuple[int | None, int | None] = (None, None)
    if proto == "icmp":
        if args["startport"] is not None or args["endport"] is not None:
            raise InvalidParameter("Can't specify start/end port when protocol is ICMP")
    elif args["startport"] is not None:
        ports = port_range(args["startport"], args["endport"], "")
    elif args["endport"] is not None:
        raise InvalidParameter("Specify startport with endport")
    rule = replace(
        rule_base(row, RuleKind.FIREWALL, proto),
        start_port=ports[0],
        end_port=ports[1],
        cidrs=cidr_list(args["cidrlist"]),
        icmp_type=kind,
        icmp_code=code,
    )
    spec = job_spec(
        call, call.command.java_class, "NET.FIREWALLOPEN", f"Creating firewall rule {rule.id}"
    )
    display.hide_new(call, args, "FirewallRule", rule.id)
    return submitted(call, write(call, cmd.add_rule, cmd.AddRule(rule, spec)), creates=True)


def list_firewall_rules(call: Call, args: dict[str, Any]) -> Listing:
    rows, count = listed(
        call,
        args,
        RuleKind.FIREWALL,
        (("id", "r.id"), ("ipaddressid", "r.public_ip_id"), ("networkid", "r.network_id")),
    )
    return Listing([render_firewall(r) for r in rows], count)


def firewall_object(call: Call, rule_id: str) -> dict[str, Any]:
    """The job result of a firewall rule's create, ingress or egress."""
    return render_firewall(one_rule(call, rule_id))


# Static NAT --------------------------------------------------------------------------------------


def enable_static_nat(call: Call, args: dict[str, Any]) -> None:
    """Synchronous, as in CloudStack: answers once the router applied it (or could not)."""
    row = address_for(
        call, args["ipaddressid"], RuleKind.STATIC_NAT, "ipaddressid", args["networkid"]
    )
    base = rule_base(row, RuleKind.STATIC_NAT, "all")
    rule = replace(base, id=static_nat_rule_id(base.public_ip_id))
    spec = job_spec(
        call, f"{NAT_PKG}.EnableStaticNatCmd", "STATICNAT.ENABLE", f"Enabling static nat {rule.id}"
    )
    command = cmd.AddRule(
        rule,
        spec,
        UUID(args["virtualmachineid"]),
        vm_guest_ip=args["vmguestip"] or None,
        network_id=UUID(args["networkid"]) if args["networkid"] else None,
    )
    applying = write(call, cmd.add_rule, command)
    call.settle(applying.position, str(row["id"]))
    _await(call, str(applying.job_id), str(row["id"]))


def _await(call: Call, job_id: str, address_id: str) -> None:
    deadline = time.monotonic() + STATIC_NAT_WAIT
    while time.monotonic() < deadline:
        call.runtime.runner.wake()
        with call.read() as cursor:
            job = get_job(cursor, job_id)
        if job and job["status"] == 2:
            call.settle(call.store.head(), address_id)
            raise ResourceUnavailable(job["result"]["message"])
        if job and job["status"] == 1:
            call.settle(call.store.head(), address_id)
            return
        time.sleep(0.02)
    raise ResourceUnavailable("The virtual router did not answer in time; check the ip address")


def disable_static_nat(call: Call, args: dict[str, Any]) -> Submitted:
    row = address_for(call, args["ipaddressid"], RuleKind.STATIC_NAT, "ipaddressid")
    rule_id = static_nat_rule_id(UUID(row["id"]))
    with call.read() as cursor:
        found = rule_row(cursor, str(rule_id), RuleKind.STATIC_NAT)
    if found is None:
        raise InvalidParameter(f"Static nat is not enabled for ip address {row['address']}")
    spec = job_spec(
        call, call.command.java_class, "STATICNAT.DISABLE", f"Disabling static nat {rule_id}"
    )
    command = cmd.RevokeRule(UUID(row["network_id"]), rule_id, RuleKind.STATIC_NAT, spec)
    return submitted(call, write(call, cmd.revoke_rule, command), creates=False)


# IP forwarding (the ports a static NAT address forwards) --------------------------------------


def render_ip_forwarding(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "protocol": row["protocol"],
        "publicport": str(row["start_port"]),
        "publicendport": str(row["end_port"]),
        "privateport": str(row["private_start"]),
        "privateendport": str(row["private_end"]),
        "virtualmachineid": row["vm_id"],
        "virtualmachinename": row["vm_name"] or "",
        "virtualmachinedisplayname": row["vm_display_name"] or "",
        "vmguestip": row["vm_ip"],
        "ipaddressid": row["public_ip_id"],
        "ipaddress": row["address"],
        "networkid": row["network_id"],
        "state": row["state"],
        "cidrlist": "",
        "fordisplay": True,
        "tags": [],
    }


def create_ip_forwarding_rule(call: Call, args: dict[str, Any]) -> Submitted:
    """Forward a range of ports of a static NAT address to its VM (the same ports there);
    refused when static NAT is not enabled on the address. `openfirewall` (on unless false)
    also opens the ports to `cidrlist` with a firewall rule that goes with this one."""
    row = address_for(call, args["ipaddressid"], RuleKind.IP_FORWARDING, "ipaddressid")
    ports = port_range(args["startport"], args["endport"], "")
    proto = protocol(RuleKind.IP_FORWARDING, args["protocol"])
    rule = replace(
        rule_base(row, RuleKind.IP_FORWARDING, proto), start_port=ports[0], end_port=ports[1]
    )
    opened = opened_firewall(row, args)
    spec = job_spec(
        call, call.command.java_class, "NET.RULEADD", f"Applying ip forwarding rule {rule.id}"
    )
    command = cmd.AddRule(rule, spec, None, opened)
    return submitted(call, write(call, cmd.add_rule, command), creates=True)


def list_ip_forwarding_rules(call: Call, args: dict[str, Any]) -> Listing:
    rows, count = listed(
        call,
        args,
        RuleKind.IP_FORWARDING,
        (("id", "r.id"), ("ipaddressid", "r.public_ip_id"), ("virtualmachineid", "r.vm_id")),
    )
    return Listing([render_ip_forwarding(r) for r in rows], count)


def _ip_forwarding_object(call: Call, rule_id: str) -> dict[str, Any]:
    return render_ip_forwarding(one_rule(call, rule_id))


# The table ---------------------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)
LIST_OWNER = (
    *OWNER_PARAMS,
    Param("id", P.UUID),
    Param("ipaddressid", P.UUID),
    Param("networkid", P.UUID),
    FOR_DISPLAY_CHANGE,
    *LIST_PROJECT_AND_TAGS,
)

# What an ingress (createFirewallRule) and an egress rule (createEgressFirewallRule) take
# besides the address or network they are on.
FIREWALL_PARAMS = (
    Param("protocol", P.STRING, required=True),
    Param("startport", P.INTEGER),
    Param("endport", P.INTEGER),
    Param("cidrlist", P.LIST, element=P.STRING),
    Param("icmptype", P.INTEGER),
    Param("icmpcode", P.INTEGER),
    Param("type", P.STRING, default="user", unsupported="system firewall rules are not built yet"),
    FOR_DISPLAY,
)

COMMANDS = (
    ApiCommand(
        "createPortForwardingRule",
        create_port_forwarding_rule,
        (
            Param("ipaddressid", P.UUID, required=True),
            Param("privateport", P.INTEGER, required=True),
            Param("publicport", P.INTEGER, required=True),
            Param("protocol", P.STRING, required=True),
            Param("virtualmachineid", P.UUID, required=True),
            Param("privateendport", P.INTEGER),
            Param("publicendport", P.INTEGER),
            Param("cidrlist", P.LIST, element=P.STRING),
            Param("openfirewall", P.BOOLEAN),
            Param("vmguestip", P.STRING),
            Param("networkid", P.UUID),
            FOR_DISPLAY,
        ),
        shape="async",
        is_async=True,
        item_key="portforwardingrule",
        render=_forwarding_object,
        java_class=f"{FIREWALL_PKG}.CreatePortForwardingRuleCmd",
        description="Creates a port forwarding rule",
    ),
    ApiCommand(
        "updatePortForwardingRule",
        update_port_forwarding_rule,
        (
            ID,
            Param("privateport", P.INTEGER),
            Param("virtualmachineid", P.UUID),
            Param("privateip", P.STRING),
            Param("ipaddressid", P.UUID),
            Param("protocol", P.STRING),
            Param("publicport", P.INTEGER),
            CUSTOM_ID,
            FOR_DISPLAY_CHANGE,
        ),
        shape="async",
        is_async=True,
        item_key="portforwardingrule",
        render=_forwarding_object,
        java_class=f"{FIREWALL_PKG}.UpdatePortForwardingRuleCmd",
        description="Updates a port forwarding rule.  Only the private port and the virtual "
        "machine can be updated.",
    ),
    ApiCommand(
        "deletePortForwardingRule",
        lambda call, args: delete_rule(call, args, RuleKind.PORT_FORWARDING, "NET.RULEDELETE"),
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{FIREWALL_PKG}.DeletePortForwardingRuleCmd",
        description="Deletes a port forwarding rule",
    ),
    ApiCommand(
        "listPortForwardingRules",
        list_port_forwarding_rules,
        LIST_OWNER,
        shape="list",
        item_key="portforwardingrule",
        java_class=f"{FIREWALL_PKG}.ListPortForwardingRulesCmd",
        description="Lists all port forwarding rules for an IP address",
    ),
    ApiCommand(
        "createFirewallRule",
        create_firewall_rule,
        (
            Param("ipaddressid", P.UUID, required=True),
            *FIREWALL_PARAMS,
        ),
        shape="async",
        is_async=True,
        item_key="firewallrule",
        render=firewall_object,
        java_class=f"{FIREWALL_PKG}.CreateFirewallRuleCmd",
        description="Creates a firewall rule for a given ip address",
    ),
    ApiCommand(
        "deleteFirewallRule",
        lambda call, args: delete_rule(call, args, RuleKind.FIREWALL, "NET.FIREWALLCLOSE"),
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{FIREWALL_PKG}.DeleteFirewallRuleCmd",
        description="Deletes a firewall rule",
    ),
    ApiCommand(
        "listFirewallRules",
        list_firewall_rules,
        LIST_OWNER,
        shape="list",
        item_key="firewallrule",
        java_class=f"{FIREWALL_PKG}.ListFirewallRulesCmd",
        description="Lists all firewall rules for an IP address",
    ),
    ApiCommand(
        "createIpForwardingRule",
        create_ip_forwarding_rule,
        (
            Param("ipaddressid", P.UUID, required=True),
            Param("protocol", P.STRING, required=True),
            Param("startport", P.INTEGER, required=True),
            Param("endport", P.INTEGER),
            Param("cidrlist", P.LIST, element=P.STRING),
            Param("openfirewall", P.BOOLEAN),
        ),
        shape="async",
        is_async=True,
        item_key="ipforwardingrule",
        render=_ip_forwarding_object,
        java_class=f"{NAT_PKG}.CreateIpForwardingRuleCmd",
        description="Creates an ip forwarding rule",
    ),
    ApiCommand(
        "deleteIpForwardingRule",
        lambda call, args: delete_rule(call, args, RuleKind.IP_FORWARDING, "NET.RULEDELETE"),
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{NAT_PKG}.DeleteIpForwardingRuleCmd",
        description="Deletes an ip forwarding rule",
    ),
    ApiCommand(
        "listIpForwardingRules",
        list_ip_forwarding_rules,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("ipaddressid", P.UUID),
            Param("virtualmachineid", P.UUID),
            LIST_PROJECT_ID,
        ),
        shape="list",
        item_key="ipforwardingrule",
        java_class=f"{NAT_PKG}.ListIpForwardingRulesCmd",
        description="List the ip forwarding rules",
    ),
    ApiCommand(
        "enableStaticNat",
        enable_static_nat,
        (
            Param("ipaddressid", P.UUID, required=True),
            Param("virtualmachineid", P.UUID, required=True),
            Param("networkid", P.UUID),
            Param("vmguestip", P.STRING),
        ),
        shape="success",
        java_class=f"{NAT_PKG}.EnableStaticNatCmd",
        description="Enables static nat for given ip address",
    ),
    ApiCommand(
        "disableStaticNat",
        disable_static_nat,
        (Param("ipaddressid", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{NAT_PKG}.DisableStaticNatCmd",
        description="Disables static rule for given ip address",
    ),
)
