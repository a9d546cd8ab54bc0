"""Internal load balancing in VPC tiers (CloudStack 4.3's application load balancers, scheme
Internal): createLoadBalancer, deleteLoadBalancer, listLoadBalancers, and the VMs that run them,
listInternalLoadBalancerVMs, startInternalLoadBalancerVM and stopInternalLoadBalancerVM.

A rule balances a source address of a tier over the tier's VMs; it is checked at once (bad
values, someone else's tier, a tier offering without internal load balancing, a port taken on
the address answer before any job exists) and applied by the address's internal load balancer
VM under a job (commands/internal_lb.py). assignToLoadBalancerRule, removeFromLoadBalancerRule
and listLoadBalancerRuleInstances take these rules as they take public ones.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from uuid import UUID

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_AND_TAGS,
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    limit_sql,
    resolve_owner_filters,
)
from api.cloudstack.load_balancers import LB
from api.cloudstack.network_rules import (
    SELECT,
    delete_rule,
    job_spec,
    listed,
    rule_for,
    submitted,
    write,
)
from api.cloudstack.networks import network_row
from api.cloudstack.routers import render_routers, router_template
from api.cloudstack.system_vms import SELECT as APPLIANCES
from api.cloudstack.system_vms import lifecycle_commands
from api.cloudstack.vpcs import zone_hypervisor
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.display import FOR_DISPLAY, FOR_DISPLAY_CHANGE, hide_new, shown
from api.params import Param, ParamType, not_found
from commands import internal_lb as cmd
from domain.compute import Compute
from domain.errors import DomainError, InvalidParameter
from domain.network_rule_checks import Rule, algorithm, port
from domain.system_vm import Role as VmRole
from projections.internal_lb import addresses_of, vm_names
from projections.network_rules import members_of
from stratus.db import contains

P = ParamType
log = logging.getLogger(__name__)
PKG = "org.apache.cloudstack.api.command.user.loadbalancer"
ADMIN_PKG = "org.apache.cloudstack.api.command.admin.internallb"
INTERNAL = "Internal"
INTERNAL_SCHEME = "r.public_ip_id = ''"  # a load balancer rule without a public address


def _scheme(text: str | None) -> str:
    """4.3 builds only the Internal scheme here; public load balancers are
    createLoadBalancerRule's."""
    if (text or INTERNAL).strip().lower() != INTERNAL.lower():
        raise InvalidParameter(
            f"Invalid value for scheme: {text}. Supported value is internal (public load "
            "balancers are made with createLoadBalancerRule)"
        )
    return INTERNAL


# ---- rules ----------------------------------------------------------------------------------


def render_internal(row: dict[str, Any], members: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row.get("description") or row["name"],
        "algorithm": row["algorithm"],
        "networkid": row["network_id"],
        "sourceipaddress": row["address"],
        "sourceipaddressnetworkid": row["network_id"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "fordisplay": shown(row),
        "loadbalancerrule": [
            {
                "sourceport": row["start_port"],
                "instanceport": row["private_start"],
                "state": row["state"],
            }
        ],
        "loadbalancerinstance": [
            {
                "id": m["vm_id"],
                "name": m.get("vm_name") or "",
                "state": m["state"],
                "ipaddress": m["vm_ip"],
            }
            for m in members
        ],
        "tags": [],
    }


def _rendered(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with call.read() as cursor:
        members = members_of(cursor, [r["id"] for r in rows])
        names = vm_names(cursor, {m["vm_id"] for found in members.values() for m in found})
    for found in members.values():
        for member in found:
            member["vm_name"] = names.get(member["vm_id"], "")
    return [render_internal(r, members[r["id"]]) for r in rows]


def _one(call: Call, rule_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            SELECT + f" WHERE r.id = %s AND r.kind = %s AND {INTERNAL_SCHEME}", (rule_id, LB)
        ).fetchone()
    if row is None:
        raise not_found("id", rule_id)
    return _rendered(call, [dict(row)])[0]


def _appliance(call: Call, zone_id: str) -> cmd.Appliance:
    """The hosts and template a new internal load balancer VM of the zone runs on (the
    router's, as the VPC's router)."""
    from api.cloudstack.vms import candidates

    hypervisor = zone_hypervisor(call, zone_id)
    template_id, _name = router_template(call, zone_id, hypervisor)
    shape = Compute(UUID(int=0), 1, 1, 1, False, UUID(template_id), hypervisor, 0)
    return cmd.Appliance(hypervisor, UUID(template_id), candidates(call, zone_id, shape, None))


def create_load_balancer(call: Call, args: dict[str, Any]) -> Submitted:
    _scheme(args["scheme"])
    tier = network_row(call, args["sourceipaddressnetworkid"], "sourceipaddressnetworkid")
    check_reach(
        call.caller,
        account_id=tier["account_id"],
        domain_path=tier["domain_path"] or "",
        what="the network",
    )
    if args["networkid"] != tier["id"]:
        raise InvalidParameter(
            "Internal load balancing balances the VMs of the network its source ip is on: "
            "networkid and sourceipaddressnetworkid must name the same network"
        )
    name = (args["name"] or "").strip()
    if not name:
        raise InvalidParameter("A load balancer needs a name")
    source, instance = (
        port(args["sourceport"], "sourceport"),
        port(args["instanceport"], "instanceport"),
    )
    rule = Rule(
        id=uuid.uuid4(),
        kind=LB,
        public_ip_id=None,
        address="",
        account_id=UUID(tier["account_id"]),
        domain_id=UUID(tier["domain_id"]),
        zone_id=UUID(tier["zone_id"]),
        protocol="tcp",
        start_port=source,
        end_port=source,
        private_start=instance,
        private_end=instance,
        name=name,
        description=args["description"] or "",
        algorithm=algorithm(args["algorithm"]),
    )
    spec = job_spec(call, call.command.java_class, "LB.CREATE", f"Creating load balancer {name}")
    command = cmd.AddInternalBalancer(
        UUID(tier["id"]),
        (args["sourceipaddress"] or "").strip() or None,
        rule,
        spec,
        _appliance(call, tier["zone_id"]),
    )
    hide_new(call, args, "LoadBalancer", rule.id)
    return submitted(call, write(call, cmd.add_internal_balancer, command), creates=True)


def _internal_rule(call: Call, rule_id: str) -> dict[str, Any]:
    row = rule_for(call, rule_id, LB)
    if row["public_ip_id"]:
        raise not_found("id", rule_id)
    return row


def delete_load_balancer(call: Call, args: dict[str, Any]) -> Submitted:
    _internal_rule(call, args["id"])
    return delete_rule(call, args, LB, "LB.DELETE")


def list_load_balancers(call: Call, args: dict[str, Any]) -> Listing:
    _scheme(args["scheme"])
    filters = (
        ("id", "r.id"),
        ("name", "r.name"),
        ("networkid", "r.network_id"),
        ("sourceipaddressnetworkid", "r.network_id"),
        ("sourceipaddress", "r.address"),
    )
    rows, count = listed(call, args, LB, filters, INTERNAL_SCHEME)
    return Listing(_rendered(call, rows), count)


def drop_internal_balancers(call: Call, network_id: UUID) -> None:
    """A deleted tier's internal load balancers go with it, and their VMs (the network's
    delete calls it, as it destroys the network's router)."""
    for address in cmd.internal_addresses(call.store, network_id):
        try:
            cmd.drop_with_network(call.store, network_id, address)
        except DomainError as error:  # e.g. its VM is starting: the operator destroys it later
            log.warning(
                "the internal load balancer VM of %s on deleted network %s stays: %s",
                address,
                network_id,
                error,
            )


# ---- the VMs --------------------------------------------------------------------------------


def render_vms(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As routers render (4.3 answers a router's response), with the source address as the
    VM's guest address."""
    with call.read() as cursor:
        addresses = addresses_of(cursor, [r["id"] for r in rows])
    items = render_routers(call, rows)
    for item in items:
        found = addresses.get(item["id"], {})
        item["guestipaddress"] = found.get("guest_ip", "")
        item["gateway"] = found.get("gateway") or ""
        item["guestnetmask"] = found.get("netmask") or ""
    return items


def _vm(call: Call, vm_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(APPLIANCES + " WHERE r.id = %s", (vm_id,)).fetchone()
    if row is None:
        raise not_found("id", vm_id)
    return render_vms(call, [dict(row)])[0]


_VM_FILTERS = (
    ("id", "r.id = %s"),
    ("state", "r.state = %s"),
    ("hostid", "r.host_id = %s"),
    ("zoneid", "r.zone_id = %s"),
    ("podid", "r.pod_id = %s"),
    ("vpcid", "r.vpc_id = %s"),
    ("networkid", "r.guest_network_id = %s"),
)


def list_vms(call: Call, args: dict[str, Any]) -> Listing:
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where = ["r.role = %s", "r.removed = 0", scope.clause]
    params: list[Any] = [VmRole.INTERNAL_LB, *scope.params]
    for key, clause in _VM_FILTERS:
        if args.get(key):
            where.append(clause)
            params.append(args[key])
    if args.get("forvpc") is False:
        where.append("r.vpc_id IS NULL")  # every internal load balancer VM is a VPC's
    for key in ("name", "keyword"):
        if args.get(key):
            clause, values = contains(("r.name", "r.instance_name", "r.state"), args[key])
            where.append(clause)
            params += values
    sql = APPLIANCES + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(sql + " ORDER BY r.seq" + limit_sql(args["paging"]), params)
        found = [dict(r) for r in rows.fetchall()]
    return Listing(render_vms(call, found), int(count))


COMMANDS = (
    ApiCommand(
        "createLoadBalancer",
        create_load_balancer,
        (
            Param("algorithm", P.STRING, required=True),
            Param("instanceport", P.INTEGER, required=True),
            Param("name", P.STRING, required=True),
            Param("networkid", P.UUID, required=True),
            Param("scheme", P.STRING, required=True),
            Param("sourceipaddressnetworkid", P.UUID, required=True),
            Param("sourceport", P.INTEGER, required=True),
            Param("description", P.STRING, max_length=4096),
            Param("sourceipaddress", P.STRING),
            FOR_DISPLAY,
        ),
        shape="async",
        is_async=True,
        item_key="loadbalancer",
        result_kind="internalloadbalancer",
        render=_one,
        java_class=f"{PKG}.CreateApplicationLoadBalancerCmd",
        description="Creates a Load Balancer",
    ),
    ApiCommand(
        "deleteLoadBalancer",
        delete_load_balancer,
        (Param("id", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.DeleteApplicationLoadBalancerCmd",
        description="Deletes a load balancer",
    ),
    ApiCommand(
        "listLoadBalancers",
        list_load_balancers,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("networkid", P.UUID),
            Param("scheme", P.STRING),
            Param("sourceipaddress", P.STRING),
            Param("sourceipaddressnetworkid", P.UUID),
            FOR_DISPLAY_CHANGE,
            *LIST_PROJECT_AND_TAGS,
        ),
        shape="list",
        item_key="loadbalancer",
        java_class=f"{PKG}.ListApplicationLoadBalancersCmd",
        description="Lists Load Balancers",
    ),
    ApiCommand(
        "listInternalLoadBalancerVMs",
        list_vms,
        (
            *OWNER_PARAMS,
            LIST_PROJECT_ID,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("state", P.STRING),
            Param("hostid", P.UUID),
            Param("podid", P.UUID),
            Param("zoneid", P.UUID),
            Param("networkid", P.UUID),
            Param("vpcid", P.UUID),
            Param("forvpc", P.BOOLEAN),
        ),
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key="internalloadbalancervm",
        java_class=f"{ADMIN_PKG}.ListInternalLBVMsCmd",
        description="List internal LB VMs.",
    ),
    *lifecycle_commands(
        VmRole.INTERNAL_LB,
        ADMIN_PKG,
        "InternalLoadBalancerVM",
        _vm,
        actions=("start", "stop"),
        java_noun="InternalLBVM",
    ),
)
