"""Read models of site-to-site VPNs: `vpn_gateways` (listVpnGateways) and `vpn_connections`
(listVpnConnections, a row per connection not removed, in its state); no pre-shared key."""

from __future__ import annotations

from typing import Any

from domain.site_to_site_vpn import ConnectionState, VpnConnection, VpnGateway
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

GATEWAY: Any = VpnGateway  # events made by the library's decorator
CONNECTION: Any = VpnConnection


def _id(e: Any) -> str:
    return str(e.originator_id)


class SiteToSiteVpnProjection(Projection):
    """One row per VPN gateway, one per live VPN connection."""

    name = "site_to_site_vpn"
    summary = "site-to-site VPN gateways of VPCs and their connections"
    tables = ("vpn_gateways", "vpn_connections")

    @on(GATEWAY.Created)
    def gateway_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.vpn_gateways} (id, vpc_id, public_ip_id, public_ip, account_id, "
            "domain_id, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                str(e.vpc_id),
                str(e.public_ip_id),
                e.public_ip,
                str(e.account_id),
                str(e.domain_id),
                e.timestamp.isoformat(),
            ),
        )

    @on(GATEWAY.Reopened)
    def gateway_reopened(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.vpn_gateways} SET removed = 0, public_ip_id = %s, public_ip = %s, "
            "created = %s WHERE id = %s",
            (str(e.public_ip_id), e.public_ip, e.timestamp.isoformat(), _id(e)),
        )

    @on(GATEWAY.Deleted)
    def gateway_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.vpn_gateways} SET removed = 1 WHERE id = %s", (_id(e),))

    @on(CONNECTION.Created)
    def connection_created(self, e: Any, c: Cursor, t: Tables) -> None:
        ends = e.ends
        c.execute(
            f"INSERT INTO {t.vpn_connections} (id, gateway_id, vpc_id, customer_gateway_id, "
            "account_id, domain_id, public_ip, peer_ip, peer_cidrs, ike_policy, esp_policy, "
            "ike_lifetime, esp_lifetime, dpd, passive, state, created) VALUES (%s, %s, %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                str(e.gateway_id),
                str(e.vpc_id),
                str(e.customer_gateway_id),
                str(e.account_id),
                str(e.domain_id),
                ends["public_ip"],
                ends["peer_ip"],
                ends["peer_cidrs"],
                ends["ike_policy"],
                ends["esp_policy"],
                ends["ike_lifetime"],
                ends["esp_lifetime"],
                int(ends["dpd"]),
                int(ends["passive"]),
                ConnectionState.PENDING,
                e.timestamp.isoformat(),
            ),
        )

    @on(CONNECTION.ApplyRequested)
    def applying(self, e: Any, c: Cursor, t: Tables) -> None:
        if not e.removing:
            _state(c, t, e, ConnectionState.PENDING)

    @on(CONNECTION.Answered)
    def answered(self, e: Any, c: Cursor, t: Tables) -> None:
        _state(c, t, e, e.state)

    @on(CONNECTION.TunnelChecked)
    def tunnel_checked(self, e: Any, c: Cursor, t: Tables) -> None:
        _state(c, t, e, e.state)

    @on(CONNECTION.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        _state(c, t, e, ConnectionState.REMOVED)


def _state(c: Cursor, t: Tables, e: Any, state: str) -> None:
    if state == ConnectionState.REMOVED:
        c.execute(f"DELETE FROM {t.vpn_connections} WHERE id = %s", (_id(e),))
    else:
        c.execute(f"UPDATE {t.vpn_connections} SET state = %s WHERE id = %s", (state, _id(e)))


def tunnel_check_targets(cursor: Cursor) -> list[dict[str, Any]]:
    """Running VPC routers (not busy) with the far gateways of their VPC's connections that
    are Connected or Disconnected, the ones 4.3's router check asks about."""
    rows = cursor.execute(
        "SELECT r.id, r.instance_name, r.host_id, c.peer_ip FROM system_vms AS r "
        "JOIN vpn_connections AS c ON c.vpc_id = r.vpc_id "
        "WHERE r.role = 'VIRTUAL_ROUTER' AND r.removed = 0 AND r.state = 'Running' "
        "AND r.pending_job_id IS NULL AND r.host_id IS NOT NULL AND c.state IN (%s, %s) "
        "ORDER BY r.seq, c.peer_ip",
        (ConnectionState.CONNECTED, ConnectionState.DISCONNECTED),
    ).fetchall()
    targets: dict[str, dict[str, Any]] = {}
    for row in rows:
        target = targets.setdefault(row["id"], {**dict(row), "peers": []})
        if row["peer_ip"] not in target["peers"]:
            target["peers"].append(row["peer_ip"])
    return list(targets.values())


READ_MODELS = (SiteToSiteVpnProjection,)
