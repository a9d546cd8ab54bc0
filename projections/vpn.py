"""The remote access VPN read model (listRemoteAccessVpns, listVpnUsers); it holds no secret."""

from __future__ import annotations

from typing import Any

from domain.vpn import RemoteAccessVpn, VpnUser
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

VPN: Any = RemoteAccessVpn  # events made by the library's decorator: type checkers cannot see them
USER: Any = VpnUser


def _id(e: Any) -> str:
    return str(e.originator_id)


class RemoteAccessVpnsProjection(Projection):
    """Keeps `remote_access_vpns` and `vpn_users`."""

    name = "remote_access_vpns"
    summary = "remote access VPNs and their users"
    tables = ("remote_access_vpns", "vpn_users")

    @on(VPN.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.remote_access_vpns} (id, public_ip_id, public_ip, network_id, "
            "account_id, domain_id, zone_id, ip_range, state, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                str(e.public_ip_id),
                e.public_ip,
                "" if e.network_id is None else str(e.network_id),  # a VPC's: none
                str(e.owner_account_id),
                str(e.owner_domain_id),
                str(e.zone_id),
                e.ip_range,
                "Added",
                e.timestamp.isoformat(),
            ),
        )

    @on(VPN.Applied, VPN.ApplyFailed)
    def settled(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.remote_access_vpns} SET state = %s WHERE id = %s", (e.state, _id(e)))

    @on(VPN.VpcServed)
    def vpc_served(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.remote_access_vpns} SET vpc_id = %s WHERE id = %s",
            (str(e.vpc_id), _id(e)),
        )

    @on(VPN.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.remote_access_vpns} SET state = 'Removed' WHERE id = %s", (_id(e),))

    @on(USER.Added)
    def user_added(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.vpn_users} (id, username, account_id, domain_id, state, created) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (
                _id(e),
                e.username,
                str(e.owner_account_id),
                str(e.owner_domain_id),
                "Add",
                e.timestamp.isoformat(),
            ),
        )

    def _user(self, c: Cursor, t: Tables, e: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %s" for name in columns)
        c.execute(
            f"UPDATE {t.vpn_users} SET {assignments} WHERE id = %s", (*columns.values(), _id(e))
        )

    @on(USER.AddedAgain)
    def user_added_again(self, e: Any, c: Cursor, t: Tables) -> None:
        self._user(c, t, e, state="Add", removed=0, created=e.timestamp.isoformat())

    @on(USER.Activated)
    def user_activated(self, e: Any, c: Cursor, t: Tables) -> None:
        self._user(c, t, e, state="Active")

    @on(USER.Revoked)
    def user_revoked(self, e: Any, c: Cursor, t: Tables) -> None:
        self._user(c, t, e, state="Revoke")

    @on(USER.Dropped)
    def user_dropped(self, e: Any, c: Cursor, t: Tables) -> None:
        self._user(c, t, e, removed=1)


def live_vpns_of_account(cursor: Cursor, account_id: str) -> list[dict[str, Any]]:
    rows = cursor.execute(
        "SELECT * FROM remote_access_vpns WHERE account_id = %s AND state <> 'Removed' "
        "ORDER BY created, id",
        (account_id,),
    ).fetchall()
    return [dict(r) for r in rows]


def vpn_users_of_account(cursor: Cursor, account_id: str) -> list[str]:
    """Ids of the account's users that are not removed (revoked ones included)."""
    rows = cursor.execute(
        "SELECT id FROM vpn_users WHERE account_id = %s AND removed = 0 ORDER BY created, id",
        (account_id,),
    ).fetchall()
    return [r["id"] for r in rows]


READ_MODELS = (RemoteAccessVpnsProjection,)
