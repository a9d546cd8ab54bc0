"""Read models of VPCs: `vpc_offerings`, `vpcs`, `network_acl_lists` and `network_acl_items`
(the two default lists and their items are seeded by the migration, and by a rebuild's reset),
and the queries the VPC commands read."""

from __future__ import annotations

from typing import Any

import orjson

from domain.network_acl import DEFAULT_LISTS
from domain.vpc import Vpc
from domain.vpc_offering import VpcOffering
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

# Events made by the library's decorator: type checkers cannot see them.
OFFERING: Any = VpcOffering
VPC: Any = Vpc
_SEEDED = "1970-01-01T00:00:00+00:00"
_ITEM_COLUMNS = (
    "id, acl_id, vpc_id, number, protocol, traffic_type, action, start_port, end_port, cidrs, "
    "icmp_type, icmp_code, state, created"
)


def _insert_item(c: Cursor, t: Tables, vpc_id: str | None, item: dict[str, Any], when: str) -> None:
    values = (
        str(item["id"]),
        str(item["acl_id"]),
        vpc_id,
        item["number"],
        item["protocol"],
        item["traffic_type"],
        item["action"],
        item["start_port"],
        item["end_port"],
        ",".join(item["cidrs"]),
        item["icmp_type"],
        item["icmp_code"],
        item["state"],
        when,
    )
    marks = ", ".join(["%s"] * len(values))
    c.execute(f"INSERT INTO {t.network_acl_items} ({_ITEM_COLUMNS}) VALUES ({marks})", values)


class VpcsProjection(Projection):
    """Keeps VPC offerings, VPCs and their ACL lists and items."""

    name = "vpcs"
    summary = "VPC offerings, VPCs, network ACL lists and their items"
    tables = (
        "vpc_offerings",
        "vpcs",
        "network_acl_lists",
        "network_acl_items",
        "private_gateways",
        "static_routes",
    )

    def reset(self, cursor: Cursor, tables: Tables) -> None:
        """A rebuild starts where the migration starts: with the two default ACL lists."""
        for default in DEFAULT_LISTS.values():
            cursor.execute(
                f"INSERT INTO {tables.network_acl_lists} (id, vpc_id, name, description, "
                "created) VALUES (%s, NULL, %s, %s, %s)",
                (str(default.id), default.name, default.description, _SEEDED),
            )
            for item in default.items:
                _insert_item(cursor, tables, None, item.facts(), _SEEDED)

    # Offerings ----------------------------------------------------------------------------

    @on(OFFERING.Created)
    def offering_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.vpc_offerings} (id, name, display_text, services, state, "
            "is_default, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.terms["name"],
                e.terms["display_text"],
                orjson.dumps(e.terms["services"]).decode(),
                e.state,
                int(e.is_default),
                e.timestamp.isoformat(),
            ),
        )

    @on(OFFERING.Updated)
    def offering_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        names = {"name": "name", "display_text": "display_text", "state": "state"}
        for key, value in e.changes.items():
            if key in names:
                c.execute(
                    f"UPDATE {t.vpc_offerings} SET {names[key]} = %s WHERE id = %s",
                    (value, str(e.originator_id)),
                )

    @on(OFFERING.Deleted)
    def offering_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.vpc_offerings} SET removed = 1 WHERE id = %s", (str(e.originator_id),)
        )

    # VPCs ---------------------------------------------------------------------------------

    @on(VPC.Created)
    def vpc_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.vpcs} (id, name, display_text, zone_id, offering_id, account_id, "
            "domain_id, cidr, network_domain, services, state, created) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                e.display_text,
                str(e.zone_id),
                str(e.offering_id),
                str(e.owner_account_id),
                str(e.owner_domain_id),
                e.cidr,
                e.network_domain,
                orjson.dumps(e.services).decode(),
                "Enabled",
                e.timestamp.isoformat(),
            ),
        )

    @on(VPC.Updated)
    def vpc_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        for key, column in (("name", "name"), ("display_text", "display_text")):
            if key in e.changes:
                c.execute(
                    f"UPDATE {t.vpcs} SET {column} = %s WHERE id = %s",
                    (e.changes[key], str(e.originator_id)),
                )

    @on(VPC.Deleted)
    def vpc_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        vpc_id = str(e.originator_id)
        c.execute(f"UPDATE {t.vpcs} SET removed = 1 WHERE id = %s", (vpc_id,))
        c.execute(f"DELETE FROM {t.network_acl_items} WHERE vpc_id = %s", (vpc_id,))
        c.execute(f"DELETE FROM {t.network_acl_lists} WHERE vpc_id = %s", (vpc_id,))

    # ACL lists and items ------------------------------------------------------------------

    @on(VPC.AclListCreated)
    def acl_list_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.network_acl_lists} (id, vpc_id, name, description, created) "
            "VALUES (%s, %s, %s, %s, %s)",
            (str(e.acl_id), str(e.originator_id), e.name, e.description, e.timestamp.isoformat()),
        )

    @on(VPC.AclListDeleted)
    def acl_list_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.network_acl_items} WHERE acl_id = %s", (str(e.acl_id),))
        c.execute(f"DELETE FROM {t.network_acl_lists} WHERE id = %s", (str(e.acl_id),))

    @on(VPC.ItemAdded)
    def item_added(self, e: Any, c: Cursor, t: Tables) -> None:
        _insert_item(c, t, str(e.originator_id), e.item, e.timestamp.isoformat())

    @on(VPC.ItemChanged, VPC.ChangeSettled)
    def item_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        i = e.item
        c.execute(
            f"UPDATE {t.network_acl_items} SET number = %s, protocol = %s, traffic_type = %s, "
            "action = %s, start_port = %s, end_port = %s, cidrs = %s, icmp_type = %s, "
            "icmp_code = %s WHERE id = %s",
            (
                i["number"],
                i["protocol"],
                i["traffic_type"],
                i["action"],
                i["start_port"],
                i["end_port"],
                ",".join(i["cidrs"]),
                i["icmp_type"],
                i["icmp_code"],
                str(i["id"]),
            ),
        )

    @on(VPC.ItemActivated)
    def item_activated(self, e: Any, c: Cursor, t: Tables) -> None:
        _item_state(c, t, e.item_id, "Active")

    @on(VPC.ItemRevokeRequested)
    def item_revoking(self, e: Any, c: Cursor, t: Tables) -> None:
        _item_state(c, t, e.item_id, "Revoke")

    @on(VPC.ItemRemoved)
    def item_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.network_acl_items} WHERE id = %s", (str(e.item_id),))

    # Private gateways and static routes ---------------------------------------------------

    @on(VPC.GatewayAdded)
    def gateway_added(self, e: Any, c: Cursor, t: Tables) -> None:
        g = e.gateway
        c.execute(
            f"INSERT INTO {t.private_gateways} (id, vpc_id, physical_network_id, vlan, "
            "ip_address, gateway, netmask, source_nat, acl_id, state, created) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(g["id"]),
                str(e.originator_id),
                str(g["physical_network_id"]),
                g["vlan"],
                g["ip_address"],
                g["gateway"],
                g["netmask"],
                int(g["source_nat"]),
                str(g["acl_id"]),
                "Add",
                e.timestamp.isoformat(),
            ),
        )

    @on(VPC.GatewayAclReplaced)
    def gateway_acl_replaced(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.private_gateways} SET acl_id = %s WHERE id = %s",
            (str(e.acl_id), str(e.gateway_id)),
        )

    @on(VPC.RouteAdded)
    def route_added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.static_routes} (id, vpc_id, gateway_id, cidr, state, created) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (
                str(e.route_id),
                str(e.originator_id),
                str(e.gateway_id),
                e.cidr,
                "Add",
                e.timestamp.isoformat(),
            ),
        )

    @on(VPC.PathRevoking, VPC.PathActivated)
    def path_state(self, e: Any, c: Cursor, t: Tables) -> None:
        state = "Revoke" if type(e).__name__ == "PathRevoking" else "Active"
        table = t.private_gateways if e.kind == "gateway" else t.static_routes
        c.execute(f"UPDATE {table} SET state = %s WHERE id = %s", (state, str(e.path_id)))

    @on(VPC.PathRemoved)
    def path_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        table = t.private_gateways if e.kind == "gateway" else t.static_routes
        c.execute(f"DELETE FROM {table} WHERE id = %s", (str(e.path_id),))


def _item_state(c: Cursor, t: Tables, item_id: Any, state: str) -> None:
    c.execute(f"UPDATE {t.network_acl_items} SET state = %s WHERE id = %s", (state, str(item_id)))


# Queries -----------------------------------------------------------------------------------------

VPC_SELECT = (
    "SELECT v.*, a.name AS account_name, a.domain_path AS domain_path, "
    "a.domain_name AS domain_name, z.name AS zone_name FROM vpcs AS v "
    "JOIN accounts AS a ON a.id = v.account_id LEFT JOIN zones AS z ON z.id = v.zone_id"
)


def vpc_by_id(cursor: Cursor, vpc_id: str) -> dict[str, Any] | None:
    row = cursor.execute(VPC_SELECT + " WHERE v.id = %s AND v.removed = 0", (vpc_id,)).fetchone()
    return dict(row) if row else None


def tiers_of(cursor: Cursor, vpc_ids: list[str]) -> dict[str, list[str]]:
    """The ids of each VPC's live tiers, oldest first."""
    found: dict[str, list[str]] = {v: [] for v in vpc_ids}
    if not vpc_ids:
        return found
    marks = ", ".join(["%s"] * len(vpc_ids))
    rows = cursor.execute(
        f"SELECT id, vpc_id FROM networks WHERE removed = 0 AND vpc_id IN ({marks}) ORDER BY seq",
        vpc_ids,
    ).fetchall()
    for row in rows:
        found[row["vpc_id"]].append(row["id"])
    return found


def vpcs_using_offering(cursor: Cursor, offering_id: str) -> int:
    row = cursor.execute(
        "SELECT count(*) AS n FROM vpcs WHERE offering_id = %s AND removed = 0", (offering_id,)
    ).fetchone()
    return int(row["n"])


def acl_list_by_id(cursor: Cursor, acl_id: str) -> dict[str, Any] | None:
    row = cursor.execute(
        "SELECT l.*, v.account_id AS account_id, a.domain_path AS domain_path FROM "
        "network_acl_lists AS l LEFT JOIN vpcs AS v ON v.id = l.vpc_id "
        "LEFT JOIN accounts AS a ON a.id = v.account_id WHERE l.id = %s",
        (acl_id,),
    ).fetchone()
    return dict(row) if row else None


def acl_item_by_id(cursor: Cursor, item_id: str) -> dict[str, Any] | None:
    row = cursor.execute(
        "SELECT i.*, v.account_id AS account_id, a.domain_path AS domain_path FROM "
        "network_acl_items AS i LEFT JOIN vpcs AS v ON v.id = i.vpc_id "
        "LEFT JOIN accounts AS a ON a.id = v.account_id WHERE i.id = %s",
        (item_id,),
    ).fetchone()
    return dict(row) if row else None


def gateway_by_id(cursor: Cursor, gateway_id: str) -> dict[str, Any] | None:
    row = cursor.execute(GATEWAY_SELECT + " WHERE g.id = %s", (gateway_id,)).fetchone()
    return dict(row) if row else None


GATEWAY_SELECT = (
    "SELECT g.*, v.account_id, v.domain_id, v.zone_id, a.name AS account_name, "
    "a.domain_path AS domain_path, a.domain_name AS domain_name, z.name AS zone_name "
    "FROM private_gateways AS g JOIN vpcs AS v ON v.id = g.vpc_id "
    "JOIN accounts AS a ON a.id = v.account_id LEFT JOIN zones AS z ON z.id = v.zone_id"
)
ROUTE_SELECT = (
    "SELECT r.*, v.account_id, v.domain_id, a.name AS account_name, "
    "a.domain_path AS domain_path, a.domain_name AS domain_name "
    "FROM static_routes AS r JOIN vpcs AS v ON v.id = r.vpc_id "
    "JOIN accounts AS a ON a.id = v.account_id"
)


def route_by_id(cursor: Cursor, route_id: str) -> dict[str, Any] | None:
    row = cursor.execute(ROUTE_SELECT + " WHERE r.id = %s", (route_id,)).fetchone()
    return dict(row) if row else None


READ_MODELS = (VpcsProjection,)
