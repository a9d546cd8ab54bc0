"""The global load balancer rules read model (listGlobalLoadBalancerRules): each live rule and
the load balancer rules behind it with their weights; and the sites a name's DNS answers
spread over."""

from __future__ import annotations

from typing import Any

from domain.gslb import GlobalLoadBalancer
from domain.network_rule_checks import RuleKind
from domain.network_rules import NetworkRules
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

GSLB: Any = GlobalLoadBalancer  # events made by the library's decorator: mypy cannot see them
RULES: Any = NetworkRules


class GlobalLoadBalancersProjection(Projection):
    """Keeps `global_load_balancers` and `global_load_balancer_members`."""

    name = "global_load_balancers"
    summary = "global load balancer rules and their load balancers"
    tables = ("global_load_balancers", "global_load_balancer_members")

    @on(GSLB.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.global_load_balancers} (id, name, description, region_id, "
            "gslb_domain, service_type, lb_method, sticky_method, account_id, domain_id, "
            "created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                e.description,
                e.region_id,
                e.gslb_domain,
                e.service,
                e.lb_method,
                e.sticky_method,
                str(e.account_id),
                str(e.domain_id),
                e.timestamp.isoformat(),
            ),
        )

    @on(GSLB.Updated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.global_load_balancers} SET description = %s, lb_method = %s, "
            "sticky_method = %s WHERE id = %s",
            (e.description, e.lb_method, e.sticky_method, str(e.originator_id)),
        )

    @on(GSLB.Assigned)
    def assigned(self, e: Any, c: Cursor, t: Tables) -> None:
        c.executemany(
            f"INSERT INTO {t.global_load_balancer_members} (gslb_id, rule_id, zone_id, weight) "
            "VALUES (%s, %s, %s, %s)",
            [
                (str(e.originator_id), str(m["rule_id"]), str(m["zone_id"]), m["weight"])
                for m in e.members
            ],
        )

    @on(GSLB.Unassigned)
    def unassigned(self, e: Any, c: Cursor, t: Tables) -> None:
        c.executemany(
            f"DELETE FROM {t.global_load_balancer_members} WHERE gslb_id = %s AND rule_id = %s",
            [(str(e.originator_id), str(rule_id)) for rule_id in e.rule_ids],
        )

    @on(RULES.RuleRemoved)
    def balancer_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        """A load balancer rule gone by any way (deleted, with its network) is no member any
        more, as 4.3's map rows go with their rule."""
        if e.kind == RuleKind.LOAD_BALANCING:
            c.execute(
                f"DELETE FROM {t.global_load_balancer_members} WHERE rule_id = %s",
                (str(e.rule_id),),
            )

    @on(GSLB.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        gslb_id = str(e.originator_id)
        c.execute(f"DELETE FROM {t.global_load_balancers} WHERE id = %s", (gslb_id,))
        c.execute(f"DELETE FROM {t.global_load_balancer_members} WHERE gslb_id = %s", (gslb_id,))


def gslb_rows(c: Cursor, where: str, params: list[Any], tail: str = "") -> list[dict[str, Any]]:
    rows = c.execute(
        "SELECT g.*, a.name AS account_name, a.domain_path AS domain_path, "
        "a.domain_name AS domain_name FROM global_load_balancers AS g "
        f"JOIN accounts AS a ON a.id = g.account_id WHERE {where} ORDER BY g.created, g.id" + tail,
        params,
    ).fetchall()
    return [dict(r) for r in rows]


def members_of(c: Cursor, gslb_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each rule's members: the load balancer rule (its address and state) and the weight."""
    found: dict[str, list[dict[str, Any]]] = {gslb_id: [] for gslb_id in gslb_ids}
    if not gslb_ids:
        return found
    marks = ", ".join(["%s"] * len(gslb_ids))
    rows = c.execute(
        "SELECT m.gslb_id, m.rule_id, m.zone_id, m.weight, r.address, r.state "
        "FROM global_load_balancer_members AS m "
        "LEFT JOIN network_rules AS r ON r.id = m.rule_id "
        f"WHERE m.gslb_id IN ({marks}) ORDER BY m.zone_id, m.rule_id",
        gslb_ids,
    ).fetchall()
    for row in rows:
        found[row["gslb_id"]].append(dict(row))
    return found


def holding(c: Cursor, rule_id: str) -> list[str]:
    """The global load balancer rules a load balancer rule is behind."""
    rows = c.execute(
        "SELECT gslb_id FROM global_load_balancer_members WHERE rule_id = %s ORDER BY gslb_id",
        (rule_id,),
    ).fetchall()
    return [row["gslb_id"] for row in rows]


def gone_members(c: Cursor, rule_ids: list[str]) -> list[str]:
    """Of these load balancer rules, those deleted or being deleted."""
    if not rule_ids:
        return []
    marks = ", ".join(["%s"] * len(rule_ids))
    live = {
        row["id"]
        for row in c.execute(
            f"SELECT id FROM network_rules WHERE id IN ({marks}) AND state <> 'Revoke'", rule_ids
        ).fetchall()
    }
    return [rule_id for rule_id in rule_ids if rule_id not in live]


READ_MODELS = (GlobalLoadBalancersProjection,)
