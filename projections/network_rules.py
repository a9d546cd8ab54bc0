"""Read models of network rules: `network_rules` (one row per rule on a public address, in its
state, with a load balancer's certificate), `load_balancer_members` (the VMs behind each load
balancer rule) and `lb_stickiness_policies`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from domain.network_rules import NetworkRules
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

# Events made by the library's decorator: type checkers cannot see them.
RULES: Any = NetworkRules
_COLUMNS = (
    "id, network_id, kind, public_ip_id, address, protocol, start_port, end_port, "
    "private_start, private_end, vm_id, vm_ip, cidrs, icmp_type, icmp_code, name, algorithm, "
    "related, state, account_id, domain_id, zone_id, created, description"
)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class NetworkRulesProjection(Projection):
    """Keeps `network_rules` and `load_balancer_members`."""

    name = "network_rules"
    summary = "firewall, port forwarding and load balancer rules"
    tables = ("network_rules", "load_balancer_members", "lb_stickiness_policies")

    @on(RULES.RuleAdded)
    def rule_added(self, e: Any, c: Cursor, t: Tables) -> None:
        r = e.rule
        values = (
            str(r["id"]),
            str(e.network_id),
            r["kind"],
            _text(r["public_ip_id"]) or "",  # an egress rule has no address
            r["address"],
            r["protocol"],
            r["start_port"],
            r["end_port"],
            r["private_start"],
            r["private_end"],
            _text(r["vm_id"]),
            r["vm_ip"],
            ",".join(r["cidrs"]),
            r["icmp_type"],
            r["icmp_code"],
            r["name"],
            r["algorithm"],
            _text(r.get("related")),
            r["state"],
            str(r["account_id"]),
            str(r["domain_id"]),
            str(r["zone_id"]),
            e.timestamp.isoformat(),
            r.get("description", ""),
        )
        marks = ", ".join(["%s"] * len(values))
        c.execute(f"INSERT INTO {t.network_rules} ({_COLUMNS}) VALUES ({marks})", values)
        _members(c, t, str(r["id"]), r.get("members", ()))

    @on(RULES.RevokeRequested)
    def revoking(self, e: Any, c: Cursor, t: Tables) -> None:
        _state(c, t, e.rule_id, "Revoke")

    @on(RULES.RuleActivated)
    def activated(self, e: Any, c: Cursor, t: Tables) -> None:
        _state(c, t, e.rule_id, "Active")

    @on(RULES.RuleChanged, RULES.ChangeSettled)
    def changed(self, e: Any, c: Cursor, t: Tables) -> None:
        r = e.rule
        c.execute(
            f"UPDATE {t.network_rules} SET private_start = %s, private_end = %s, vm_id = %s, "
            "vm_ip = %s, name = %s, algorithm = %s, description = %s WHERE id = %s",
            (
                r["private_start"],
                r["private_end"],
                _text(r["vm_id"]),
                r["vm_ip"],
                r["name"],
                r["algorithm"],
                r.get("description", ""),
                str(e.rule_id),
            ),
        )

    @on(RULES.RuleRemoved)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.network_rules} WHERE id = %s", (str(e.rule_id),))
        _members(c, t, str(e.rule_id), ())
        _policies(c, t, str(e.rule_id), ())

    @on(RULES.StickinessChanged)
    def stickiness_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        _policies(c, t, str(e.rule_id), e.policies)

    @on(RULES.CertAssigned)
    def cert_assigned(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.network_rules} SET cert_id = %s WHERE id = %s",
            (str(e.cert_id), str(e.rule_id)),
        )

    @on(RULES.CertStateSet)
    def cert_state_set(self, e: Any, c: Cursor, t: Tables) -> None:
        if not e.state:
            c.execute(
                f"UPDATE {t.network_rules} SET cert_id = NULL WHERE id = %s", (str(e.rule_id),)
            )

    @on(RULES.MembersChanged)
    def members_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        _members(c, t, str(e.rule_id), e.members)


def _state(c: Cursor, t: Tables, rule_id: Any, state: str) -> None:
    c.execute(f"UPDATE {t.network_rules} SET state = %s WHERE id = %s", (state, str(rule_id)))


def _members(c: Cursor, t: Tables, rule_id: str, members: Iterable[dict[str, Any]]) -> None:
    c.execute(f"DELETE FROM {t.load_balancer_members} WHERE rule_id = %s", (rule_id,))
    rows = [(rule_id, str(m["vm_id"]), m["vm_ip"], m["state"]) for m in members]
    if rows:
        c.executemany(
            f"INSERT INTO {t.load_balancer_members} (rule_id, vm_id, vm_ip, state) "
            "VALUES (%s, %s, %s, %s)",
            rows,
        )


def _policies(c: Cursor, t: Tables, rule_id: str, policies: Iterable[dict[str, Any]]) -> None:
    c.execute(f"DELETE FROM {t.lb_stickiness_policies} WHERE rule_id = %s", (rule_id,))
    rows = [
        (
            str(p["id"]),
            rule_id,
            p["name"],
            p["method"],
            orjson.dumps([list(pair) for pair in p.get("params", ())]).decode(),
            p.get("description", ""),
            p["state"],
        )
        for p in policies
    ]
    if rows:
        c.executemany(
            f"INSERT INTO {t.lb_stickiness_policies} (id, rule_id, name, method, params, "
            "description, state) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


# Queries ------------------------------------------------------------------------------------


def rule_row(c: Cursor, rule_id: str, kind: str) -> dict[str, Any] | None:
    """A rule of that kind with its owner's domain path (for the caller's reach)."""
    row = c.execute(
        "SELECT r.*, a.name AS account_name, a.domain_path AS domain_path, "
        "a.domain_name AS domain_name FROM network_rules AS r "
        "JOIN accounts AS a ON a.id = r.account_id WHERE r.id = %s AND r.kind = %s",
        (rule_id, kind),
    ).fetchone()
    return dict(row) if row is not None else None


def members_of(c: Cursor, rule_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {rule_id: [] for rule_id in rule_ids}
    if not rule_ids:
        return found
    marks = ", ".join(["%s"] * len(rule_ids))
    rows = c.execute(
        f"SELECT * FROM load_balancer_members WHERE rule_id IN ({marks}) ORDER BY vm_ip, vm_id",
        rule_ids,
    ).fetchall()
    for row in rows:
        found[row["rule_id"]].append(dict(row))
    return found


def static_nat_of(c: Cursor, public_ip_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The static NAT rule of each address that has one (any state)."""
    if not public_ip_ids:
        return {}
    marks = ", ".join(["%s"] * len(public_ip_ids))
    rows = c.execute(
        "SELECT public_ip_id, vm_id, vm_ip, state FROM network_rules "
        f"WHERE kind = 'StaticNat' AND public_ip_id IN ({marks})",
        public_ip_ids,
    ).fetchall()
    return {row["public_ip_id"]: dict(row) for row in rows}


def stickiness_of(c: Cursor, rule_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each rule's stickiness policies (any state), params as (name, value) pairs."""
    found: dict[str, list[dict[str, Any]]] = {rule_id: [] for rule_id in rule_ids}
    if not rule_ids:
        return found
    marks = ", ".join(["%s"] * len(rule_ids))
    rows = c.execute(
        f"SELECT * FROM lb_stickiness_policies WHERE rule_id IN ({marks}) ORDER BY name, id",
        rule_ids,
    ).fetchall()
    for row in rows:
        found[row["rule_id"]].append({**dict(row), "params": orjson.loads(row["params"])})
    return found


def policy_rule_id(c: Cursor, policy_id: str) -> str | None:
    row = c.execute(
        "SELECT rule_id FROM lb_stickiness_policies WHERE id = %s", (policy_id,)
    ).fetchone()
    return None if row is None else str(row["rule_id"])


READ_MODELS = (NetworkRulesProjection,)
